//! The emulator, started in-process from JS (`startEmulator` in `index.js`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use acs_identity::Secret;
use acs_identity_emulator::{AppState, Emulator, EmulatorOptions, Fault, FaultKind};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::sync::Mutex;

use crate::error::invalid_argument;

/// Options of `startEmulator`.
#[napi(object)]
#[derive(Default)]
pub struct NativeEmulatorOptions {
  pub host: Option<String>,
  pub port: Option<u32>,
  pub access_key: Option<String>,
  pub secondary_key: Option<String>,
  pub bearer_tokens: Option<Vec<String>>,
  pub data_dir: Option<String>,
  pub https: Option<bool>,
  pub throttling: Option<bool>,
  pub resource_id: Option<String>,
}

/// What `verifyToken` says of a token.
#[napi(object)]
pub struct NativeTokenVerdict {
  pub valid: bool,
  pub reason: Option<String>,
}

/// A fault for the next `count` requests: a status (with an optional `Retry-After`), a closed
/// connection, or a delay.
#[napi(object)]
pub struct NativeFault {
  pub count: Option<u32>,
  pub status: Option<u32>,
  pub retry_after: Option<String>,
  pub close_connection: Option<bool>,
  pub delay_ms: Option<f64>,
}

/// A running emulator. Its settings are read once at start, so the getters need no lock;
/// `close` takes the emulator out of its slot, so closing twice is harmless.
#[napi]
pub struct NativeEmulator {
  running: Arc<Mutex<Option<Emulator>>>,
  state: AppState,
  endpoint: String,
  connection_string: String,
  access_key: String,
  certificate_path: Option<String>,
}

#[napi]
impl NativeEmulator {
  #[napi(getter)]
  pub fn endpoint(&self) -> String {
    self.endpoint.clone()
  }

  #[napi(getter)]
  pub fn connection_string(&self) -> String {
    self.connection_string.clone()
  }

  #[napi(getter)]
  pub fn access_key(&self) -> String {
    self.access_key.clone()
  }

  #[napi(getter)]
  pub fn certificate_path(&self) -> Option<String> {
    self.certificate_path.clone()
  }

  /// Whether a token the emulator issued is still valid, and why not.
  #[napi(catch_unwind)]
  pub fn verify_token(&self, token: String) -> NativeTokenVerdict {
    let verdict = self.state.verify_token(&token);
    NativeTokenVerdict {
      valid: verdict.valid,
      reason: verdict.reason.map(str::to_owned),
    }
  }

  /// Makes the next `count` requests fail as `fault` says.
  #[napi(catch_unwind)]
  pub fn inject_faults(&self, fault: NativeFault) -> Result<()> {
    let count = fault.count.unwrap_or(1);
    let kind = if fault.close_connection == Some(true) {
      FaultKind::CloseConnection
    } else if let Some(delay) = fault.delay_ms {
      if !delay.is_finite() || delay < 0.0 {
        return Err(invalid_argument("delayMs must be a non-negative number"));
      }
      FaultKind::Delay(Duration::from_secs_f64(delay / 1000.0))
    } else if let Some(status) = fault.status {
      let status = u16::try_from(status)
        .ok()
        .filter(|s| (100..=999).contains(s))
        .ok_or_else(|| invalid_argument("status must be an HTTP status from 100 to 999"))?;
      FaultKind::Status {
        status,
        retry_after: fault.retry_after,
      }
    } else {
      return Err(invalid_argument(
        "a fault needs one of status, closeConnection or delayMs",
      ));
    };
    self.state.inject_faults(Fault { count, kind });
    Ok(())
  }

  /// Forgets the faults not used yet.
  #[napi(catch_unwind)]
  pub fn clear_faults(&self) {
    self.state.clear_faults();
  }

  /// Stops the server; resolves when it has stopped. Calling it twice is harmless.
  #[napi(catch_unwind)]
  pub async fn close(&self) -> Result<()> {
    let running = self.running.lock().await.take();
    if let Some(emulator) = running {
      emulator.close().await;
    }
    Ok(())
  }
}

/// Starts an emulator.
#[napi(catch_unwind)]
pub async fn native_start_emulator(
  options: Option<NativeEmulatorOptions>,
) -> Result<NativeEmulator> {
  let native = options.unwrap_or_default();
  let mut options = EmulatorOptions::default();
  if let Some(host) = native.host {
    options.host = host;
  }
  if let Some(port) = native.port {
    options.port =
      u16::try_from(port).map_err(|_| invalid_argument("port must be from 0 to 65535"))?;
  }
  if let Some(key) = native.access_key {
    options.access_key = Secret::new(key);
  }
  options.secondary_key = native.secondary_key.map(Secret::new);
  options.bearer_tokens = native
    .bearer_tokens
    .unwrap_or_default()
    .into_iter()
    .map(Secret::new)
    .collect();
  options.data_dir = native.data_dir.map(PathBuf::from);
  options.https = native.https.unwrap_or(false);
  options.throttling = native.throttling.unwrap_or(false);
  options.resource_id = native.resource_id;
  let emulator = Emulator::start(options)
    .await
    .map_err(|e| invalid_argument(format!("cannot start the emulator: {e}")))?;
  Ok(NativeEmulator {
    endpoint: emulator.endpoint(),
    connection_string: emulator.connection_string(),
    access_key: emulator.access_key().expose().to_owned(),
    certificate_path: emulator
      .certificate_path()
      .map(|p| p.to_string_lossy().into_owned()),
    state: emulator.state().clone(),
    running: Arc::new(Mutex::new(Some(emulator))),
  })
}
