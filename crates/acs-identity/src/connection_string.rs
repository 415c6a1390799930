//! `endpoint=…;accesskey=…` connection strings.

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The two parts of an ACS connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionString {
  /// The resource endpoint, e.g. `https://contoso.communication.azure.com/`.
  pub endpoint: String,
  /// The access key, base64.
  pub access_key: Secret,
}

impl ConnectionString {
  /// Parses `endpoint=<url>;accesskey=<key>`, as the official client does.
  ///
  /// The official client matches `/endpoint=(.*);accesskey=(.*)/i`: the names are
  /// case-insensitive, `endpoint` must come first, and the endpoint runs up to the last
  /// `;accesskey=`. Anything before `endpoint=` is ignored and the key is the rest of the
  /// line. Unlike the official client, the error never repeats the connection string, since
  /// it holds the key.
  pub fn parse(connection_string: &str) -> Result<Self> {
    // `.` in the official pattern does not match line breaks, so only the first line counts.
    let line = connection_string.lines().next().unwrap_or_default();
    let lower = line.to_ascii_lowercase();
    let invalid = || {
      Error::invalid_argument(
        "invalid connection string: expected \"endpoint=<url>;accesskey=<key>\" with a non-empty endpoint and key",
      )
    };
    let start = lower.find("endpoint=").ok_or_else(invalid)? + "endpoint=".len();
    let separator = lower[start..]
      .rfind(";accesskey=")
      .map(|i| start + i)
      .ok_or_else(invalid)?;
    let endpoint = &line[start..separator];
    let key = &line[separator + ";accesskey=".len()..];
    if endpoint.is_empty() || key.is_empty() {
      return Err(invalid());
    }
    Ok(Self {
      endpoint: endpoint.to_owned(),
      access_key: Secret::new(key),
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn parses_the_official_forms() {
    let cs = ConnectionString::parse("endpoint=https://r.com/;accesskey=a2V5").unwrap();
    assert_eq!(cs.endpoint, "https://r.com/");
    assert_eq!(cs.access_key.expose(), "a2V5");
    let cs = ConnectionString::parse("ENDPOINT=https://x.com;ACCESSKEY=abc").unwrap();
    assert_eq!(cs.endpoint, "https://x.com");
    // greedy: the key keeps what follows it
    let cs = ConnectionString::parse("endpoint=https://r.com;accesskey=a;b=c").unwrap();
    assert_eq!(cs.access_key.expose(), "a;b=c");
    let cs = ConnectionString::parse("endpoint=https://r.com:443/;accesskey=secret").unwrap();
    assert_eq!(cs.endpoint, "https://r.com:443/");
  }

  #[test]
  fn rejects_incomplete_strings_without_echoing_them() {
    for bad in [
      "endpoint=https://x.com",
      "accesskey=abc",
      "garbage",
      "accesskey=k;endpoint=https://r.com",
      "endpoint=;accesskey=abc",
      "endpoint=https://x.com;accesskey=",
      "",
    ] {
      let err = ConnectionString::parse(bad).unwrap_err();
      assert_eq!(err.kind(), &crate::ErrorKind::InvalidArgument);
      assert!(!err.to_string().contains("abc"), "{err}");
    }
  }
}
