//! A JS `TokenCredential` (such as `DefaultAzureCredential`) used by the Rust client.
//!
//! The facade passes `(scopes) => credential.getToken(scopes)` normalised to
//! `{ token, expiresOnTimestamp }`; here it becomes a weak threadsafe function (an idle
//! client must not keep Node alive) behind the core's `TokenCredential` trait. The core
//! caches the token, so JS is called once per token, not once per request.

use std::fmt;

use acs_identity::auth::BoxFuture;
use acs_identity::{AccessToken, Error, ErrorKind, Secret, TokenCredential};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;

/// What the facade's `getToken` wrapper resolves to.
#[napi(object)]
pub struct JsAccessToken {
  pub token: String,
  pub expires_on_timestamp: f64,
}

/// The facade's `getToken(scopes)`: called with the scopes, returns a promise.
pub type JsGetToken =
  ThreadsafeFunction<Vec<String>, Promise<JsAccessToken>, Vec<String>, Status, false, true>;

/// Bridges a JS `getToken` to the core trait.
pub struct JsTokenCredential {
  get_token: JsGetToken,
}

impl JsTokenCredential {
  pub fn new(get_token: JsGetToken) -> Self {
    Self { get_token }
  }
}

impl fmt::Debug for JsTokenCredential {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("JsTokenCredential")
  }
}

impl TokenCredential for JsTokenCredential {
  fn get_token<'a>(
    &'a self,
    scopes: &'a [&'a str],
  ) -> BoxFuture<'a, acs_identity::Result<AccessToken>> {
    Box::pin(async move {
      let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
      let failed = |e: napi::Error| {
        Error::new(
          ErrorKind::Credential,
          format!("the token credential failed: {}", e.reason),
        )
      };
      let promise = self
        .get_token
        .call_async_catch(scopes)
        .await
        .map_err(failed)?;
      let token = promise.await.map_err(failed)?;
      if !token.expires_on_timestamp.is_finite() {
        return Err(Error::new(
          ErrorKind::Credential,
          "the token credential returned a token without a finite expiresOnTimestamp",
        ));
      }
      Ok(AccessToken {
        token: Secret::new(token.token),
        expires_on: acs_identity::time::from_unix_millis(token.expires_on_timestamp as i64),
      })
    })
  }
}
