//! Request logging, switched on like the official client's by `AZURE_LOG_LEVEL`
//! (`verbose`, `info`, `warning` or `error`), written to stderr.
//!
//! A line names the method, URL, attempt, status or failure, duration and request id. It
//! never holds a header value or a body, so keys, signatures and tokens cannot reach it.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};

/// How much to log, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
  /// Nothing (the default).
  Off,
  /// Failed operations.
  Error,
  /// Failed attempts.
  Warning,
  /// Every attempt.
  Info,
  /// Every attempt (as `info`; the client has nothing more detailed to say).
  Verbose,
}

impl Level {
  /// Reads a level name; unknown names mean [`Level::Off`].
  pub fn parse(name: &str) -> Self {
    match name.trim().to_ascii_lowercase().as_str() {
      "verbose" => Level::Verbose,
      "info" => Level::Info,
      "warning" => Level::Warning,
      "error" => Level::Error,
      _ => Level::Off,
    }
  }

  fn name(self) -> &'static str {
    match self {
      Level::Off => "off",
      Level::Error => "error",
      Level::Warning => "warning",
      Level::Info | Level::Verbose => "info",
    }
  }
}

/// The level from `AZURE_LOG_LEVEL`, read once.
pub fn level() -> Level {
  static LEVEL: OnceLock<Level> = OnceLock::new();
  *LEVEL.get_or_init(|| Level::parse(&std::env::var("AZURE_LOG_LEVEL").unwrap_or_default()))
}

/// Formats the line for one attempt (public for tests of what a line may contain).
pub fn attempt_line(
  method: &str,
  url: &Url,
  attempt: u32,
  elapsed: Duration,
  request_id: &str,
  outcome: std::result::Result<u16, &Error>,
) -> String {
  let result = match outcome {
    Ok(status) => format!("status {status}"),
    Err(error) => format!("failed: {}", error.message()),
  };
  format!(
    "{method} {url} attempt {attempt}: {result} in {} ms (x-ms-client-request-id {request_id})",
    elapsed.as_millis()
  )
}

pub(crate) fn attempt<B>(
  method: &reqwest::Method,
  url: &Url,
  attempt: u32,
  elapsed: Duration,
  request_id: &str,
  outcome: &Result<(u16, reqwest::header::HeaderMap, B)>,
) {
  let wanted = match outcome {
    Ok((status, _, _)) if *status < 400 => Level::Info,
    _ => Level::Warning,
  };
  let current = level();
  if current < wanted {
    return;
  }
  let line = attempt_line(
    method.as_str(),
    url,
    attempt,
    elapsed,
    request_id,
    outcome.as_ref().map(|(status, _, _)| *status),
  );
  let _ = writeln!(
    std::io::stderr().lock(),
    "azure:acs-identity:{} {line}",
    wanted.name()
  );
}
