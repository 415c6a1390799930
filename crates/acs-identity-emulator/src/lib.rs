//! # acs-identity-emulator
//!
//! A strict local emulator of the Azure Communication Services (ACS) Identity REST API, so
//! that code can be tested without Azure: it checks what the real service checks (HMAC
//! signatures, api-versions, scopes, token lifetimes, identities of another resource), so
//! code that passes against it passes against the service.
//!
//! ```no_run
//! use acs_identity_emulator::{Emulator, EmulatorOptions};
//!
//! # async fn run() -> Result<(), acs_identity_emulator::EmulatorError> {
//! let emulator = Emulator::start(EmulatorOptions::default()).await?;
//! println!("{}", emulator.connection_string());
//! // ... point a client at it ...
//! emulator.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! What it serves (`docs/official-sdk.md` §4): `POST /identities`, `GET|DELETE
//! /identities/{id}`, `POST /identities/{id}/:issueAccessToken`, `POST
//! /identities/{id}/:revokeAccessTokens` and `POST /teamsUser/:exchangeAccessToken`, for
//! api-versions 2021-03-07 to 2023-10-01, 2025-03-02-preview and 2025-06-30, each with the
//! operations and fields it has.
//!
//! Where the service's behaviour is not known, the emulator picks the strict answer and says
//! so in the item's documentation: notably 404 `IdentityNotFound` for an unknown or deleted
//! identity of its own resource.
//!
//! Diagnostics: `ACS_EMULATOR_DEBUG=1` prints, for each refused signature, the string the
//! emulator signed (never a key or a signature), to diff against the client's.

mod auth;
mod error;
mod handlers;
mod jwt;
mod limits;
mod server;
mod state;
mod store;
mod tls;
mod versions;

use std::future::Future;
use std::path::{Path, PathBuf};

use acs_identity::Secret;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::EmulatorError;
pub use limits::{Fault, FaultKind};
pub use state::AppState;
pub use store::{JOURNAL_FILE, LOCK_FILE};
pub use tls::CA_CERT_FILE;

/// The emulator's default access key: fixed and published, like Azurite's account key, so
/// that tests and samples can hard-code a connection string. It is base64 for the 64 bytes
/// `acs-identity-emulator development key: public, never use in prod`. It protects nothing:
/// never use it for anything but a local emulator.
pub const DEV_ACCESS_KEY: &str =
  "YWNzLWlkZW50aXR5LWVtdWxhdG9yIGRldmVsb3BtZW50IGtleTogcHVibGljLCBuZXZlciB1c2UgaW4gcHJvZA==";

/// The port the command line listens on by default.
pub const DEFAULT_PORT: u16 = 8990;

/// How to run an emulator. `Default` is an in-memory, plain-HTTP emulator on a free port of
/// 127.0.0.1 with [`DEV_ACCESS_KEY`].
#[derive(Clone, Debug)]
pub struct EmulatorOptions {
  /// The address to listen on. The default is `127.0.0.1`: loopback only, as a development
  /// server with a published key must be.
  pub host: String,
  /// The port; 0 (the default) picks a free one, which [`Emulator::endpoint`] then names.
  pub port: u16,
  /// The primary access key (base64) requests must be signed with. The default is
  /// [`DEV_ACCESS_KEY`].
  pub access_key: Secret,
  /// A secondary key that is accepted too, to test key rotation.
  pub secondary_key: Option<Secret>,
  /// Tokens accepted as `Authorization: Bearer <token>`, standing in for Entra ID tokens.
  /// Empty (the default) refuses every bearer token.
  pub bearer_tokens: Vec<Secret>,
  /// Where to persist identities, revocations and keys (an append-only journal,
  /// [`JOURNAL_FILE`]). `None` (the default) keeps everything in memory.
  pub data_dir: Option<PathBuf>,
  /// Serve HTTPS with a generated certificate (see [`Emulator::certificate_path`]). The
  /// official JS client refuses plain `http://` unless told `allowInsecureConnection`.
  pub https: bool,
  /// Answer 429 beyond the service's published quotas: 1000 requests per 30 s for create
  /// and issue, 500 for revoke, delete and the Teams exchange. Off by default.
  pub throttling: bool,
  /// The ACS resource id in identity ids (`8:acs:<resource id>_<uuid>`) and tokens. The
  /// default is a new uuid, kept in the data directory when there is one.
  pub resource_id: Option<String>,
}

impl Default for EmulatorOptions {
  fn default() -> Self {
    Self {
      host: "127.0.0.1".to_owned(),
      port: 0,
      access_key: Secret::new(DEV_ACCESS_KEY),
      secondary_key: None,
      bearer_tokens: Vec::new(),
      data_dir: None,
      https: false,
      throttling: false,
      resource_id: None,
    }
  }
}

/// Whether a token is valid, from [`Emulator::verify_token`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenVerdict {
  /// The token was issued by this emulator and may still be used.
  pub valid: bool,
  /// Why not, when not: `malformed` (not a token of ours), `signature` (not signed with this
  /// emulator's key), `expired`, `unknown-identity` (its identity is not in this
  /// emulator), `deleted` (its identity was deleted) or `revoked` (issued before the last
  /// `revokeAccessTokens`).
  pub reason: Option<&'static str>,
}

impl TokenVerdict {
  const VALID: Self = Self {
    valid: true,
    reason: None,
  };

  fn invalid(reason: &'static str) -> Self {
    Self {
      valid: false,
      reason: Some(reason),
    }
  }
}

/// The router that serves the REST API from `state`: every request, an unknown route
/// included, is answered by the emulator (with an ACS error body when refused). Use it to
/// test without a socket (`tower::ServiceExt::oneshot`) or to mount the emulator in your own
/// server. The `Host` header must be the one the client signed.
///
/// Faults that close the connection need the emulator's own server ([`serve`],
/// [`Emulator::start`]); through a bare router they are answered 503.
pub fn router(state: AppState) -> Router {
  Router::new().fallback(handlers::handle).with_state(state)
}

/// Serves an emulator with `options` on `listener` until `shutdown` resolves, then finishes
/// requests in flight (for at most 5 seconds) and closes the data directory.
/// `options.host` and `options.port` are not used: the listener is.
///
/// With `options.https`, the CA certificate to trust is written to the data directory, or
/// to a temporary directory removed on return; [`Emulator`] tells its path.
///
/// # Errors
/// As [`AppState::new`], and [`EmulatorError::Tls`] when the certificate cannot be made.
pub async fn serve(
  listener: TcpListener,
  options: EmulatorOptions,
  shutdown: impl Future<Output = ()>,
) -> Result<(), EmulatorError> {
  let (state, tls) = prepare(options).await?;
  let (acceptor, temp_dir) = match tls {
    Some(tls) => (Some(tls.acceptor), tls.temp_dir),
    None => (None, None),
  };
  server::run(listener, router(state.clone()), acceptor, shutdown).await;
  state.close().await;
  if let Some(dir) = temp_dir {
    let _ = std::fs::remove_dir_all(dir);
  }
  Ok(())
}

/// Builds the state and TLS set-up off the async threads: both read and write files.
async fn prepare(options: EmulatorOptions) -> Result<(AppState, Option<tls::Tls>), EmulatorError> {
  tokio::task::spawn_blocking(move || {
    let state = AppState::new(&options)?;
    let tls = if options.https {
      Some(tls::setup(options.data_dir.as_deref())?)
    } else {
      None
    };
    Ok((state, tls))
  })
  .await
  .map_err(|e| EmulatorError::Io(std::io::Error::other(e.to_string())))?
}

/// A running emulator, serving on its own task until [`Emulator::close`] (or until it is
/// dropped, which stops it without waiting).
///
/// It is `Send + Sync`, to be shared (the Node binding keeps it in an `Arc`).
pub struct Emulator {
  state: AppState,
  endpoint: String,
  access_key: Secret,
  certificate_path: Option<PathBuf>,
  temp_dir: Option<PathBuf>,
  shutdown: CancellationToken,
  task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Emulator")
      .field("endpoint", &self.endpoint)
      .field("access_key", &self.access_key)
      .field("certificate_path", &self.certificate_path)
      .field("state", &self.state)
      .finish()
  }
}

impl Emulator {
  /// Starts an emulator: opens its state, binds `options.host:options.port` and serves on a
  /// task of the current tokio runtime (any multi-thread runtime, napi's included).
  ///
  /// # Errors
  /// [`EmulatorError::Bind`] when the address cannot be listened on; otherwise as
  /// [`serve`].
  pub async fn start(options: EmulatorOptions) -> Result<Emulator, EmulatorError> {
    let host = options.host.clone();
    let address = format!("{host}:{}", options.port);
    let listener = TcpListener::bind((host.as_str(), options.port))
      .await
      .map_err(|source| EmulatorError::Bind {
        address: address.clone(),
        source,
      })?;
    let port = listener
      .local_addr()
      .map_err(|source| EmulatorError::Bind { address, source })?
      .port();
    let https = options.https;
    let access_key = options.access_key.clone();
    let (state, tls) = prepare(options).await?;
    let (acceptor, certificate_path, temp_dir) = match tls {
      Some(tls) => (Some(tls.acceptor), Some(tls.ca_path), tls.temp_dir),
      None => (None, None, None),
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server::run(
      listener,
      router(state.clone()),
      acceptor,
      shutdown.clone().cancelled_owned(),
    ));
    Ok(Emulator {
      state,
      endpoint: format!(
        "{}://{}:{port}",
        if https { "https" } else { "http" },
        endpoint_host(&host)
      ),
      access_key,
      certificate_path,
      temp_dir,
      shutdown,
      task: Some(task),
    })
  }

  /// The URL clients use, without a trailing slash, e.g. `http://127.0.0.1:41234`.
  pub fn endpoint(&self) -> String {
    self.endpoint.clone()
  }

  /// The connection string for clients: `endpoint=<endpoint>/;accesskey=<key>`, the shape
  /// the Azure portal shows.
  pub fn connection_string(&self) -> String {
    format!(
      "endpoint={}/;accesskey={}",
      self.endpoint,
      self.access_key.expose()
    )
  }

  /// The primary access key.
  pub fn access_key(&self) -> &Secret {
    &self.access_key
  }

  /// With `https`, the PEM file of the certificate authority that signed the server's
  /// certificate: trust it (`NODE_EXTRA_CA_CERTS=<path>`) and clients connect without
  /// turning verification off.
  pub fn certificate_path(&self) -> Option<&Path> {
    self.certificate_path.as_deref()
  }

  /// The resource id of the emulated resource.
  pub fn resource_id(&self) -> &str {
    self.state.resource_id()
  }

  /// The emulator's state, e.g. to serve it from another router too.
  pub fn state(&self) -> &AppState {
    &self.state
  }

  /// Whether `token` is a token this emulator issued that is still valid, and if not, why
  /// (see [`TokenVerdict::reason`]). For users' own tests: "after `revokeTokens` the old
  /// token is rejected".
  pub fn verify_token(&self, token: &str) -> TokenVerdict {
    self.state.verify_token(token)
  }

  /// Makes the next `fault.count` requests fail as `fault.kind` says, after the faults
  /// already pending.
  pub fn inject_faults(&self, fault: Fault) {
    self.state.inject_faults(fault);
  }

  /// Drops every pending fault.
  pub fn clear_faults(&self) {
    self.state.clear_faults();
  }

  /// Stops accepting connections, lets requests in flight finish (at most 5 seconds), and
  /// closes the data directory, so that another emulator can open it.
  pub async fn close(mut self) {
    self.shutdown.cancel();
    if let Some(task) = self.task.take() {
      let _ = task.await;
    }
    self.state.close().await;
    if let Some(dir) = self.temp_dir.take() {
      let _ = std::fs::remove_dir_all(dir);
    }
  }
}

impl Drop for Emulator {
  fn drop(&mut self) {
    // Without `close`, stop serving anyway; requests in flight still finish.
    self.shutdown.cancel();
  }
}

/// The host to put in the endpoint: a wildcard address is reached through loopback, and an
/// IPv6 address needs brackets.
fn endpoint_host(host: &str) -> String {
  match host.parse::<std::net::IpAddr>() {
    Ok(ip) if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
    Ok(ip) if ip.is_unspecified() => "[::1]".to_owned(),
    Ok(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
    _ => host.to_owned(),
  }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod endpoint_tests {
  use super::endpoint_host;

  #[test]
  fn endpoints_name_a_reachable_host() {
    assert_eq!(endpoint_host("127.0.0.1"), "127.0.0.1");
    assert_eq!(endpoint_host("0.0.0.0"), "127.0.0.1");
    assert_eq!(endpoint_host("::"), "[::1]");
    assert_eq!(endpoint_host("::1"), "[::1]");
    assert_eq!(endpoint_host("localhost"), "localhost");
  }
}
