//! HMAC-SHA256 request signing as Azure Communication Services does it.
//!
//! The algorithm is the one of `createCommunicationAccessKeyCredentialPolicy` in
//! `@azure/communication-common` (see `docs/official-sdk.md` §3.1):
//!
//! ```text
//! string-to-sign = VERB "\n" path-and-query "\n" x-ms-date ";" host ";" content-hash
//! signature      = base64(HMAC-SHA256(base64decode(access key), string-to-sign))
//! ```
//!
//! The client and the emulator both use this module, so a symmetric bug would pass their
//! shared tests: the unit tests below therefore pin it to the official test vectors.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use url::Url;

type HmacSha256 = Hmac<Sha256>;

/// The value of the `SignedHeaders` part of the `Authorization` header. The order is the
/// official one, although the string-to-sign lists the values as date, host, hash.
pub const SIGNED_HEADERS: &str = "x-ms-date;host;x-ms-content-sha256";

/// The prefix of an HMAC `Authorization` header value, up to the signature.
pub const AUTHORIZATION_PREFIX: &str =
  "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=";

/// `base64(sha256(body))`, the value of `x-ms-content-sha256`.
pub fn content_hash(body: &[u8]) -> String {
  STANDARD.encode(Sha256::digest(body))
}

/// Decodes an access key the way Node's `Buffer.from(key, "base64")` does: leniently.
///
/// Characters outside the base64 alphabets (standard and URL-safe) are skipped, decoding
/// stops at the first `=`, and a trailing partial group contributes only its whole bytes.
/// The official client never rejects a key for its encoding, so neither do we: a wrong key
/// is answered by the service with 401, as with the official client.
pub fn decode_access_key(key: &str) -> Vec<u8> {
  let mut out = Vec::with_capacity(key.len() * 3 / 4);
  let mut buffer: u32 = 0;
  let mut bits = 0u32;
  for byte in key.bytes() {
    let value = match byte {
      b'A'..=b'Z' => byte - b'A',
      b'a'..=b'z' => byte - b'a' + 26,
      b'0'..=b'9' => byte - b'0' + 52,
      b'+' | b'-' => 62,
      b'/' | b'_' => 63,
      b'=' => break,
      _ => continue,
    };
    buffer = (buffer << 6) | u32::from(value);
    bits += 6;
    if bits >= 8 {
      bits -= 8;
      out.push((buffer >> bits) as u8);
      buffer &= (1 << bits) - 1;
    }
  }
  out
}

/// The path and query as the official client signs them: the URL's path as it is
/// percent-encoded, and the query re-serialised as `URLSearchParams.toString()` does
/// (`%20` becomes `+`, `~` becomes `%7E`, order kept). See §3.1 and vector C of §3.3.
pub fn path_and_query(url: &Url) -> String {
  let path = url.path();
  match url.query() {
    Some(query) if !query.is_empty() => {
      let reserialized = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(query.as_bytes()))
        .finish();
      if reserialized.is_empty() {
        path.to_owned()
      } else {
        format!("{path}?{reserialized}")
      }
    }
    _ => path.to_owned(),
  }
}

/// The `Host` value that is signed and sent: host name, and the port only when it is not
/// the scheme's default (`url.host` in JS).
pub fn host(url: &Url) -> String {
  let name = url.host_str().unwrap_or_default();
  match url.port() {
    Some(port) => format!("{name}:{port}"),
    None => name.to_owned(),
  }
}

/// Builds the string-to-sign from its parts.
pub fn string_to_sign(
  method: &str,
  path_and_query: &str,
  date: &str,
  host: &str,
  content_hash: &str,
) -> String {
  let method = method.to_ascii_uppercase();
  format!("{method}\n{path_and_query}\n{date};{host};{content_hash}")
}

/// `base64(HMAC-SHA256(key, string_to_sign))`.
pub fn signature(key: &[u8], string_to_sign: &str) -> String {
  STANDARD.encode(mac(key, string_to_sign).finalize().into_bytes())
}

/// The full `Authorization` header value for a signature.
pub fn authorization(signature: &str) -> String {
  format!("{AUTHORIZATION_PREFIX}{signature}")
}

/// Checks a base64 signature against the string-to-sign in constant time.
///
/// Used by the emulator; returns `false` for a signature that is not valid base64.
pub fn verify(key: &[u8], string_to_sign: &str, provided_signature: &str) -> bool {
  match STANDARD.decode(provided_signature) {
    Ok(provided) => mac(key, string_to_sign).verify_slice(&provided).is_ok(),
    Err(_) => false,
  }
}

#[allow(clippy::expect_used)]
fn mac(key: &[u8], string_to_sign: &str) -> HmacSha256 {
  // HMAC hashes keys longer than a block and pads shorter ones: every length is valid.
  let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length"); // allow-unwrap
  mac.update(string_to_sign.as_bytes());
  mac
}

/// The headers that sign one request, computed by [`sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
  /// `Host`.
  pub host: String,
  /// `x-ms-date`.
  pub date: String,
  /// `x-ms-content-sha256`.
  pub content_hash: String,
  /// `Authorization`.
  pub authorization: String,
}

/// Signs a request: the headers to send for `method url` with `body` at `date` (an
/// IMF-fixdate such as `Thu, 01 Jan 2026 00:00:00 GMT`).
pub fn sign(key: &[u8], method: &str, url: &Url, body: &[u8], date: &str) -> SignedHeaders {
  sign_parts(key, method, &path_and_query(url), &host(url), body, date)
}

/// [`sign`] from the path-and-query and host already computed (as [`path_and_query`] and
/// [`host`] give them), for a client that signs several attempts of one request.
pub fn sign_parts(
  key: &[u8],
  method: &str,
  path_and_query: &str,
  host: &str,
  body: &[u8],
  date: &str,
) -> SignedHeaders {
  let content_hash = content_hash(body);
  let to_sign = string_to_sign(method, path_and_query, date, host, &content_hash);
  let authorization = authorization(&signature(key, &to_sign));
  SignedHeaders {
    host: host.to_owned(),
    date: date.to_owned(),
    content_hash,
    authorization,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const EMPTY_HASH: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

  fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
  }

  // §3.2: CC/test/internal/cryptoUtils.spec.ts
  #[test]
  fn official_hash_and_hmac_vectors() {
    assert_eq!(
      content_hash(b"banana"),
      "tJPUg2Sv5E0RwBZc9HCkFk0eJgmRHvmYvoaNRq3j3k4="
    );
    assert_eq!(
      content_hash("😀".as_bytes()),
      "8EQ6NCxe9UeDoRG1G6Vsk45HTDIyTZDDpgycjjo34tk="
    );
    let key = decode_access_key("pw==");
    assert_eq!(
      signature(&key, "banana"),
      "88EC05aAS9iXnaimtNO78JLjiPtfWryQB/5QYEzEsu8="
    );
    assert_eq!(
      signature(&key, "😀"),
      "1rudJKjn2Zi+3hRrBG29wIF6pD6YyAeQR1ZcFtXoKAU="
    );
    assert_eq!(content_hash(b""), EMPTY_HASH);
  }

  // §3.2: CC/test/public/communicationKeyCredentialPolicy.spec.ts
  #[test]
  fn official_policy_vectors() {
    let key = decode_access_key("pw==");
    let date = "Wed, 13 Apr 2022 18:09:12 GMT";
    let cases = [
      (
        "https://example.com/testPath?testQuery=test",
        "DGdgwggJWnQyc6EHjR/Vbqg1ES64KpD6U2XwTDDj3tU=",
      ),
      (
        "https://example.com/testPath",
        "+6tWkg3lNKVjQHHmxkdGQcJjUgzclsWTMebnuCz1ngU=",
      ),
      (
        "https://example.com",
        "X2lD3c1+T+BNWQrZHoVV5SSECO9sAokjs10ATeB5qm4=",
      ),
    ];
    for (u, expected) in cases {
      let signed = sign(&key, "GET", &url(u), b"", date);
      assert_eq!(signed.content_hash, EMPTY_HASH);
      assert_eq!(signed.host, "example.com");
      assert_eq!(
        signed.authorization,
        format!(
          "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={expected}"
        ),
        "{u}"
      );
    }
  }

  // §3.3 A: getToken with a custom expiry
  #[test]
  fn worked_vector_issue_token() {
    let key = decode_access_key("dGVzdGtleQ==");
    assert_eq!(key, b"testkey");
    let u = url("https://contoso.communication.azure.com/identities/8%3Aacs%3Aabc_def/:issueAccessToken?api-version=2023-10-01");
    let body = br#"{"scopes":["chat"],"expiresInMinutes":60}"#;
    let date = "Thu, 01 Jan 2026 00:00:00 GMT";
    assert_eq!(
      string_to_sign("post", &path_and_query(&u), date, &host(&u), &content_hash(body)),
      "POST\n/identities/8%3Aacs%3Aabc_def/:issueAccessToken?api-version=2023-10-01\nThu, 01 Jan 2026 00:00:00 GMT;contoso.communication.azure.com;E55T2AR1et0dXg9viVUjwxjce4gxp+nmLcQffc3NPsA="
    );
    let signed = sign(&key, "POST", &u, body, date);
    assert_eq!(
      signed.content_hash,
      "E55T2AR1et0dXg9viVUjwxjce4gxp+nmLcQffc3NPsA="
    );
    assert!(signed
      .authorization
      .ends_with("Signature=LEH1QAAT0w6M/GOwpyQkpJEwtrjhFKQdgcvdqJTG5G0="));
  }

  // §3.3 B: createUser, no body
  #[test]
  fn worked_vector_create_user() {
    let key = decode_access_key("dGVzdGtleQ==");
    let u = url("https://contoso.communication.azure.com/identities?api-version=2023-10-01");
    let signed = sign(&key, "POST", &u, b"", "Thu, 01 Jan 2026 00:00:00 GMT");
    assert_eq!(signed.content_hash, EMPTY_HASH);
    assert!(signed
      .authorization
      .ends_with("Signature=8K6WtyAytAVdSIanBgYhlRSZp+ZMxA1u6sXGqzOnTlY="));
  }

  // §3.3 C: non-default port kept in Host, query re-serialised as URLSearchParams does
  #[test]
  fn worked_vector_port_and_query_normalisation() {
    let key = decode_access_key("dGVzdGtleQ==");
    let u = url("https://contoso.communication.azure.com:8443/x?b=2&a=1&sp=a%20b&e=%7E");
    assert_eq!(host(&u), "contoso.communication.azure.com:8443");
    assert_eq!(path_and_query(&u), "/x?b=2&a=1&sp=a+b&e=%7E");
    let signed = sign(&key, "GET", &u, b"", "Thu, 01 Jan 2026 00:00:00 GMT");
    assert!(signed
      .authorization
      .ends_with("Signature=YWOmhTa2QP+2WRB3Y2KH6fQukWX36pmWo/i0SMGybBE="));
  }

  #[test]
  fn default_port_is_dropped_from_host() {
    assert_eq!(host(&url("https://r.com:443/")), "r.com");
    assert_eq!(host(&url("http://127.0.0.1:80/")), "127.0.0.1");
    assert_eq!(host(&url("http://127.0.0.1:8990/")), "127.0.0.1:8990");
    assert_eq!(host(&url("http://[::1]:8990/")), "[::1]:8990");
  }

  #[test]
  fn recorded_request_hash_matches() {
    // ID/recordings/.../recording_successfully_creates_a_user_and_token_ltchatjoinscopegt.json
    assert_eq!(
      content_hash(br#"{"createTokenWithScopes":["chat.join"]}"#),
      "1b0m9cm8U+EsAyHEZ8WEs+XtdS/t2VGB3uUS2rIfOIk="
    );
  }

  #[test]
  fn key_decoding_is_lenient_like_node() {
    assert_eq!(decode_access_key("dGVzdGtleQ"), b"testkey");
    assert_eq!(decode_access_key("dGVz dGtl\neQ=="), b"testkey");
    assert_eq!(decode_access_key("dGVzdGtleQ==garbage"), b"testkey");
    assert_eq!(decode_access_key("-_-_"), vec![0xfb, 0xff, 0xbf]);
    assert_eq!(decode_access_key(""), Vec::<u8>::new());
  }

  // The emulator checks requests with `verify`: it must accept the official signatures.
  #[test]
  fn verify_accepts_the_official_signatures() {
    let key = decode_access_key("pw==");
    let date = "Wed, 13 Apr 2022 18:09:12 GMT";
    for (u, official) in [
      (
        "https://example.com/testPath?testQuery=test",
        "DGdgwggJWnQyc6EHjR/Vbqg1ES64KpD6U2XwTDDj3tU=",
      ),
      (
        "https://example.com/testPath",
        "+6tWkg3lNKVjQHHmxkdGQcJjUgzclsWTMebnuCz1ngU=",
      ),
    ] {
      let u = url(u);
      let to_sign = string_to_sign("GET", &path_and_query(&u), date, &host(&u), EMPTY_HASH);
      assert!(verify(&key, &to_sign, official));
      assert!(!verify(&decode_access_key("pX=="), &to_sign, official));
    }
    assert!(verify(
      &decode_access_key("pw=="),
      "banana",
      "88EC05aAS9iXnaimtNO78JLjiPtfWryQB/5QYEzEsu8="
    ));
  }

  #[test]
  fn verify_accepts_only_the_right_signature() {
    let key = decode_access_key("dGVzdGtleQ==");
    let sig = signature(&key, "hello");
    assert!(verify(&key, "hello", &sig));
    assert!(!verify(&key, "hello!", &sig));
    assert!(!verify(b"other", "hello", &sig));
    assert!(!verify(&key, "hello", "not base64!"));
    assert!(!verify(&key, "hello", ""));
  }
}
