//! Authentication of a request, as the service does it (`docs/official-sdk.md` §3.1):
//! HMAC-SHA256 with the resource's primary or secondary key, or a bearer token the
//! emulator was told to accept.
//!
//! Every refusal is a 401 whose message says what is wrong with the request. It never
//! contains the expected signature, a key or a token. With `ACS_EMULATOR_DEBUG=1` the
//! string-to-sign the emulator computed is printed to stderr, so a developer can diff it
//! against the one their client signed (Azurite's habit); that string holds only what the
//! request itself sent.

use std::time::{Duration, SystemTime};

use acs_identity::auth::hmac;
use axum::http::{header, HeaderMap, Method, Uri};
use url::Url;

use crate::error::ApiError;
use crate::state::Shared;

/// How far `x-ms-date` may be from the emulator's clock, either way: the 15 minutes of the
/// identical App Configuration scheme (`docs/users-and-peers.md` §2.3).
pub(crate) const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Checks that the request is signed with one of the keys, or carries an accepted bearer
/// token. `body` is the body as received: its hash is what `x-ms-content-sha256` must say.
pub(crate) fn authenticate(
  shared: &Shared,
  method: &Method,
  uri: &Uri,
  headers: &HeaderMap,
  body: &[u8],
  now: SystemTime,
) -> Result<(), ApiError> {
  let Some(authorization) = headers.get(header::AUTHORIZATION) else {
    return Err(ApiError::unauthorized(
      "The request has no Authorization header: sign it with HMAC-SHA256 (x-ms-date, host, x-ms-content-sha256) using the resource's access key, or send Authorization: Bearer <token>.",
    ));
  };
  let Ok(authorization) = authorization.to_str() else {
    return Err(ApiError::unauthorized(
      "The Authorization header is not ASCII.",
    ));
  };
  let (scheme, credentials) = authorization.split_once(' ').unwrap_or((authorization, ""));
  if scheme.eq_ignore_ascii_case("Bearer") {
    bearer(shared, credentials.trim())
  } else if scheme.eq_ignore_ascii_case("HMAC-SHA256") {
    hmac_sha256(shared, method, uri, headers, body, credentials.trim(), now)
  } else {
    Err(ApiError::unauthorized(
      "The Authorization scheme is not supported: use HMAC-SHA256 or Bearer.",
    ))
  }
}

fn bearer(shared: &Shared, token: &str) -> Result<(), ApiError> {
  if shared.bearer_tokens.is_empty() {
    return Err(ApiError::unauthorized(
      "This emulator accepts no bearer tokens: start it with bearer tokens to accept (EmulatorOptions::bearer_tokens), or sign requests with the access key.",
    ));
  }
  if token.is_empty() {
    return Err(ApiError::unauthorized("The bearer token is empty."));
  }
  let presented = acs_identity::Secret::new(token);
  // `Secret`'s equality is constant-time.
  if shared.bearer_tokens.contains(&presented) {
    Ok(())
  } else {
    Err(ApiError::unauthorized(
      "The bearer token is not one this emulator was configured to accept.",
    ))
  }
}

fn hmac_sha256(
  shared: &Shared,
  method: &Method,
  uri: &Uri,
  headers: &HeaderMap,
  body: &[u8],
  credentials: &str,
  now: SystemTime,
) -> Result<(), ApiError> {
  let mut signed_headers = None;
  let mut signature = None;
  for part in credentials.split('&') {
    let (name, value) = part.split_once('=').unwrap_or((part, ""));
    if name.trim().eq_ignore_ascii_case("SignedHeaders") {
      signed_headers = Some(value.trim());
    } else if name.trim().eq_ignore_ascii_case("Signature") {
      // base64 may end in '=': everything after the first '=' is the value.
      signature = Some(value.trim());
    }
  }
  let Some(signed_headers) = signed_headers else {
    return Err(ApiError::unauthorized(
      "The HMAC-SHA256 Authorization header has no SignedHeaders: expected 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>'.",
    ));
  };
  if !signed_headers.eq_ignore_ascii_case(hmac::SIGNED_HEADERS) {
    return Err(ApiError::unauthorized(
      "SignedHeaders must be x-ms-date;host;x-ms-content-sha256.",
    ));
  }
  let signature = match signature {
    Some(s) if !s.is_empty() => s,
    _ => {
      return Err(ApiError::unauthorized(
        "The HMAC-SHA256 Authorization header has no Signature.",
      ))
    }
  };

  let date = header_str(headers, "x-ms-date")?.ok_or_else(|| {
    ApiError::unauthorized("The x-ms-date header is missing: it is part of the signature.")
  })?;
  let sent = httpdate::parse_http_date(date).map_err(|_| {
    ApiError::unauthorized(
      "The x-ms-date header is not an HTTP date such as 'Thu, 01 Jan 2026 00:00:00 GMT'.",
    )
  })?;
  let skew = match now.duration_since(sent) {
    Ok(behind) => behind,
    Err(ahead) => ahead.duration(),
  };
  if skew > MAX_CLOCK_SKEW {
    return Err(ApiError::unauthorized(format!(
      "The x-ms-date header ({date}) is more than 15 minutes away from the emulator's clock ({}).",
      httpdate::fmt_http_date(now)
    )));
  }

  let claimed_hash = header_str(headers, "x-ms-content-sha256")?.ok_or_else(|| {
    ApiError::unauthorized(
      "The x-ms-content-sha256 header is missing: it is part of the signature.",
    )
  })?;
  let actual_hash = hmac::content_hash(body);
  if claimed_hash != actual_hash {
    // The hash of what was received is no secret: the client sent those bytes.
    return Err(ApiError::unauthorized(format!(
      "The x-ms-content-sha256 header does not match the body received ({} bytes, SHA-256 {actual_hash}).",
      body.len()
    )));
  }

  let host = header_str(headers, "host")?
    .or_else(|| uri.authority().map(|a| a.as_str()))
    .ok_or_else(|| {
      ApiError::unauthorized("The Host header is missing: it is part of the signature.")
    })?;

  // The path and query as sent, re-serialised as the JS client signs them
  // (`URLSearchParams`); clients that sign the raw query (Python) are accepted too.
  let raw = uri.path_and_query().map_or("/", |pq| pq.as_str());
  let normalised = Url::parse(&format!("http://emulator{raw}"))
    .map(|url| hmac::path_and_query(&url))
    .unwrap_or_else(|_| raw.to_owned());
  let mut tried = Vec::with_capacity(2);
  for path_and_query in [normalised.as_str(), raw] {
    if tried.contains(&path_and_query) {
      continue;
    }
    tried.push(path_and_query);
    let to_sign = hmac::string_to_sign(method.as_str(), path_and_query, date, host, claimed_hash);
    if shared
      .keys
      .iter()
      .any(|key| hmac::verify(key, &to_sign, signature))
    {
      return Ok(());
    }
    if shared.debug {
      eprintln!(
        "[acs-identity-emulator] signature mismatch; string-to-sign (JSON-escaped): {}",
        serde_json::Value::String(to_sign)
      );
    }
  }
  Err(ApiError::unauthorized(
    "The request signature does not match: check the access key, and that the string-to-sign is the method, the path and query as sent, then x-ms-date;Host;x-ms-content-sha256 (set ACS_EMULATOR_DEBUG=1 to print the emulator's string-to-sign).",
  ))
}

/// A header as text; a header that is not visible ASCII is refused rather than ignored.
fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiError> {
  match headers.get(name) {
    None => Ok(None),
    Some(value) => value
      .to_str()
      .map(|s| Some(s.trim()))
      .map_err(|_| ApiError::unauthorized(format!("The {name} header is not ASCII."))),
  }
}
