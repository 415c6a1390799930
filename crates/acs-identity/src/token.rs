//! Reading the claims of an ACS access token without a network call.
//!
//! ACS tokens are JWTs whose payload carries `skypeid` (the identity id without its `8:`),
//! `acsScope` (comma-separated scopes), `iat`, `exp` and `resourceId`
//! (`docs/official-sdk.md` §6.3). The signature is not checked: only the service can.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The claims of an ACS access token, as the service writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcsTokenClaims {
  /// The identity id without its `8:` prefix, e.g. `acs:<resource>_<guid>`.
  pub skypeid: String,
  /// A bit set of granted capabilities.
  #[serde(default)]
  pub scp: u64,
  /// The issue time as a decimal string of seconds.
  #[serde(default)]
  pub csi: String,
  /// Issued at, seconds since the Unix epoch.
  pub iat: i64,
  /// Expires at, seconds since the Unix epoch.
  pub exp: i64,
  /// Comma-separated scopes, e.g. `chat,voip`.
  #[serde(default)]
  pub acs_scope: String,
  /// The ACS resource id.
  #[serde(default)]
  pub resource_id: String,
  /// The resource's data location.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub resource_location: Option<String>,
}

/// What [`decode_access_token`] reads from a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedAccessToken {
  /// The identity the token was issued for (`8:` + `skypeid`).
  pub communication_user_id: String,
  /// The scopes (from `acsScope`).
  pub scopes: Vec<String>,
  /// `iat`, seconds since the Unix epoch.
  pub issued_at: i64,
  /// `exp`, seconds since the Unix epoch.
  pub expires_on: i64,
  /// The ACS resource id.
  pub resource_id: String,
}

/// Splits a JWT and decodes its payload as JSON.
///
/// # Errors
/// [`crate::ErrorKind::InvalidArgument`] when the text is not three base64url parts with a
/// JSON object in the middle. The message never quotes the token.
pub fn decode_jwt_payload<T: for<'de> Deserialize<'de>>(token: &str) -> Result<T> {
  let mut parts = token.split('.');
  let (Some(_header), Some(payload), Some(_signature), None) =
    (parts.next(), parts.next(), parts.next(), parts.next())
  else {
    return Err(Error::invalid_argument(
      "invalid token: expected a JWT of three dot-separated parts",
    ));
  };
  let bytes = URL_SAFE_NO_PAD
    .decode(payload.trim_end_matches('='))
    .map_err(|_| Error::invalid_argument("invalid token: the payload is not base64url"))?;
  serde_json::from_slice(&bytes).map_err(|e| {
    Error::invalid_argument(if e.to_string().starts_with("missing field") {
      format!(
        "invalid token: {}",
        e.to_string().split(" at line").next().unwrap_or_default()
      )
    } else {
      "invalid token: the payload is not the expected JSON".to_owned()
    })
  })
}

/// Reads an ACS access token's claims (`decodeAccessToken` in JS).
pub fn decode_access_token(token: &str) -> Result<DecodedAccessToken> {
  let claims: AcsTokenClaims = decode_jwt_payload(token)?;
  Ok(DecodedAccessToken {
    communication_user_id: format!("8:{}", claims.skypeid),
    scopes: claims
      .acs_scope
      .split(',')
      .map(str::trim)
      .filter(|s| !s.is_empty())
      .map(str::to_owned)
      .collect(),
    issued_at: claims.iat,
    expires_on: claims.exp,
    resource_id: claims.resource_id,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  fn jwt(payload: &str) -> String {
    format!(
      "{}.{}.sig",
      URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
      URL_SAFE_NO_PAD.encode(payload)
    )
  }

  #[test]
  fn decodes_the_recorded_token_shape() {
    // the sanitized claims of §6.3
    let token = jwt(
      r#"{"skypeid":"acs:sanitized","scp":1792,"csi":"1657788332","exp":1657874732,"acsScope":"chat,voip","resourceId":"sanitized","iat":1657788332}"#,
    );
    let decoded = decode_access_token(&token).unwrap();
    assert_eq!(decoded.communication_user_id, "8:acs:sanitized");
    assert_eq!(decoded.scopes, ["chat", "voip"]);
    assert_eq!(decoded.issued_at, 1_657_788_332);
    assert_eq!(decoded.expires_on, 1_657_874_732);
    assert_eq!(decoded.resource_id, "sanitized");
  }

  #[test]
  fn rejects_non_tokens_without_quoting_them() {
    for bad in [
      "",
      "IAmNotAToken",
      "a.b",
      "a.b.c.d",
      "a.!!!.c",
      &jwt("[1]"),
      &jwt(r#"{"exp":1}"#),
    ] {
      let err = decode_access_token(bad).unwrap_err();
      assert!(err.to_string().starts_with("invalid token"), "{bad}: {err}");
      if bad.len() > 3 {
        assert!(!err.to_string().contains(bad));
      }
    }
  }
}
