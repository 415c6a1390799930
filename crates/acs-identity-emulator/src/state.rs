//! The emulator's state: the identity directory, the keys, and the switches.
//!
//! The directory is one `HashMap` behind a `std::sync::Mutex` held only for a few map
//! operations, never across an `.await` (persistence is awaited after the lock is released,
//! see `store.rs`). Signing, hashing and JSON happen outside it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use acs_identity::auth::hmac::decode_access_key;
use acs_identity::time::to_unix_millis;
use acs_identity::Secret;
use axum::http::HeaderValue;

use crate::error::EmulatorError;
use crate::jwt::{self, Signer};
use crate::limits::{Fault, Faults, Throttle};
use crate::store::{Ack, Store, StoredIdentity, Write};
use crate::{EmulatorOptions, TokenVerdict};

/// One identity in memory.
#[derive(Debug, Clone)]
struct Record {
  custom_id: Option<Box<str>>,
  /// Tokens whose `iatMs` is at or before this are revoked (0: never revoked).
  revoked_at_ms: i64,
  /// The `iatMs` of the last token issued (`lastTokenIssuedAt` of the preview).
  last_token_issued_at_ms: Option<i64>,
  deleted_at_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Directory {
  /// By full id (`8:acs:<resource>_<uuid>`), deleted ones included so that
  /// `verify_token` can say `deleted`.
  identities: HashMap<Box<str>, Record>,
  /// Live identities by custom id.
  custom_ids: HashMap<Box<str>, Box<str>>,
}

/// An identity's state as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdentityView {
  pub(crate) id: String,
  pub(crate) custom_id: Option<String>,
  pub(crate) last_token_issued_at_ms: Option<i64>,
}

/// Why an operation on an identity of this resource found none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
  Unknown,
  Deleted,
}

/// The shared state of one emulator: what [`crate::router`] serves.
///
/// Cloning is cheap (an `Arc`). Create it with [`AppState::new`]; [`crate::Emulator`] does
/// so for you.
#[derive(Clone)]
pub struct AppState {
  pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for AppState {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("AppState")
      .field("resource_id", &self.shared.resource_id)
      .field("persistent", &self.shared.store.is_some())
      .finish_non_exhaustive()
  }
}

pub(crate) struct Shared {
  pub(crate) resource_id: Box<str>,
  /// `8:acs:<resource>_`: the ids of this resource's identities start with it.
  pub(crate) id_prefix: Box<str>,
  directory: Mutex<Directory>,
  store: Option<Store>,
  pub(crate) signer: Signer,
  /// Decoded primary key, then the secondary key if any.
  pub(crate) keys: Vec<Vec<u8>>,
  pub(crate) bearer_tokens: Vec<Secret>,
  pub(crate) throttle: Option<Throttle>,
  pub(crate) faults: Faults,
  /// Print diagnostics (the string-to-sign of refused requests) to stderr.
  pub(crate) debug: bool,
  pub(crate) scheme: &'static str,
  cv_prefix: String,
  cv_counter: AtomicU64,
}

impl AppState {
  /// Builds the state an emulator with `options` serves: opens (or creates) the data
  /// directory when there is one, and generates what it does not hold yet.
  ///
  /// # Errors
  /// [`EmulatorError::InvalidOption`] for an empty access key or a resource id that cannot
  /// be part of an identity id; [`EmulatorError::Storage`] when the data directory cannot be
  /// used.
  pub fn new(options: &EmulatorOptions) -> Result<Self, EmulatorError> {
    if options.access_key.expose().trim().is_empty() {
      return Err(EmulatorError::InvalidOption(
        "the access key is empty".into(),
      ));
    }
    let mut keys = vec![decode_access_key(options.access_key.expose())];
    if let Some(secondary) = &options.secondary_key {
      if secondary.expose().trim().is_empty() {
        return Err(EmulatorError::InvalidOption(
          "the secondary key is empty".into(),
        ));
      }
      keys.push(decode_access_key(secondary.expose()));
    }
    if let Some(resource_id) = &options.resource_id {
      check_resource_id(resource_id)?;
    }
    let (store, resource_id, signing_key, identities) = match &options.data_dir {
      Some(dir) => {
        let (store, loaded) = Store::open(dir, options.resource_id.as_deref())?;
        (
          Some(store),
          loaded.resource_id,
          loaded.signing_key,
          loaded.identities,
        )
      }
      None => {
        let resource_id = options
          .resource_id
          .clone()
          .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let key = jwt::new_signing_key().map_err(EmulatorError::InvalidOption)?;
        (None, resource_id, key, Vec::new())
      }
    };
    let mut directory = Directory::default();
    for stored in identities {
      let record = Record {
        custom_id: stored.custom_id.map(String::into_boxed_str),
        revoked_at_ms: stored.revoked_at_ms,
        last_token_issued_at_ms: stored.last_token_issued_at_ms,
        deleted_at_ms: stored.deleted_at_ms,
      };
      if let (Some(custom_id), None) = (&record.custom_id, record.deleted_at_ms) {
        directory
          .custom_ids
          .insert(custom_id.clone(), stored.id.clone().into_boxed_str());
      }
      directory
        .identities
        .insert(stored.id.into_boxed_str(), record);
    }
    let mut prefix = [0u8; 9];
    getrandom::fill(&mut prefix).map_err(|e| EmulatorError::InvalidOption(e.to_string()))?;
    use base64::Engine;
    let cv_prefix = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(prefix);
    Ok(Self {
      shared: Arc::new(Shared {
        id_prefix: format!("8:acs:{resource_id}_").into_boxed_str(),
        resource_id: resource_id.into_boxed_str(),
        directory: Mutex::new(directory),
        store,
        signer: Signer::new(&signing_key).map_err(EmulatorError::InvalidOption)?,
        keys,
        bearer_tokens: options.bearer_tokens.clone(),
        throttle: options.throttling.then(Throttle::new),
        faults: Faults::default(),
        debug: debug_enabled(),
        scheme: if options.https { "https" } else { "http" },
        cv_prefix,
        cv_counter: AtomicU64::new(0),
      }),
    })
  }

  /// The resource id embedded in identity ids and tokens.
  pub fn resource_id(&self) -> &str {
    &self.shared.resource_id
  }

  /// Whether `token` is a token this emulator issued that is still valid; see
  /// [`crate::Emulator::verify_token`].
  pub fn verify_token(&self, token: &str) -> TokenVerdict {
    self.shared.verify_token(token, SystemTime::now())
  }

  /// Makes the next `fault.count` requests fail as `fault.kind` says.
  pub fn inject_faults(&self, fault: Fault) {
    self.shared.faults.push(fault);
  }

  /// Drops every pending fault.
  pub fn clear_faults(&self) {
    self.shared.faults.clear();
  }

  /// Commits pending writes and closes the database; the state answers 500 to writes
  /// afterwards. Does nothing for an in-memory state.
  pub async fn close(&self) {
    if let Some(store) = &self.shared.store {
      store.close().await;
    }
  }
}

/// `ACS_EMULATOR_DEBUG=1` (or `true`) turns diagnostics on.
fn debug_enabled() -> bool {
  std::env::var("ACS_EMULATOR_DEBUG")
    .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "yes"))
}

/// A resource id becomes part of every identity id, `8:acs:<resource>_<uuid>`, and the
/// first `_` ends it: it must be non-empty and free of `_`, `:`, `/` and white space.
fn check_resource_id(resource_id: &str) -> Result<(), EmulatorError> {
  if resource_id.is_empty()
    || resource_id.len() > 128
    || resource_id
      .chars()
      .any(|c| c == '_' || c == ':' || c == '/' || c.is_whitespace() || c.is_control())
  {
    return Err(EmulatorError::InvalidOption(format!(
      "the resource id {resource_id:?} cannot be part of an identity id: use a GUID"
    )));
  }
  Ok(())
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
  to_unix_millis(SystemTime::now())
}

impl Shared {
  fn directory(&self) -> MutexGuard<'_, Directory> {
    match self.directory.lock() {
      Ok(guard) => guard,
      Err(poisoned) => poisoned.into_inner(),
    }
  }

  fn persist(&self, write: Write) -> Option<Ack> {
    self.store.as_ref().map(|store| store.submit(write))
  }

  /// A value for the `MS-CV` response header, unique per response, shaped like the
  /// service's correlation vectors (`<base64>.0`).
  pub(crate) fn correlation_vector(&self) -> HeaderValue {
    let n = self.cv_counter.fetch_add(1, Ordering::Relaxed);
    let value = format!("{}{n:010x}.0", self.cv_prefix);
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("0.0"))
  }

  /// Creates an identity, or with a `custom_id` that a live identity has, returns that one.
  /// With `issue_token`, also records a token issued now and returns its `iatMs`.
  pub(crate) fn create(
    &self,
    custom_id: Option<&str>,
    issue_token: bool,
    now_ms: i64,
  ) -> (IdentityView, Option<i64>, Option<Ack>) {
    let mut directory = self.directory();
    if let Some(custom_id) = custom_id {
      if let Some(existing) = directory.custom_ids.get(custom_id).cloned() {
        if let Some(record) = directory.identities.get_mut(&existing) {
          let iat_ms = issue_token.then(|| issue_time(record, now_ms));
          if let Some(iat_ms) = iat_ms {
            record.last_token_issued_at_ms = Some(iat_ms);
          }
          let view = IdentityView {
            id: existing.to_string(),
            custom_id: record.custom_id.as_deref().map(str::to_owned),
            last_token_issued_at_ms: record.last_token_issued_at_ms,
          };
          // The identity may have been created by a request whose write is not committed
          // yet; this write (or barrier) is answered after that one, so the response never
          // names an identity that a crash could lose.
          let ack = self.persist(match iat_ms {
            Some(at_ms) => Write::TokenIssued {
              id: existing,
              at_ms,
            },
            None => Write::Barrier,
          });
          return (view, iat_ms, ack);
        }
      }
    }
    let id = format!("{}{}", self.id_prefix, uuid::Uuid::new_v4()).into_boxed_str();
    let iat_ms = issue_token.then_some(now_ms);
    let record = Record {
      custom_id: custom_id.map(Into::into),
      revoked_at_ms: 0,
      last_token_issued_at_ms: iat_ms,
      deleted_at_ms: None,
    };
    if let Some(custom_id) = &record.custom_id {
      directory.custom_ids.insert(custom_id.clone(), id.clone());
    }
    let ack = self.persist(Write::Insert(StoredIdentity {
      id: id.to_string(),
      custom_id: custom_id.map(str::to_owned),
      created_at_ms: now_ms,
      revoked_at_ms: 0,
      last_token_issued_at_ms: iat_ms,
      deleted_at_ms: None,
    }));
    let view = IdentityView {
      id: id.to_string(),
      custom_id: custom_id.map(str::to_owned),
      last_token_issued_at_ms: iat_ms,
    };
    directory.identities.insert(id, record);
    (view, iat_ms, ack)
  }

  /// Records a token issued now for `id`; returns its `iatMs`.
  pub(crate) fn issue(&self, id: &str, now_ms: i64) -> Result<(i64, Option<Ack>), Missing> {
    let mut directory = self.directory();
    let record = live(&mut directory, id)?;
    let iat_ms = issue_time(record, now_ms);
    record.last_token_issued_at_ms = Some(iat_ms);
    let ack = self.persist(Write::TokenIssued {
      id: id.into(),
      at_ms: iat_ms,
    });
    Ok((iat_ms, ack))
  }

  /// Revokes every token issued for `id` so far.
  pub(crate) fn revoke(&self, id: &str, now_ms: i64) -> Result<Option<Ack>, Missing> {
    let mut directory = self.directory();
    let record = live(&mut directory, id)?;
    // Covers every token issued so far, even one stamped a millisecond ahead of the clock.
    let revoked_at_ms = now_ms
      .max(record.revoked_at_ms)
      .max(record.last_token_issued_at_ms.unwrap_or(0));
    record.revoked_at_ms = revoked_at_ms;
    Ok(self.persist(Write::Revoke {
      id: id.into(),
      revoked_at_ms,
    }))
  }

  /// Deletes `id`: its tokens stop being valid and its custom id is free again.
  pub(crate) fn delete(&self, id: &str, now_ms: i64) -> Result<Option<Ack>, Missing> {
    let mut directory = self.directory();
    let record = live(&mut directory, id)?;
    record.deleted_at_ms = Some(now_ms);
    if let Some(custom_id) = record.custom_id.clone() {
      directory.custom_ids.remove(&custom_id);
    }
    Ok(self.persist(Write::Delete {
      id: id.into(),
      at_ms: now_ms,
    }))
  }

  /// The live identity `id`.
  pub(crate) fn get(&self, id: &str) -> Result<(IdentityView, Option<Ack>), Missing> {
    let mut directory = self.directory();
    let record = live(&mut directory, id)?;
    let view = IdentityView {
      id: id.to_owned(),
      custom_id: record.custom_id.as_deref().map(str::to_owned),
      last_token_issued_at_ms: record.last_token_issued_at_ms,
    };
    // Reads wait for earlier writes to be committed too (see `create`).
    Ok((view, self.persist(Write::Barrier)))
  }

  pub(crate) fn verify_token(&self, token: &str, now: SystemTime) -> TokenVerdict {
    let claims = match self.signer.verify(token) {
      Ok(claims) => claims,
      Err(jwt::Invalid::Malformed) => return TokenVerdict::invalid("malformed"),
      Err(jwt::Invalid::Signature) => return TokenVerdict::invalid("signature"),
    };
    let now_s = to_unix_millis(now).div_euclid(1000);
    if claims.acs.exp <= now_s {
      return TokenVerdict::invalid("expired");
    }
    let Some(acs_id) = claims.acs.skypeid.strip_prefix("acs:") else {
      // A Teams user's token from the exchange: no identity of ours to check.
      return TokenVerdict::VALID;
    };
    let directory = self.directory();
    let id = format!("8:acs:{acs_id}");
    match directory.identities.get(id.as_str()) {
      None => TokenVerdict::invalid("unknown-identity"),
      Some(record) if record.deleted_at_ms.is_some() => TokenVerdict::invalid("deleted"),
      Some(record) if claims.iat_ms <= record.revoked_at_ms => TokenVerdict::invalid("revoked"),
      Some(_) => TokenVerdict::VALID,
    }
  }

  /// The number of identities, deleted ones included (for tests).
  #[cfg(test)]
  pub(crate) fn identity_count(&self) -> usize {
    self.directory().identities.len()
  }
}

fn live<'d>(directory: &'d mut Directory, id: &str) -> Result<&'d mut Record, Missing> {
  match directory.identities.get_mut(id) {
    None => Err(Missing::Unknown),
    Some(record) if record.deleted_at_ms.is_some() => Err(Missing::Deleted),
    Some(record) => Ok(record),
  }
}

/// The `iatMs` of a token issued now: after the last revocation, so that a token issued in
/// the same millisecond as `revokeAccessTokens`, but after it, is valid.
fn issue_time(record: &Record, now_ms: i64) -> i64 {
  now_ms.max(record.revoked_at_ms + 1)
}
