//! The emulator's access tokens: JWTs with the claims of real ACS tokens
//! (`docs/official-sdk.md` §6.3), signed HS256 with a key the emulator generates.
//!
//! Real tokens are RS256 with the service's keys; clients never verify them, they only read
//! `exp` (the credential) or the response's `expiresOn`. HS256 with a local key is enough for
//! [`crate::Emulator::verify_token`] to tell a token it issued from a forged one.

use acs_identity::token::AcsTokenClaims;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// `base64url({"alg":"HS256","kid":"1","typ":"JWT"})`; a unit test checks it.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjEiLCJ0eXAiOiJKV1QifQ";

/// The `scp` claim of recorded tokens (§6.3).
pub(crate) const SCP: u64 = 1792;

/// Where the emulated resource says its data lives, as real tokens' `resourceLocation`.
pub(crate) const RESOURCE_LOCATION: &str = "unitedstates";

/// The claims of an emulator token: the real ones plus the issue time in milliseconds.
///
/// `iat` has whole seconds; revocation must tell a token issued in the same second just
/// after `revokeAccessTokens` (valid) from one issued just before (revoked), so the
/// emulator compares `iatMs` with the identity's revocation time instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EmulatorClaims {
  #[serde(flatten)]
  pub(crate) acs: AcsTokenClaims,
  #[serde(rename = "iatMs")]
  pub(crate) iat_ms: i64,
}

/// A fresh 32-byte signing key from the operating system's generator.
pub(crate) fn new_signing_key() -> Result<Vec<u8>, String> {
  let mut key = vec![0u8; 32];
  getrandom::fill(&mut key).map_err(|e| format!("cannot generate a signing key: {e}"))?;
  Ok(key)
}

/// Why a token is not one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invalid {
  /// Not three base64url parts with our claims in the middle.
  Malformed,
  /// Well-formed, but not signed with our key.
  Signature,
}

/// Signs and checks tokens with one key.
#[derive(Clone)]
pub(crate) struct Signer {
  // Keyed once; cloning the state per token saves re-hashing the key.
  mac: HmacSha256,
}

impl std::fmt::Debug for Signer {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("Signer { key: <redacted> }")
  }
}

impl Signer {
  /// A signer for `key`. HMAC accepts keys of any length, so this fails only if the `hmac`
  /// crate ever changes that.
  pub(crate) fn new(key: &[u8]) -> Result<Self, String> {
    let mac =
      HmacSha256::new_from_slice(key).map_err(|e| format!("cannot key HMAC-SHA256: {e}"))?;
    Ok(Self { mac })
  }

  /// The signed JWT for `claims`.
  pub(crate) fn mint(&self, claims: &EmulatorClaims) -> String {
    // Serialising a struct of strings and integers cannot fail.
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut token = String::with_capacity(HEADER.len() + payload.len() * 4 / 3 + 48);
    token.push_str(HEADER);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let mut mac = self.mac.clone();
    mac.update(token.as_bytes());
    let signature = mac.finalize().into_bytes();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
  }

  /// The claims of a token this signer issued. The signature is compared in constant time.
  pub(crate) fn verify(&self, token: &str) -> Result<EmulatorClaims, Invalid> {
    let (signed, signature) = token.rsplit_once('.').ok_or(Invalid::Malformed)?;
    let (header, payload) = signed.split_once('.').ok_or(Invalid::Malformed)?;
    if header.is_empty() || payload.contains('.') {
      return Err(Invalid::Malformed);
    }
    let payload = URL_SAFE_NO_PAD
      .decode(payload)
      .map_err(|_| Invalid::Malformed)?;
    let claims: EmulatorClaims =
      serde_json::from_slice(&payload).map_err(|_| Invalid::Malformed)?;
    let signature = URL_SAFE_NO_PAD
      .decode(signature.trim_end_matches('='))
      .map_err(|_| Invalid::Signature)?;
    let mut mac = self.mac.clone();
    mac.update(signed.as_bytes());
    mac
      .verify_slice(&signature)
      .map_err(|_| Invalid::Signature)?;
    Ok(claims)
  }
}

/// The claims the Teams exchange reads from an Entra ID access token.
///
/// v1 tokens name the client `appid`; v2 tokens name it `azp`.
#[derive(Debug, Deserialize)]
pub(crate) struct EntraClaims {
  #[serde(default)]
  pub(crate) appid: Option<String>,
  #[serde(default)]
  pub(crate) azp: Option<String>,
  #[serde(default)]
  pub(crate) oid: Option<String>,
  #[serde(default)]
  pub(crate) exp: Option<serde_json::Number>,
}

impl EntraClaims {
  /// The application id: `appid`, else `azp`.
  pub(crate) fn app_id(&self) -> Option<&str> {
    self.appid.as_deref().or(self.azp.as_deref())
  }

  /// `exp` in whole seconds (Entra writes an integer; a fraction is truncated).
  pub(crate) fn exp_seconds(&self) -> Option<i64> {
    let exp = self.exp.as_ref()?;
    exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn claims() -> EmulatorClaims {
    EmulatorClaims {
      acs: AcsTokenClaims {
        skypeid: "acs:res_1".into(),
        scp: SCP,
        csi: "1700000000".into(),
        iat: 1_700_000_000,
        exp: 1_700_086_400,
        acs_scope: "chat,voip".into(),
        resource_id: "res".into(),
        resource_location: Some(RESOURCE_LOCATION.into()),
      },
      iat_ms: 1_700_000_000_123,
    }
  }

  #[test]
  fn the_header_is_the_documented_one() {
    assert_eq!(
      URL_SAFE_NO_PAD.decode(HEADER).unwrap(),
      br#"{"alg":"HS256","kid":"1","typ":"JWT"}"#
    );
  }

  #[test]
  fn minted_tokens_verify_and_carry_the_real_claims() {
    let signer = Signer::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let token = signer.mint(&claims());
    assert_eq!(signer.verify(&token).unwrap(), claims());
    // The core client reads them like service tokens.
    let decoded = acs_identity::token::decode_access_token(&token).unwrap();
    assert_eq!(decoded.communication_user_id, "8:acs:res_1");
    assert_eq!(decoded.scopes, ["chat", "voip"]);
    assert_eq!(decoded.expires_on, 1_700_086_400);
    let payload: serde_json::Value = acs_identity::token::decode_jwt_payload(&token).unwrap();
    for key in [
      "skypeid",
      "scp",
      "csi",
      "iat",
      "exp",
      "acsScope",
      "resourceId",
      "resourceLocation",
    ] {
      assert!(payload.get(key).is_some(), "{key}");
    }
  }

  #[test]
  fn forged_and_broken_tokens_are_told_apart() {
    let signer = Signer::new(b"key one").unwrap();
    let other = Signer::new(b"key two").unwrap();
    let token = other.mint(&claims());
    assert_eq!(signer.verify(&token), Err(Invalid::Signature));
    // a tampered payload with the original signature
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut changed = claims();
    changed.acs.exp += 1;
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&changed).unwrap());
    parts[1] = &forged_payload;
    let ours = signer.mint(&claims());
    let forged = format!(
      "{}.{}.{}",
      parts[0],
      parts[1],
      ours.rsplit('.').next().unwrap()
    );
    assert_eq!(signer.verify(&forged), Err(Invalid::Signature));
    for bad in ["", "abc", "a.b", "a.b.c", "a.b.c.d", ".e30.", "x.e30.sig"] {
      assert_eq!(signer.verify(bad), Err(Invalid::Malformed), "{bad}");
    }
    assert!(format!("{signer:?}").contains("redacted"));
  }
}
