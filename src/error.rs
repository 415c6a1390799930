//! The single mapping from the core's errors to errors the JS facade can rebuild.
//!
//! A rejected native call carries `ACS_ERROR:` and a JSON object in its message: the error
//! `kind` (`service`, `aborted`, `invalid-argument`, …), the message and, for service errors,
//! the status, code and parsed body. `index.js` turns it into the `RestError`, `AbortError`,
//! `TypeError` or `RangeError` a user of the official client expects. JSON is built only on
//! this failure path, so the success path pays nothing for it.

use acs_identity::ErrorKind;
use serde_json::json;

/// The prefix `index.js` recognises.
pub const MARKER: &str = "ACS_ERROR:";

/// A core error as a napi error for the facade.
pub fn to_napi(error: acs_identity::Error) -> napi::Error {
  let mut details = match error.kind() {
    ErrorKind::Service(service) => json!({
      "kind": "service",
      "statusCode": service.status,
      "code": service.code,
      "details": service.body,
    }),
    kind => json!({ "kind": kind_name(kind) }),
  };
  details["message"] = json!(error.to_string());
  details["requestId"] = json!(error.request_id());
  details["attempts"] = json!(error.attempts());
  napi::Error::new(napi::Status::GenericFailure, format!("{MARKER}{details}"))
}

fn kind_name(kind: &ErrorKind) -> &'static str {
  match kind {
    ErrorKind::InvalidArgument => "invalid-argument",
    ErrorKind::Credential => "credential",
    ErrorKind::Connection => "connection",
    ErrorKind::Timeout => "timeout",
    ErrorKind::Aborted => "aborted",
    ErrorKind::Decode => "decode",
    ErrorKind::Service(_) => "service",
    _ => "unknown",
  }
}

/// An invalid-argument error raised in the binding itself.
pub fn invalid_argument(message: impl Into<String>) -> napi::Error {
  to_napi(acs_identity::Error::invalid_argument(message))
}
