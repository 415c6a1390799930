//! Persistence of the emulator's state in SQLite, used when a data directory is given.
//!
//! The in-memory directory (`state.rs`) stays the one the requests read; this module is its
//! durable log. Writes go through one writer thread that owns the only connection:
//!
//! - A request changes the in-memory state and queues its write **while holding the
//!   directory lock**, so the log has the writes in the order the state saw them.
//! - It then waits, without any lock, for the writer to report the commit, and only then
//!   answers: a write is acknowledged only once it is committed.
//! - The writer commits whatever queued up while the previous commit ran in one
//!   transaction (group commit), so many concurrent clients cost one commit, not one each.
//!
//! Durability: WAL with `synchronous=NORMAL`. A committed transaction is in the WAL file
//! before `COMMIT` returns, so killing the emulator at any moment loses nothing it
//! acknowledged (the promise of issue 3). Only an operating-system crash or power loss can
//! lose the last transactions (never corrupt the database); paying an fsync per commit
//! (`FULL`) for that would make a development emulator slow for no user-visible gain.
//!
//! The connection uses `locking_mode=EXCLUSIVE`, so a second emulator on the same directory
//! fails at start instead of silently forking the state.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use crate::error::EmulatorError;

/// The name of the SQLite database the emulator keeps in its data directory.
pub const DATABASE_FILE: &str = "acs-identity-emulator.sqlite3";

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS identities (
  id TEXT PRIMARY KEY NOT NULL,
  custom_id TEXT,
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER NOT NULL DEFAULT 0,
  last_token_issued_at_ms INTEGER,
  deleted_at_ms INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS identities_live_custom_id
  ON identities (custom_id) WHERE custom_id IS NOT NULL AND deleted_at_ms IS NULL;
";

/// One identity as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredIdentity {
  pub(crate) id: String,
  pub(crate) custom_id: Option<String>,
  pub(crate) created_at_ms: i64,
  pub(crate) revoked_at_ms: i64,
  pub(crate) last_token_issued_at_ms: Option<i64>,
  pub(crate) deleted_at_ms: Option<i64>,
}

/// What a data directory held when it was opened.
pub(crate) struct Loaded {
  pub(crate) resource_id: String,
  pub(crate) signing_key: Vec<u8>,
  pub(crate) identities: Vec<StoredIdentity>,
}

/// A change to persist.
#[derive(Debug, Clone)]
pub(crate) enum Write {
  Insert(StoredIdentity),
  TokenIssued {
    id: Box<str>,
    at_ms: i64,
  },
  Revoke {
    id: Box<str>,
    revoked_at_ms: i64,
  },
  Delete {
    id: Box<str>,
    at_ms: i64,
  },
  /// Nothing to write: answered once everything queued before it is committed.
  Barrier,
}

/// The answer to a queued write: `Err` carries SQLite's message.
pub(crate) type Ack = oneshot::Receiver<Result<(), String>>;

enum Job {
  Write(Write, oneshot::Sender<Result<(), String>>),
  Close,
}

/// The writer thread and the queue to it.
pub(crate) struct Store {
  queue: Mutex<Option<mpsc::Sender<Job>>>,
  thread: Mutex<Option<JoinHandle<()>>>,
  path: PathBuf,
}

impl std::fmt::Debug for Store {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Store").field("path", &self.path).finish()
  }
}

impl Store {
  /// Opens (or creates) the database in `dir`, reads it whole, and starts the writer.
  ///
  /// `resource_id` is the one the options ask for: a new directory stores it (or a fresh
  /// uuid when `None`); a used one must hold the same, because its identities' ids embed it.
  pub(crate) fn open(
    dir: &Path,
    resource_id: Option<&str>,
  ) -> Result<(Self, Loaded), EmulatorError> {
    let storage = |message: String| EmulatorError::Storage {
      path: dir.to_path_buf(),
      message,
    };
    std::fs::create_dir_all(dir).map_err(|e| storage(format!("cannot create it: {e}")))?;
    let path = dir.join(DATABASE_FILE);
    let sql = |e: rusqlite::Error| EmulatorError::Storage {
      path: path.clone(),
      message: match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
          "another emulator is using this data directory".to_owned()
        }
        _ => e.to_string(),
      },
    };
    let mut conn = Connection::open(&path).map_err(sql)?;
    conn.busy_timeout(Duration::from_secs(2)).map_err(sql)?;
    conn
      .execute_batch(
        "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
      )
      .map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    tx.execute_batch(SCHEMA).map_err(sql)?;
    let schema: Option<i64> = tx
      .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
        r.get(0)
      })
      .optional()
      .map_err(sql)?;
    match schema {
      None => {
        tx.execute(
          "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
          params![SCHEMA_VERSION],
        )
        .map_err(sql)?;
      }
      Some(SCHEMA_VERSION) => {}
      Some(other) => {
        return Err(storage(format!(
          "its database has schema version {other}, this emulator knows only {SCHEMA_VERSION}"
        )))
      }
    }
    let stored_resource: Option<String> = tx
      .query_row(
        "SELECT value FROM meta WHERE key = 'resource_id'",
        [],
        |r| r.get(0),
      )
      .optional()
      .map_err(sql)?;
    let resource_id = match (stored_resource, resource_id) {
      (Some(stored), Some(asked)) if stored != asked => {
        return Err(storage(format!(
          "it belongs to resource {stored}, not {asked}: its identities would all be another resource's"
        )))
      }
      (Some(stored), _) => stored,
      (None, asked) => {
        let id = asked.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        tx.execute("INSERT INTO meta (key, value) VALUES ('resource_id', ?1)", params![id])
          .map_err(sql)?;
        id
      }
    };
    let stored_key: Option<Vec<u8>> = tx
      .query_row(
        "SELECT value FROM meta WHERE key = 'signing_key'",
        [],
        |r| r.get(0),
      )
      .optional()
      .map_err(sql)?;
    let signing_key = match stored_key {
      Some(key) if key.len() >= 32 => key,
      _ => {
        let key = crate::jwt::new_signing_key().map_err(storage)?;
        tx.execute(
          "INSERT OR REPLACE INTO meta (key, value) VALUES ('signing_key', ?1)",
          params![key],
        )
        .map_err(sql)?;
        key
      }
    };
    let identities = {
      let mut statement = tx
        .prepare(
          "SELECT id, custom_id, created_at_ms, revoked_at_ms, last_token_issued_at_ms, deleted_at_ms
           FROM identities ORDER BY created_at_ms",
        )
        .map_err(sql)?;
      let rows = statement
        .query_map([], |r| {
          Ok(StoredIdentity {
            id: r.get(0)?,
            custom_id: r.get(1)?,
            created_at_ms: r.get(2)?,
            revoked_at_ms: r.get(3)?,
            last_token_issued_at_ms: r.get(4)?,
            deleted_at_ms: r.get(5)?,
          })
        })
        .map_err(sql)?;
      rows.collect::<Result<Vec<_>, _>>().map_err(sql)?
    };
    tx.commit().map_err(sql)?;

    let (sender, receiver) = mpsc::channel();
    let thread = std::thread::Builder::new()
      .name("acs-emulator-store".to_owned())
      .spawn(move || writer(conn, receiver))
      .map_err(|e| storage(format!("cannot start the writer thread: {e}")))?;
    Ok((
      Self {
        queue: Mutex::new(Some(sender)),
        thread: Mutex::new(Some(thread)),
        path,
      },
      Loaded {
        resource_id,
        signing_key,
        identities,
      },
    ))
  }

  /// Queues a write and returns how to learn that it is committed. Never blocks, so it may
  /// be called under the directory lock (which is what keeps the log in order).
  pub(crate) fn submit(&self, write: Write) -> Ack {
    let (done, ack) = oneshot::channel();
    let queue = match self.queue.lock() {
      Ok(guard) => guard,
      Err(poisoned) => poisoned.into_inner(),
    };
    match queue.as_ref() {
      Some(sender) => {
        if let Err(mpsc::SendError(Job::Write(_, done))) = sender.send(Job::Write(write, done)) {
          let _ = done.send(Err("the emulator is shutting down".to_owned()));
        }
      }
      None => {
        let _ = done.send(Err("the emulator is shutting down".to_owned()));
      }
    }
    ack
  }

  /// Commits what is queued, stops the writer and closes the database. Later writes fail.
  pub(crate) async fn close(&self) {
    let sender = match self.queue.lock() {
      Ok(mut guard) => guard.take(),
      Err(poisoned) => poisoned.into_inner().take(),
    };
    if let Some(sender) = sender {
      let _ = sender.send(Job::Close);
    }
    let thread = match self.thread.lock() {
      Ok(mut guard) => guard.take(),
      Err(poisoned) => poisoned.into_inner().take(),
    };
    if let Some(thread) = thread {
      let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
  }
}

/// Waits for a queued write to be committed.
pub(crate) async fn committed(ack: Ack) -> Result<(), String> {
  match ack.await {
    Ok(result) => result,
    Err(_) => Err("the emulator's storage stopped".to_owned()),
  }
}

/// The most writes committed in one transaction.
const MAX_BATCH: usize = 1024;

fn writer(mut conn: Connection, queue: mpsc::Receiver<Job>) {
  let mut closing = false;
  while !closing {
    let Ok(first) = queue.recv() else { break };
    let mut batch = Vec::new();
    match first {
      Job::Write(write, done) => batch.push((write, done)),
      Job::Close => closing = true,
    }
    while !closing && batch.len() < MAX_BATCH {
      match queue.try_recv() {
        Ok(Job::Write(write, done)) => batch.push((write, done)),
        Ok(Job::Close) => closing = true,
        Err(_) => break,
      }
    }
    if batch.is_empty() {
      continue;
    }
    match apply(&mut conn, batch.iter().map(|(w, _)| w)) {
      Ok(()) => {
        for (_, done) in batch {
          let _ = done.send(Ok(()));
        }
      }
      Err(_) => {
        // Find out which write failed: each alone, in its own transaction.
        for (write, done) in batch {
          let result = apply(&mut conn, std::iter::once(&write)).map_err(|e| e.to_string());
          let _ = done.send(result);
        }
      }
    }
  }
  // Fold the WAL back into the database file so the directory is one file at rest.
  let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
}

fn apply<'a>(
  conn: &mut Connection,
  writes: impl Iterator<Item = &'a Write>,
) -> rusqlite::Result<()> {
  let tx = conn.transaction()?;
  for write in writes {
    match write {
      Write::Insert(identity) => {
        tx.prepare_cached(
          "INSERT INTO identities (id, custom_id, created_at_ms, revoked_at_ms, last_token_issued_at_ms, deleted_at_ms)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
          identity.id,
          identity.custom_id,
          identity.created_at_ms,
          identity.revoked_at_ms,
          identity.last_token_issued_at_ms,
          identity.deleted_at_ms
        ])?;
      }
      Write::TokenIssued { id, at_ms } => {
        tx.prepare_cached("UPDATE identities SET last_token_issued_at_ms = ?2 WHERE id = ?1")?
          .execute(params![&**id, at_ms])?;
      }
      Write::Revoke { id, revoked_at_ms } => {
        tx.prepare_cached("UPDATE identities SET revoked_at_ms = ?2 WHERE id = ?1")?
          .execute(params![&**id, revoked_at_ms])?;
      }
      Write::Delete { id, at_ms } => {
        tx.prepare_cached("UPDATE identities SET deleted_at_ms = ?2 WHERE id = ?1")?
          .execute(params![&**id, at_ms])?;
      }
      Write::Barrier => {}
    }
  }
  tx.commit()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
      "acs-emulator-store-{name}-{}",
      uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
  }

  fn identity(id: &str, custom_id: Option<&str>) -> StoredIdentity {
    StoredIdentity {
      id: id.to_owned(),
      custom_id: custom_id.map(str::to_owned),
      created_at_ms: 1,
      revoked_at_ms: 0,
      last_token_issued_at_ms: None,
      deleted_at_ms: None,
    }
  }

  #[tokio::test]
  async fn writes_survive_a_reopen_and_keep_resource_and_key() {
    let dir = temp_dir("reopen");
    let (store, loaded) = Store::open(&dir, Some("res")).unwrap();
    assert_eq!(loaded.resource_id, "res");
    assert!(loaded.identities.is_empty());
    let key = loaded.signing_key.clone();
    committed(store.submit(Write::Insert(identity("8:acs:res_a", Some("alice")))))
      .await
      .unwrap();
    committed(store.submit(Write::Insert(identity("8:acs:res_b", None))))
      .await
      .unwrap();
    committed(store.submit(Write::Revoke {
      id: "8:acs:res_a".into(),
      revoked_at_ms: 5,
    }))
    .await
    .unwrap();
    committed(store.submit(Write::TokenIssued {
      id: "8:acs:res_a".into(),
      at_ms: 7,
    }))
    .await
    .unwrap();
    committed(store.submit(Write::Delete {
      id: "8:acs:res_b".into(),
      at_ms: 9,
    }))
    .await
    .unwrap();
    store.close().await;
    assert!(committed(store.submit(Write::Barrier)).await.is_err());

    let (store, loaded) = Store::open(&dir, None).unwrap();
    assert_eq!(loaded.resource_id, "res");
    assert_eq!(loaded.signing_key, key);
    let a = &loaded.identities[0];
    assert_eq!(
      (
        a.custom_id.as_deref(),
        a.revoked_at_ms,
        a.last_token_issued_at_ms
      ),
      (Some("alice"), 5, Some(7))
    );
    assert_eq!(loaded.identities[1].deleted_at_ms, Some(9));
    store.close().await;

    let err = Store::open(&dir, Some("other")).err().unwrap();
    assert!(err.to_string().contains("belongs to resource res"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn a_failing_write_fails_alone() {
    let dir = temp_dir("fail");
    let (store, _) = Store::open(&dir, None).unwrap();
    let first = store.submit(Write::Insert(identity("8:acs:x_1", Some("same"))));
    let duplicate = store.submit(Write::Insert(identity("8:acs:x_2", Some("same"))));
    let other = store.submit(Write::Insert(identity("8:acs:x_3", None)));
    assert!(committed(first).await.is_ok());
    assert!(committed(duplicate).await.is_err());
    assert!(committed(other).await.is_ok());
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn a_second_emulator_on_the_same_directory_is_refused() {
    let dir = temp_dir("lock");
    let (store, _) = Store::open(&dir, None).unwrap();
    let started = std::time::Instant::now();
    let err = Store::open(&dir, None).err().unwrap();
    assert!(err.to_string().contains("another emulator"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
  }
}
