//! Errors: [`ApiError`], what a request is answered with when it fails (always the service's
//! `{"error":{"code","message","target"?}}` shape), and [`EmulatorError`], why the emulator
//! itself could not start.

use std::borrow::Cow;
use std::io;
use std::path::PathBuf;

use acs_identity::models::ErrorResponse;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Why [`crate::Emulator::start`] or [`crate::serve`] failed.
///
/// Messages name the file, address or option at fault, never a key or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
  /// The listening socket could not be opened (address in use, permission denied, unknown
  /// host name).
  #[error("cannot listen on {address}: {source}")]
  Bind {
    /// The `host:port` that was asked for.
    address: String,
    /// The operating system's reason.
    source: io::Error,
  },
  /// The data directory or its database could not be opened, created or read.
  #[error("cannot use the data directory {path}: {message}")]
  Storage {
    /// The directory or file at fault.
    path: PathBuf,
    /// What went wrong.
    message: String,
  },
  /// The TLS certificate could not be generated or written.
  #[error("cannot set up https: {0}")]
  Tls(String),
  /// An option has a value the emulator cannot work with.
  #[error("invalid emulator option: {0}")]
  InvalidOption(String),
  /// Accepting connections failed.
  #[error("the emulator's listener failed: {0}")]
  Io(#[from] io::Error),
}

/// A refusal of one request, rendered as the service renders it.
#[derive(Debug)]
pub(crate) struct ApiError {
  pub(crate) status: StatusCode,
  pub(crate) code: &'static str,
  pub(crate) message: Cow<'static, str>,
  pub(crate) target: Option<&'static str>,
  pub(crate) retry_after: Option<String>,
  pub(crate) allow: Option<&'static str>,
}

impl ApiError {
  pub(crate) fn new(
    status: StatusCode,
    code: &'static str,
    message: impl Into<Cow<'static, str>>,
  ) -> Self {
    Self {
      status,
      code,
      message: message.into(),
      target: None,
      retry_after: None,
      allow: None,
    }
  }

  pub(crate) fn with_target(mut self, target: &'static str) -> Self {
    self.target = Some(target);
    self
  }

  pub(crate) fn with_retry_after(mut self, retry_after: Option<String>) -> Self {
    self.retry_after = retry_after;
    self
  }

  pub(crate) fn with_allow(mut self, allow: &'static str) -> Self {
    self.allow = Some(allow);
    self
  }

  /// 400 `ValidationError` with a target, the service's shape for a bad field (§4.4).
  pub(crate) fn validation(message: impl Into<Cow<'static, str>>, target: &'static str) -> Self {
    Self::new(StatusCode::BAD_REQUEST, "ValidationError", message).with_target(target)
  }

  /// 400 for a body that cannot be read as the operation's JSON.
  pub(crate) fn bad_body(message: impl Into<Cow<'static, str>>) -> Self {
    Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
  }

  /// 401 for every authentication failure. The message says what is wrong with the request,
  /// never what the right signature or key would have been.
  pub(crate) fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
    Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
  }

  /// 500 when the emulator's own storage failed; the request may be retried.
  pub(crate) fn internal(message: impl Into<Cow<'static, str>>) -> Self {
    Self::new(
      StatusCode::INTERNAL_SERVER_ERROR,
      "InternalServerError",
      message,
    )
  }
}

impl IntoResponse for ApiError {
  fn into_response(self) -> Response {
    let body = ErrorResponse::new(self.code, self.message, self.target);
    // Serialising a struct of strings cannot fail; an empty body would still carry the status.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = (self.status, bytes).into_response();
    // Errors are `application/json` without a charset, successes have one (§4.4).
    response.headers_mut().insert(
      header::CONTENT_TYPE,
      HeaderValue::from_static("application/json"),
    );
    if let Some(value) = self
      .retry_after
      .and_then(|v| HeaderValue::from_str(&v).ok())
    {
      response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    if let Some(allow) = self.allow {
      response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[tokio::test]
  async fn errors_render_the_service_shape() {
    let response =
      ApiError::validation("Invalid scopes - Scopes field is required.", "scopes").into_response();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
      .await
      .unwrap();
    assert_eq!(
      &body[..],
      br#"{"error":{"code":"ValidationError","message":"Invalid scopes - Scopes field is required.","target":"scopes"}}"#
    );
  }

  #[test]
  fn emulator_errors_say_what_failed() {
    let e = EmulatorError::InvalidOption("the access key is empty".into());
    assert_eq!(
      e.to_string(),
      "invalid emulator option: the access key is empty"
    );
  }
}
