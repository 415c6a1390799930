//! `NativeClient`: the core `IdentityClient` for the JS facade.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use acs_identity::{
  time::to_unix_millis, AccessKeyCredential, Credential, IdentityClient, IdentityClientOptions,
  OperationOptions, RetryOptions, Secret, TeamsUserTokenRequest,
};
use futures_util::FutureExt;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::cancellation::Cancellation;
use crate::credential::{JsGetToken, JsTokenCredential};
use crate::error::{invalid_argument, to_napi};
use crate::settle;

/// Client options the facade reads from `CommunicationIdentityClientOptions`.
#[napi(object)]
#[derive(Default)]
pub struct NativeClientOptions {
  pub api_version: Option<String>,
  pub max_retries: Option<f64>,
  pub retry_delay_in_ms: Option<f64>,
  pub max_retry_delay_in_ms: Option<f64>,
  pub user_agent_prefix: Option<String>,
  /// Put first in the User-Agent after the prefix: `acs-identity/<version> Node/<version> (<os>)`.
  pub user_agent: Option<String>,
  pub allow_insecure_connection: Option<bool>,
  /// PEM certificates to trust besides the system's (from `NODE_EXTRA_CA_CERTS`).
  pub extra_ca_certificates: Option<String>,
  /// The per-attempt timeout when an operation sets none.
  pub default_timeout_in_ms: Option<f64>,
}

/// Per-operation options the facade reads from `OperationOptions`.
#[napi(object)]
pub struct NativeOperationOptions {
  pub timeout_in_ms: Option<f64>,
  pub custom_headers: Option<HashMap<String, String>>,
}

/// `{ token, expiresOn }` with `expiresOn` in milliseconds since the epoch.
#[napi(object)]
pub struct NativeAccessToken {
  pub token: String,
  pub expires_on: f64,
}

/// The result of `createUserAndToken`; the token is absent only when the service issued none.
#[napi(object)]
pub struct NativeUserAndToken {
  pub token: Option<String>,
  pub expires_on: Option<f64>,
  pub communication_user_id: String,
}

/// The result of `getUserDetail`.
#[napi(object)]
pub struct NativeUserDetail {
  pub communication_user_id: String,
  pub custom_id: Option<String>,
  pub last_token_issued_at: Option<f64>,
}

/// The core client, shared by the futures of the calls in flight.
#[napi]
pub struct NativeClient {
  inner: Arc<IdentityClient>,
}

#[napi]
impl NativeClient {
  /// A client from `endpoint=…;accesskey=…`.
  #[napi(factory, catch_unwind)]
  pub fn from_connection_string(
    connection_string: String,
    options: Option<NativeClientOptions>,
  ) -> Result<Self> {
    let options = client_options(options.unwrap_or_default())?;
    IdentityClient::from_connection_string(&connection_string, options)
      .map(Self::wrap)
      .map_err(to_napi)
  }

  /// A client signing with an access key (rotated with `updateKey`).
  #[napi(factory, catch_unwind)]
  pub fn with_key(
    endpoint: String,
    key: String,
    options: Option<NativeClientOptions>,
  ) -> Result<Self> {
    let options = client_options(options.unwrap_or_default())?;
    let credential = Credential::AccessKey(AccessKeyCredential::new(key));
    IdentityClient::new(&endpoint, credential, options)
      .map(Self::wrap)
      .map_err(to_napi)
  }

  /// A client authenticating with Entra ID tokens from a JS `getToken(scopes)` function.
  #[napi(
    factory,
    catch_unwind,
    ts_args_type = "endpoint: string, getToken: (scopes: string[]) => Promise<{ token: string, expiresOnTimestamp: number }>, options?: NativeClientOptions"
  )]
  pub fn with_token_credential(
    endpoint: String,
    get_token: JsGetToken,
    options: Option<NativeClientOptions>,
  ) -> Result<Self> {
    let options = client_options(options.unwrap_or_default())?;
    let credential = Credential::Token(Arc::new(JsTokenCredential::new(get_token)));
    IdentityClient::new(&endpoint, credential, options)
      .map(Self::wrap)
      .map_err(to_napi)
  }

  fn wrap(client: IdentityClient) -> Self {
    Self {
      inner: Arc::new(client),
    }
  }

  /// Uses `key` from now on if it differs from the current key (the facade passes
  /// `credential.key` before each call, so `AzureKeyCredential.update()` rotates it).
  #[napi(catch_unwind)]
  pub fn update_key(&self, key: String) {
    if let Some(credential) = self.inner.access_key() {
      credential.update_if_changed(&key);
    }
  }

  #[napi(catch_unwind, ts_return_type = "Promise<string>")]
  pub fn create_user<'env>(
    &self,
    env: &'env Env,
    custom_id: Option<String>,
    options: Option<NativeOperationOptions>,
    cancellation: Option<&Cancellation>,
  ) -> Result<PromiseRaw<'env, String>> {
    self.run(env, options, cancellation, |client, options| async move {
      let user = client.create_user(custom_id.as_deref(), &options).await?;
      Ok(user.communication_user_id)
    })
  }

  #[napi(catch_unwind, ts_return_type = "Promise<NativeUserAndToken>")]
  pub fn create_user_and_token<'env>(
    &self,
    env: &'env Env,
    scopes: Vec<String>,
    expires_in_minutes: Option<i64>,
    custom_id: Option<String>,
    options: Option<NativeOperationOptions>,
    cancellation: Option<&Cancellation>,
  ) -> Result<PromiseRaw<'env, NativeUserAndToken>> {
    self.run(env, options, cancellation, |client, options| async move {
      let result = client
        .create_user_and_token(&scopes, expires_in_minutes, custom_id.as_deref(), &options)
        .await?;
      let (token, expires_on) = match result.access_token {
        Some(t) => (
          Some(t.token.expose().to_owned()),
          Some(to_unix_millis(t.expires_on) as f64),
        ),
        None => (None, None),
      };
      Ok(NativeUserAndToken {
        token,
        expires_on,
        communication_user_id: result.user.communication_user_id,
      })
    })
  }

  #[napi(catch_unwind, ts_return_type = "Promise<NativeAccessToken>")]
  pub fn get_token<'env>(
    &self,
    env: &'env Env,
    user_id: String,
    scopes: Vec<String>,
    expires_in_minutes: Option<i64>,
    options: Option<NativeOperationOptions>,
    cancellation: Option<&Cancellation>,
  ) -> Result<PromiseRaw<'env, NativeAccessToken>> {
    self.run(env, options, cancellation, |client, options| async move {
      let token = client
        .get_token(&user_id, &scopes, expires_in_minutes, &options)
        .await?;
      Ok(access_token(token))
    })
  }

  #[napi(catch_unwind, ts_return_type = "Promise<void>")]
  pub fn revoke_tokens<'env>(
    &self,
    env: &'env Env,
    user_id: String,
    options: Option<NativeOperationOptions>,
    cancellation: Option<&Cancellation>,
  ) -> Result<PromiseRaw<'env, ()>> {
    self.run(env, options, cancellation, |client, options| async move {
      client.revoke_tokens(&user_id, &options).await
    })
  }

  #[napi(catch_unwind, ts_return_type = "Promise<void>")]
  pub fn delete_user<'env>(
    &self,
    env: &'env Env,
    user_id: String,
    options: Option<NativeOperationOptions>,
    cancellation: Option<&Cancellation>,
  ) -> Result<PromiseRaw<'env, ()>> {
    self.run(env, options, cancellation, |client, options| async move {
      client.delete_user(&user_id, &options).await
    })
  }

  #[napi(catch_unwind, ts_return_type = "Promise<NativeAccessToken>")]
  #[allow(clippy::too_many_arguments)]
  pub fn get_token_for_teams_user<'env>(
    &self,
    env: &'env Env,
    teams_user_aad_token: String,
    client_id: String,
    user_object_id: String,
    options: Option<NativeOperationOptions>,
    cancellation: Option<&Cancellation>,
  ) -> Result<PromiseRaw<'env, NativeAccessToken>> {
    let exchange = TeamsUserTokenRequest {
      teams_user_aad_token: Secret::new(teams_user_aad_token),
      client_id,
      user_object_id,
    };
    self.run(env, options, cancellation, |client, options| async move {
      let token = client.get_token_for_teams_user(&exchange, &options).await?;
      Ok(access_token(token))
    })
  }

  #[napi(catch_unwind, ts_return_type = "Promise<NativeUserDetail>")]
  pub fn get_user_detail<'env>(
    &self,
    env: &'env Env,
    user_id: String,
    options: Option<NativeOperationOptions>,
    cancellation: Option<&Cancellation>,
  ) -> Result<PromiseRaw<'env, NativeUserDetail>> {
    self.run(env, options, cancellation, |client, options| async move {
      let detail = client.get_user_detail(&user_id, &options).await?;
      Ok(NativeUserDetail {
        communication_user_id: detail.user.communication_user_id,
        custom_id: detail.custom_id,
        last_token_issued_at: detail
          .last_token_issued_at
          .map(|t| to_unix_millis(t) as f64),
      })
    })
  }
}

impl NativeClient {
  /// Runs `operation` with this client and the call's options as a promise.
  fn run<'env, T, F, Fut>(
    &self,
    env: &'env Env,
    options: Option<NativeOperationOptions>,
    cancellation: Option<&Cancellation>,
    operation: F,
  ) -> Result<PromiseRaw<'env, T>>
  where
    T: 'static + Send + ToNapiValue,
    F: FnOnce(Arc<IdentityClient>, OperationOptions) -> Fut,
    Fut: 'static + Send + Future<Output = acs_identity::Result<T>>,
  {
    let options = operation_options(options, cancellation)?;
    spawn(env, operation(Arc::clone(&self.inner), options))
  }
}

fn access_token(token: acs_identity::AccessToken) -> NativeAccessToken {
  NativeAccessToken {
    token: token.token.expose().to_owned(),
    expires_on: to_unix_millis(token.expires_on) as f64,
  }
}

/// Runs `operation` on the addon's runtime and settles a promise with its result. A panic
/// (there should be none) rejects the promise instead of reaching Node.
///
/// One tokio task per call (`Env::spawn_future` adds a second one that only watches the first
/// for a panic, which `catch_unwind` covers here), and the promise is settled through the
/// JS thread's shared queue (`settle.rs`) rather than a threadsafe function of its own.
fn spawn<'env, T, F>(env: &'env Env, operation: F) -> Result<PromiseRaw<'env, T>>
where
  T: 'static + Send + ToNapiValue,
  F: 'static + Send + Future<Output = acs_identity::Result<T>>,
{
  let (promise, completer) = settle::promise(env)?;
  napi::bindgen_prelude::spawn(async move {
    match AssertUnwindSafe(operation).catch_unwind().await {
      Ok(Ok(value)) => completer.resolve(value),
      Ok(Err(error)) => completer.reject(to_napi(error)),
      Err(_) => completer.reject(to_napi(acs_identity::Error::new(
        acs_identity::ErrorKind::Decode,
        "internal error in acs-identity (a bug: please report it)",
      ))),
    }
  });
  Ok(PromiseRaw::new(env.raw(), promise))
}

fn millis(value: f64, name: &str) -> Result<Duration> {
  if !value.is_finite() || value < 0.0 {
    return Err(invalid_argument(format!(
      "{name} must be a non-negative number of milliseconds"
    )));
  }
  Ok(Duration::from_secs_f64(value / 1000.0))
}

fn client_options(native: NativeClientOptions) -> Result<IdentityClientOptions> {
  let mut options = IdentityClientOptions::default();
  if let Some(version) = native.api_version {
    options.api_version = version;
  }
  let mut retry = RetryOptions::default();
  if let Some(max) = native.max_retries {
    if !max.is_finite() || max < 0.0 || max.fract() != 0.0 || max > 100.0 {
      return Err(invalid_argument(
        "retryOptions.maxRetries must be a whole number from 0 to 100",
      ));
    }
    retry.max_retries = max as u32;
  }
  if let Some(delay) = native.retry_delay_in_ms {
    retry.retry_delay = millis(delay, "retryOptions.retryDelayInMs")?;
  }
  if let Some(delay) = native.max_retry_delay_in_ms {
    retry.max_retry_delay = millis(delay, "retryOptions.maxRetryDelayInMs")?;
  }
  options.retry = retry;
  options.user_agent_prefix = native.user_agent_prefix;
  if let Some(user_agent) = native.user_agent {
    options.user_agent = user_agent;
  }
  options.allow_insecure_connection = native.allow_insecure_connection.unwrap_or(false);
  if let Some(pem) = native.extra_ca_certificates {
    options.extra_root_certificates_pem.push(pem.into_bytes());
  }
  if let Some(timeout) = native.default_timeout_in_ms {
    options.timeout = millis(timeout, "timeout")?;
  }
  Ok(options)
}

fn operation_options(
  native: Option<NativeOperationOptions>,
  cancellation: Option<&Cancellation>,
) -> Result<OperationOptions> {
  let mut options = OperationOptions {
    cancellation: cancellation.map(|c| c.token.clone()),
    ..OperationOptions::default()
  };
  if let Some(native) = native {
    // `timeout: 0` means "no timeout of the caller's own" in core-rest-pipeline.
    if let Some(timeout) = native.timeout_in_ms.filter(|t| *t != 0.0) {
      options.timeout = Some(millis(timeout, "requestOptions.timeout")?);
    }
    if let Some(headers) = native.custom_headers {
      options.headers = headers.into_iter().collect();
    }
  }
  Ok(options)
}
