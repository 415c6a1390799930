//! A string that must never be shown: access keys, tokens, signatures.

use std::fmt;

use subtle::ConstantTimeEq;

/// Holds a secret string (an access key or a token) so that it cannot leak through
/// `Debug`, `Display` or error messages by accident.
///
/// Comparison is constant-time, so a server comparing secrets does not leak how many
/// leading bytes matched.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
  /// Wraps a secret value.
  pub fn new(value: impl Into<String>) -> Self {
    Self(value.into())
  }

  /// The secret itself. Call sites of this method are the only places a secret is read:
  /// keep them few and never format the result into a message.
  pub fn expose(&self) -> &str {
    &self.0
  }

  /// Whether the secret is the empty string.
  pub fn is_empty(&self) -> bool {
    self.0.is_empty()
  }
}

impl fmt::Debug for Secret {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("Secret(<redacted>)")
  }
}

impl fmt::Display for Secret {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("<redacted>")
  }
}

impl PartialEq for Secret {
  fn eq(&self, other: &Self) -> bool {
    self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
  }
}

impl Eq for Secret {}

impl From<String> for Secret {
  fn from(value: String) -> Self {
    Self(value)
  }
}

impl From<&str> for Secret {
  fn from(value: &str) -> Self {
    Self(value.to_owned())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn debug_and_display_never_show_the_value() {
    let secret = Secret::new("super-secret-key");
    assert!(!format!("{secret:?}").contains("super"));
    assert!(!format!("{secret}").contains("super"));
  }

  #[test]
  fn equality_compares_the_whole_value() {
    assert_eq!(Secret::new("abc"), Secret::new("abc"));
    assert_ne!(Secret::new("abc"), Secret::new("abd"));
    assert_ne!(Secret::new("abc"), Secret::new("ab"));
  }
}
