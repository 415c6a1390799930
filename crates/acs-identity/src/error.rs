//! The one error type of the client.

use std::fmt;
use std::time::Duration;

/// What went wrong, in the categories a caller acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
  /// A value the caller passed cannot be sent at all (a malformed endpoint, connection
  /// string or identity id). Nothing was sent.
  InvalidArgument,
  /// The token credential could not provide a token.
  Credential,
  /// The connection failed: refused, reset, or closed before a response arrived.
  Connection,
  /// An attempt took longer than its timeout.
  Timeout,
  /// The caller cancelled the operation.
  Aborted,
  /// The service answered with a status other than the operation's success status.
  Service(ServiceError),
  /// The service answered with the success status but a body that could not be read.
  Decode,
}

/// The service's answer when it refused an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
  /// The HTTP status code.
  pub status: u16,
  /// `error.code` from the body, when the body was an ACS error body.
  pub code: Option<String>,
  /// `error.message` from the body, or the body text when it was not an ACS error body.
  pub message: String,
  /// The body, parsed as JSON when it was JSON (`null` when empty).
  pub body: serde_json::Value,
  /// How long the service asked us to wait before retrying, if it said.
  pub retry_after: Option<Duration>,
}

/// An error from the client. Its message never contains an access key, a signature or a
/// token. Boxed, so that `Result<T, Error>` stays small on the success path.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
  kind: ErrorKind,
  message: String,
  request_id: Option<String>,
  attempts: u32,
  source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
  /// A new error of `kind` with a message.
  pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
    Self(Box::new(Inner {
      kind,
      message: message.into(),
      request_id: None,
      attempts: 0,
      source: None,
    }))
  }

  /// A value the caller passed cannot be used.
  pub fn invalid_argument(message: impl Into<String>) -> Self {
    Self::new(ErrorKind::InvalidArgument, message)
  }

  /// The operation was cancelled.
  pub fn aborted() -> Self {
    Self::new(ErrorKind::Aborted, "the operation was aborted")
  }

  pub(crate) fn with_source(
    mut self,
    source: impl std::error::Error + Send + Sync + 'static,
  ) -> Self {
    self.0.source = Some(Box::new(source));
    self
  }

  pub(crate) fn with_request_id(mut self, request_id: &str) -> Self {
    self.0.request_id = Some(request_id.to_owned());
    self
  }

  pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
    self.0.attempts = attempts;
    self
  }

  /// The category of the error.
  pub fn kind(&self) -> &ErrorKind {
    &self.0.kind
  }

  /// The message, without the attempt count.
  pub fn message(&self) -> &str {
    &self.0.message
  }

  /// The service's answer, when the error is one.
  pub fn service(&self) -> Option<&ServiceError> {
    match &self.0.kind {
      ErrorKind::Service(service) => Some(service),
      _ => None,
    }
  }

  /// The HTTP status, when the service answered.
  pub fn status(&self) -> Option<u16> {
    self.service().map(|s| s.status)
  }

  /// The `x-ms-client-request-id` of the operation, when a request was made.
  pub fn request_id(&self) -> Option<&str> {
    self.0.request_id.as_deref()
  }

  /// How many HTTP attempts were made (0 when nothing was sent).
  pub fn attempts(&self) -> u32 {
    self.0.attempts
  }
}

impl fmt::Display for Error {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&self.0.message)?;
    if self.0.attempts > 1 {
      write!(f, " (after {} attempts)", self.0.attempts)?;
    }
    Ok(())
  }
}

impl std::error::Error for Error {
  fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
    self
      .0
      .source
      .as_deref()
      .map(|s| s as &(dyn std::error::Error + 'static))
  }
}

/// The client's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
