//! Credentials: an access key (HMAC signing) or a token credential (Entra ID bearer tokens).

pub mod hmac;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// The scope of ACS data-plane tokens. The double slash is the official client's
/// (`docs/official-sdk.md` §2.7), and Entra accepts it.
pub const COMMUNICATION_SCOPE: &str = "https://communication.azure.com//.default";

/// A token and when it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
  /// The token.
  pub token: Secret,
  /// When it expires.
  pub expires_on: SystemTime,
}

impl fmt::Debug for AccessToken {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct("AccessToken")
      .field("token", &self.token)
      .field("expires_on", &self.expires_on)
      .finish()
  }
}

/// A boxed future, as returned by [`TokenCredential::get_token`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Anything that can give an Entra ID token for a set of scopes, like `TokenCredential` of
/// `@azure/core-auth` (the Node binding bridges `DefaultAzureCredential` to this trait).
pub trait TokenCredential: Send + Sync + fmt::Debug {
  /// A token for `scopes`.
  fn get_token<'a>(&'a self, scopes: &'a [&'a str]) -> BoxFuture<'a, Result<AccessToken>>;
}

/// An access key that can be rotated while clients use it, like `AzureKeyCredential`.
#[derive(Clone)]
pub struct AccessKeyCredential {
  // The decoded key bytes, replaced whole on rotation so a signature is never computed
  // from half of an old and half of a new key.
  key: Arc<RwLock<Arc<DecodedKey>>>,
}

struct DecodedKey {
  source: Secret,
  bytes: Vec<u8>,
}

impl AccessKeyCredential {
  /// A credential for a base64 access key. The key is decoded leniently, as Node's
  /// `Buffer.from(key, "base64")` does.
  pub fn new(key: impl Into<Secret>) -> Self {
    Self {
      key: Arc::new(RwLock::new(Arc::new(DecodedKey::new(key.into())))),
    }
  }

  /// Replaces the key; requests signed from now on use the new one.
  pub fn update(&self, key: impl Into<Secret>) {
    let decoded = Arc::new(DecodedKey::new(key.into()));
    match self.key.write() {
      Ok(mut guard) => *guard = decoded,
      Err(poisoned) => *poisoned.into_inner() = decoded,
    }
  }

  /// Replaces the key only when it differs from the current one (cheap to call per request).
  pub fn update_if_changed(&self, key: &str) {
    if self.current().source.expose() != key {
      self.update(key);
    }
  }

  /// The decoded key bytes to sign with.
  pub(crate) fn key_bytes(&self) -> Arc<impl AsRef<[u8]>> {
    self.current()
  }

  fn current(&self) -> Arc<DecodedKey> {
    match self.key.read() {
      Ok(guard) => Arc::clone(&guard),
      Err(poisoned) => Arc::clone(&poisoned.into_inner()),
    }
  }
}

impl DecodedKey {
  fn new(source: Secret) -> Self {
    let bytes = hmac::decode_access_key(source.expose());
    Self { source, bytes }
  }
}

impl AsRef<[u8]> for DecodedKey {
  fn as_ref(&self) -> &[u8] {
    &self.bytes
  }
}

impl fmt::Debug for AccessKeyCredential {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("AccessKeyCredential { key: <redacted> }")
  }
}

/// How a client authenticates.
#[derive(Clone, Debug)]
pub enum Credential {
  /// HMAC-SHA256 with an access key.
  AccessKey(AccessKeyCredential),
  /// `Authorization: Bearer` with tokens from a token credential.
  Token(Arc<dyn TokenCredential>),
}

/// Caches the bearer token of a [`TokenCredential`] so that it is asked once per token, not
/// once per request: the token is reused until two minutes before it expires (the
/// refresh window of `@azure/core-rest-pipeline`).
#[derive(Debug)]
pub(crate) struct BearerTokenCache {
  credential: Arc<dyn TokenCredential>,
  cached: tokio::sync::Mutex<Option<AccessToken>>,
}

const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(120);

impl BearerTokenCache {
  pub(crate) fn new(credential: Arc<dyn TokenCredential>) -> Self {
    Self {
      credential,
      cached: tokio::sync::Mutex::new(None),
    }
  }

  /// The current token, fetched when there is none or it is about to expire. Concurrent
  /// callers wait for one fetch instead of each starting their own.
  pub(crate) async fn token(&self) -> Result<Secret> {
    let mut cached = self.cached.lock().await;
    if let Some(token) = cached.as_ref() {
      if SystemTime::now() + REFRESH_BEFORE_EXPIRY < token.expires_on {
        return Ok(token.token.clone());
      }
    }
    let fresh = self
      .credential
      .get_token(&[COMMUNICATION_SCOPE])
      .await
      .map_err(|e| match e.kind() {
        ErrorKind::Credential | ErrorKind::Aborted => e,
        _ => Error::new(
          ErrorKind::Credential,
          format!("the token credential failed: {}", e.message()),
        ),
      })?;
    if fresh.token.is_empty() {
      return Err(Error::new(
        ErrorKind::Credential,
        "the token credential returned an empty token",
      ));
    }
    let token = fresh.token.clone();
    *cached = Some(fresh);
    Ok(token)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::atomic::{AtomicUsize, Ordering};

  #[derive(Debug)]
  struct CountingCredential {
    calls: AtomicUsize,
    lifetime: Duration,
  }

  impl TokenCredential for CountingCredential {
    fn get_token<'a>(&'a self, scopes: &'a [&'a str]) -> BoxFuture<'a, Result<AccessToken>> {
      Box::pin(async move {
        assert_eq!(scopes, [COMMUNICATION_SCOPE]);
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken {
          token: Secret::new(format!("token-{n}")),
          expires_on: SystemTime::now() + self.lifetime,
        })
      })
    }
  }

  #[tokio::test]
  async fn bearer_tokens_are_cached_until_near_expiry() {
    let long = Arc::new(CountingCredential {
      calls: AtomicUsize::new(0),
      lifetime: Duration::from_secs(3600),
    });
    let cache = BearerTokenCache::new(long.clone());
    assert_eq!(cache.token().await.unwrap().expose(), "token-0");
    assert_eq!(cache.token().await.unwrap().expose(), "token-0");
    assert_eq!(long.calls.load(Ordering::SeqCst), 1);

    let short = Arc::new(CountingCredential {
      calls: AtomicUsize::new(0),
      lifetime: Duration::from_secs(60),
    });
    let cache = BearerTokenCache::new(short.clone());
    cache.token().await.unwrap();
    assert_eq!(cache.token().await.unwrap().expose(), "token-1");
  }

  #[test]
  fn key_rotation_changes_the_signing_key() {
    let credential = AccessKeyCredential::new("dGVzdGtleQ==");
    assert_eq!(credential.key_bytes().as_ref().as_ref(), b"testkey");
    credential.update_if_changed("b3RoZXI=");
    assert_eq!(credential.key_bytes().as_ref().as_ref(), b"other");
    assert!(!format!("{credential:?}").contains("b3RoZXI"));
  }
}
