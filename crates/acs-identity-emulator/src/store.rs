//! Persistence of the emulator's state in an append-only journal, used when a data directory
//! is given.
//!
//! The in-memory directory (`state.rs`) stays the one the requests read; this module is its
//! durable log: one file, [`JOURNAL_FILE`], of JSON lines. The first line is a header, each
//! other line one change:
//!
//! ```text
//! {"journal":"acs-identity-emulator","version":1,"resource_id":"…","signing_key":"<base64>"}
//! {"op":"insert","id":"8:acs:…","custom_id":"alice","created_at_ms":…,"revoked_at_ms":0}
//! {"op":"token","id":"8:acs:…","at_ms":…}
//! {"op":"revoke","id":"8:acs:…","revoked_at_ms":…}
//! {"op":"delete","id":"8:acs:…","at_ms":…}
//! ```
//!
//! An insert leaves out the optional fields it does not have (`custom_id`,
//! `last_token_issued_at_ms`, `deleted_at_ms`); compaction writes them as inserts too.
//!
//! Writes go through one writer thread that owns the file:
//!
//! - A request changes the in-memory state and queues its write **while holding the
//!   directory lock**, so the journal has the writes in the order the state saw them.
//! - It then waits, without any lock, for the writer to report the write, and only then
//!   answers: a write is acknowledged only once it is in the file.
//! - The writer appends whatever queued up while the previous append ran with one `write`
//!   (group commit), so many concurrent clients cost one system call, not one each.
//! - The writer checks each write against the journal's rules (an identity is inserted once,
//!   a custom id belongs to at most one live identity, a change names a known identity), so
//!   the file always replays. A write that breaks a rule fails alone; the rest of its batch
//!   is written.
//!
//! Durability: a write is acknowledged once `write(2)` has returned, without an fsync. It
//! is then in the operating system's cache, so killing the emulator at any moment loses
//! nothing it acknowledged (the promise of issue 3). Only an operating-system crash or a
//! power loss can lose the last writes, the same guarantee as the SQLite WAL with
//! `synchronous=NORMAL` that this journal replaced; an fsync per batch would make a
//! development emulator slow for no user-visible gain. [`Store::close`] does fsync once.
//! A kill in the middle of an append can leave an incomplete last line: that write was
//! never acknowledged, and the next open ignores it and drops it. Any other damage stops
//! the open with an error naming the line, never a guess.
//!
//! Opening replays the journal, then compacts it: the current state, a header and one
//! insert per identity (tokens issued, revocations and deletions folded in), is written to a
//! temporary file, fsynced and renamed over the journal, so the file does not grow without
//! bound across restarts. Deleted identities are kept, so their tokens are judged `deleted`.
//!
//! While a store is open it holds a lock (`flock`, `LockFileEx`) on [`LOCK_FILE`], so a
//! second emulator on the same directory fails at start instead of silently forking the
//! state. The lock is on a file of its own because compaction replaces the journal's file.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::error::EmulatorError;

/// The name of the journal the emulator keeps in its data directory.
pub const JOURNAL_FILE: &str = "acs-identity-emulator.journal";

/// The file an open emulator holds a lock on, in its data directory.
pub const LOCK_FILE: &str = "acs-identity-emulator.lock";

/// Where compaction writes the new journal before renaming it over the old one.
const COMPACT_FILE: &str = "acs-identity-emulator.journal.tmp";

/// The database of the emulator's versions that used SQLite.
const SQLITE_FILE: &str = "acs-identity-emulator.sqlite3";

/// The header's `journal` field: what the file is.
const FORMAT: &str = "acs-identity-emulator";

/// The header's `version` field: the format of the lines.
const FORMAT_VERSION: u64 = 1;

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
  /// Nothing to write: answered once everything queued before it is written.
  Barrier,
}

/// The answer to a queued write: `Err` says why it was not written.
pub(crate) type Ack = oneshot::Receiver<Result<(), String>>;

/// The journal's first line.
#[derive(Serialize, Deserialize)]
struct Header {
  journal: String,
  version: u64,
  resource_id: String,
  /// Standard base64.
  signing_key: String,
}

/// Every other line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record<'a> {
  Insert {
    id: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    custom_id: Option<Cow<'a, str>>,
    created_at_ms: i64,
    revoked_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_token_issued_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted_at_ms: Option<i64>,
  },
  Token {
    id: Cow<'a, str>,
    at_ms: i64,
  },
  Revoke {
    id: Cow<'a, str>,
    revoked_at_ms: i64,
  },
  Delete {
    id: Cow<'a, str>,
    at_ms: i64,
  },
}

impl<'a> Record<'a> {
  /// The line for `write`; `None` for a barrier.
  fn of(write: &'a Write) -> Option<Self> {
    Some(match write {
      Write::Insert(identity) => Self::of_identity(identity),
      Write::TokenIssued { id, at_ms } => Record::Token {
        id: Cow::Borrowed(id),
        at_ms: *at_ms,
      },
      Write::Revoke { id, revoked_at_ms } => Record::Revoke {
        id: Cow::Borrowed(id),
        revoked_at_ms: *revoked_at_ms,
      },
      Write::Delete { id, at_ms } => Record::Delete {
        id: Cow::Borrowed(id),
        at_ms: *at_ms,
      },
      Write::Barrier => return None,
    })
  }

  fn of_identity(identity: &'a StoredIdentity) -> Self {
    Record::Insert {
      id: Cow::Borrowed(&identity.id),
      custom_id: identity.custom_id.as_deref().map(Cow::Borrowed),
      created_at_ms: identity.created_at_ms,
      revoked_at_ms: identity.revoked_at_ms,
      last_token_issued_at_ms: identity.last_token_issued_at_ms,
      deleted_at_ms: identity.deleted_at_ms,
    }
  }

  /// Appends the line, newline included, to `out`.
  fn write_line(&self, out: &mut Vec<u8>) -> Result<(), String> {
    serde_json::to_writer(&mut *out, self).map_err(|e| e.to_string())?;
    out.push(b'\n');
    Ok(())
  }
}

/// What the journal's rules need to know of its identities. The writer checks each write
/// against it before appending, and the replay checks each line, so a journal the writer
/// wrote always replays.
#[derive(Debug, Default)]
struct Rules {
  /// Every identity, deleted ones included, with its custom id while it is live.
  identities: HashMap<Box<str>, Option<Box<str>>>,
  /// The custom ids of the live identities.
  live_custom_ids: HashSet<Box<str>>,
}

/// How to take back a change that [`Rules::apply`] made, when its line could not be written.
#[derive(Debug)]
enum Undo {
  Nothing,
  Insert(Box<str>),
  Delete { id: Box<str>, custom_id: Box<str> },
}

impl Rules {
  fn apply(&mut self, record: &Record<'_>) -> Result<Undo, String> {
    match record {
      Record::Insert {
        id,
        custom_id,
        deleted_at_ms,
        ..
      } => {
        if self.identities.contains_key(&**id) {
          return Err(format!("the identity {id} exists already"));
        }
        let live_custom_id = match (custom_id, deleted_at_ms) {
          (Some(custom_id), None) => Some(Box::<str>::from(&**custom_id)),
          _ => None,
        };
        if let Some(custom_id) = &live_custom_id {
          if !self.live_custom_ids.insert(custom_id.clone()) {
            return Err(format!(
              "the custom id {custom_id:?} belongs to another live identity"
            ));
          }
        }
        let id = Box::<str>::from(&**id);
        self.identities.insert(id.clone(), live_custom_id);
        Ok(Undo::Insert(id))
      }
      Record::Token { id, .. } | Record::Revoke { id, .. } => {
        if self.identities.contains_key(&**id) {
          Ok(Undo::Nothing)
        } else {
          Err(format!("there is no identity {id}"))
        }
      }
      Record::Delete { id, .. } => match self.identities.get_mut(&**id) {
        None => Err(format!("there is no identity {id}")),
        Some(custom_id) => match custom_id.take() {
          Some(custom_id) => {
            self.live_custom_ids.remove(&custom_id);
            Ok(Undo::Delete {
              id: Box::from(&**id),
              custom_id,
            })
          }
          None => Ok(Undo::Nothing),
        },
      },
    }
  }

  fn undo(&mut self, undo: Undo) {
    match undo {
      Undo::Nothing => {}
      Undo::Insert(id) => {
        if let Some(Some(custom_id)) = self.identities.remove(&id) {
          self.live_custom_ids.remove(&custom_id);
        }
      }
      Undo::Delete { id, custom_id } => {
        self.live_custom_ids.insert(custom_id.clone());
        self.identities.insert(id, Some(custom_id));
      }
    }
  }
}

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
  /// Opens (or creates) the journal in `dir`, replays and compacts it, and starts the writer.
  ///
  /// `resource_id` is the one the options ask for: a new directory stores it (or a fresh
  /// uuid when `None`); a used one must hold the same, because its identities' ids embed it.
  pub(crate) fn open(
    dir: &Path,
    resource_id: Option<&str>,
  ) -> Result<(Self, Loaded), EmulatorError> {
    let storage = |path: &Path, message: String| EmulatorError::Storage {
      path: path.to_path_buf(),
      message,
    };
    std::fs::create_dir_all(dir).map_err(|e| storage(dir, format!("cannot create it: {e}")))?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = OpenOptions::new()
      .read(true)
      .write(true)
      .create(true)
      .truncate(false)
      .open(&lock_path)
      .map_err(|e| storage(&lock_path, format!("cannot open it: {e}")))?;
    match lock.try_lock() {
      Ok(()) => {}
      Err(TryLockError::WouldBlock) => {
        return Err(storage(
          dir,
          "another emulator is using this data directory".to_owned(),
        ))
      }
      Err(TryLockError::Error(e)) => {
        return Err(storage(&lock_path, format!("cannot lock it: {e}")))
      }
    }

    let path = dir.join(JOURNAL_FILE);
    let replayed = match File::open(&path) {
      Ok(file) => Some(replay(file).map_err(|message| storage(&path, message))?),
      Err(e) if e.kind() == io::ErrorKind::NotFound => None,
      Err(e) => return Err(storage(&path, format!("cannot read it: {e}"))),
    };
    let (header, identities, rules) = match replayed {
      Some(replayed) => {
        if let Some(asked) = resource_id {
          let stored = &replayed.header.resource_id;
          if stored != asked {
            return Err(storage(
              dir,
              format!(
                "it belongs to resource {stored}, not {asked}: its identities would all be \
                 another resource's"
              ),
            ));
          }
        }
        (replayed.header, replayed.identities, replayed.rules)
      }
      None => {
        if dir.join(SQLITE_FILE).exists() {
          return Err(storage(
            dir,
            format!(
              "it holds {SQLITE_FILE}, the SQLite database of an earlier version of the \
               emulator, which this one cannot read: use another directory, or remove that file \
               to start empty"
            ),
          ));
        }
        let key = crate::jwt::new_signing_key().map_err(|message| storage(dir, message))?;
        let header = Header {
          journal: FORMAT.to_owned(),
          version: FORMAT_VERSION,
          resource_id: resource_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned),
          signing_key: base64::engine::general_purpose::STANDARD.encode(key),
        };
        (header, Vec::new(), Rules::default())
      }
    };
    let signing_key = base64::engine::general_purpose::STANDARD
      .decode(&header.signing_key)
      .ok()
      .filter(|key| key.len() >= 32)
      .ok_or_else(|| {
        storage(
          &path,
          "line 1, the header, is damaged: its signing_key is not base64 of at least 32 bytes"
            .to_owned(),
        )
      })?;

    let length = compact(dir, &path, &header, &identities)
      .map_err(|e| storage(&path, format!("cannot rewrite it: {e}")))?;
    let file = OpenOptions::new()
      .append(true)
      .open(&path)
      .map_err(|e| storage(&path, format!("cannot open it: {e}")))?;
    let writer = Writer {
      file,
      length,
      rules,
      broken: None,
      _lock: lock,
    };
    let (sender, receiver) = mpsc::channel();
    let thread = std::thread::Builder::new()
      .name("acs-emulator-store".to_owned())
      .spawn(move || writer.run(receiver))
      .map_err(|e| storage(dir, format!("cannot start the writer thread: {e}")))?;
    Ok((
      Self {
        queue: Mutex::new(Some(sender)),
        thread: Mutex::new(Some(thread)),
        path,
      },
      Loaded {
        resource_id: header.resource_id,
        signing_key,
        identities,
      },
    ))
  }

  /// Queues a write and returns how to learn that it is written. Never blocks, so it may be
  /// called under the directory lock (which is what keeps the journal in order).
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

  /// Writes what is queued, stops the writer, fsyncs and closes the journal and releases
  /// the directory. Later writes fail.
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

/// Waits for a queued write to be written.
pub(crate) async fn committed(ack: Ack) -> Result<(), String> {
  match ack.await {
    Ok(result) => result,
    Err(_) => Err("the emulator's storage stopped".to_owned()),
  }
}

/// What a journal held.
struct Replayed {
  header: Header,
  identities: Vec<StoredIdentity>,
  rules: Rules,
}

/// Reads a journal whole: its header, then each change in order.
fn replay(file: File) -> Result<Replayed, String> {
  let mut reader = BufReader::new(file);
  let mut line = Vec::new();
  let mut number = 0usize;
  let mut header = None;
  let mut identities: Vec<StoredIdentity> = Vec::new();
  let mut index: HashMap<String, usize> = HashMap::new();
  let mut rules = Rules::default();
  loop {
    line.clear();
    let read = reader
      .read_until(b'\n', &mut line)
      .map_err(|e| format!("cannot read it: {e}"))?;
    if read == 0 {
      break;
    }
    number += 1;
    let Some(text) = line.strip_suffix(b"\n") else {
      // An incomplete last line: an append the emulator was stopped in the middle of,
      // which it never acknowledged. Compaction leaves it out.
      break;
    };
    if number == 1 {
      header = Some(read_header(text)?);
      continue;
    }
    let damaged = |reason: String| {
      format!(
        "line {number} is damaged ({reason}), so the journal cannot be replayed: repair \
         that line, or move the file away to start empty"
      )
    };
    let record: Record<'_> = serde_json::from_slice(text).map_err(|e| damaged(e.to_string()))?;
    rules.apply(&record).map_err(damaged)?;
    match record {
      Record::Insert {
        id,
        custom_id,
        created_at_ms,
        revoked_at_ms,
        last_token_issued_at_ms,
        deleted_at_ms,
      } => {
        let id = id.into_owned();
        index.insert(id.clone(), identities.len());
        identities.push(StoredIdentity {
          id,
          custom_id: custom_id.map(Cow::into_owned),
          created_at_ms,
          revoked_at_ms,
          last_token_issued_at_ms,
          deleted_at_ms,
        });
      }
      Record::Token { id, at_ms } => {
        if let Some(identity) = index.get(&*id).and_then(|&i| identities.get_mut(i)) {
          identity.last_token_issued_at_ms = Some(at_ms);
        }
      }
      Record::Revoke { id, revoked_at_ms } => {
        if let Some(identity) = index.get(&*id).and_then(|&i| identities.get_mut(i)) {
          identity.revoked_at_ms = revoked_at_ms;
        }
      }
      Record::Delete { id, at_ms } => {
        if let Some(identity) = index.get(&*id).and_then(|&i| identities.get_mut(i)) {
          identity.deleted_at_ms = Some(at_ms);
        }
      }
    }
  }
  let header = header.ok_or_else(|| {
    "it has no complete first line: it is not an acs-identity-emulator journal, or it is damaged"
      .to_owned()
  })?;
  Ok(Replayed {
    header,
    identities,
    rules,
  })
}

/// Reads line 1: what the file is and its format's version first, then the fields.
fn read_header(text: &[u8]) -> Result<Header, String> {
  let not_ours =
    || "it is not an acs-identity-emulator journal (line 1 is not its header)".to_owned();
  let value: serde_json::Value = serde_json::from_slice(text).map_err(|_| not_ours())?;
  if value.get("journal").and_then(serde_json::Value::as_str) != Some(FORMAT) {
    return Err(not_ours());
  }
  match value.get("version").and_then(serde_json::Value::as_u64) {
    Some(FORMAT_VERSION) => {}
    Some(other) => {
      return Err(format!(
        "its journal has format version {other}, this emulator knows only version {FORMAT_VERSION}"
      ))
    }
    None => return Err("line 1, the header, is damaged: it has no format version".to_owned()),
  }
  serde_json::from_value(value).map_err(|e| format!("line 1, the header, is damaged ({e})"))
}

/// Writes `header` and `identities` as a fresh journal next to `path`, fsyncs it and
/// renames it over `path`. Returns its length.
fn compact(
  dir: &Path,
  path: &Path,
  header: &Header,
  identities: &[StoredIdentity],
) -> io::Result<u64> {
  let temp = dir.join(COMPACT_FILE);
  let mut out = BufWriter::new(File::create(&temp)?);
  let mut line = Vec::new();
  serde_json::to_writer(&mut line, header)?;
  line.push(b'\n');
  out.write_all(&line)?;
  let mut length = line.len();
  for identity in identities {
    line.clear();
    Record::of_identity(identity)
      .write_line(&mut line)
      .map_err(io::Error::other)?;
    out.write_all(&line)?;
    length += line.len();
  }
  let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
  file.sync_all()?;
  drop(file);
  std::fs::rename(&temp, path)?;
  sync_dir(dir)?;
  Ok(length as u64)
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
  File::open(dir)?.sync_all()
}

/// The standard library cannot open a directory on Windows to flush it: there the rename
/// is as durable as the file system's own metadata journal makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
  Ok(())
}

/// The most writes appended in one batch.
const MAX_BATCH: usize = 1024;

/// The writer thread's state.
struct Writer {
  /// The journal, opened for appending.
  file: File,
  /// The journal's length up to its last complete append.
  length: u64,
  rules: Rules,
  /// Why writes cannot go on: set when a failed append could not be taken back.
  broken: Option<String>,
  /// Held, locked, until the writer ends.
  _lock: File,
}

impl Writer {
  fn run(mut self, queue: mpsc::Receiver<Job>) {
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
      if !batch.is_empty() {
        let results = self.append(batch.iter().map(|(write, _)| write));
        for ((_, done), result) in batch.into_iter().zip(results) {
          let _ = done.send(result);
        }
      }
    }
    // Once at the end, so that a clean stop survives an operating-system crash too.
    let _ = self.file.sync_data();
  }

  /// Appends the writes that keep the rules, with one `write` call; returns each one's
  /// result, in order.
  fn append<'a>(&mut self, writes: impl Iterator<Item = &'a Write>) -> Vec<Result<(), String>> {
    if let Some(reason) = &self.broken {
      return writes.map(|_| Err(reason.clone())).collect();
    }
    let mut bytes = Vec::new();
    let mut undos = Vec::new();
    let mut results: Vec<Result<(), String>> = writes
      .map(|write| {
        let Some(record) = Record::of(write) else {
          return Ok(());
        };
        let start = bytes.len();
        record.write_line(&mut bytes)?;
        match self.rules.apply(&record) {
          Ok(undo) => {
            undos.push(undo);
            Ok(())
          }
          Err(e) => {
            bytes.truncate(start);
            Err(e)
          }
        }
      })
      .collect();
    if bytes.is_empty() {
      return results;
    }
    match self.file.write_all(&bytes) {
      Ok(()) => self.length += bytes.len() as u64,
      Err(e) => {
        // Nothing of this batch is acknowledged: cut what part of it reached the file, so
        // the next append starts on a line of its own, and forget its changes.
        let reason = format!("cannot append to the journal: {e}");
        for undo in undos.into_iter().rev() {
          self.rules.undo(undo);
        }
        if let Err(cut) = self.file.set_len(self.length) {
          self.broken = Some(format!(
            "{reason}; then cannot cut it back ({cut}): restart the emulator"
          ));
        }
        results = results.into_iter().map(|_| Err(reason.clone())).collect();
      }
    }
    results
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::time::Duration;

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

  fn open_err(dir: &Path, resource_id: Option<&str>) -> String {
    match Store::open(dir, resource_id) {
      Ok(_) => panic!("{} opened", dir.display()),
      Err(e) => e.to_string(),
    }
  }

  /// A directory whose journal holds the identities `ids` (no custom ids).
  async fn journal_with(name: &str, ids: &[&str]) -> PathBuf {
    let dir = temp_dir(name);
    let (store, _) = Store::open(&dir, Some("res")).unwrap();
    for id in ids {
      committed(store.submit(Write::Insert(identity(id, None))))
        .await
        .unwrap();
    }
    store.close().await;
    dir
  }

  fn loaded_ids(loaded: &Loaded) -> Vec<&str> {
    loaded.identities.iter().map(|i| i.id.as_str()).collect()
  }

  #[tokio::test]
  async fn writes_survive_a_reopen_and_keep_resource_and_key() {
    let dir = temp_dir("reopen");
    let (store, loaded) = Store::open(&dir, Some("res")).unwrap();
    assert_eq!(loaded.resource_id, "res");
    assert!(loaded.identities.is_empty());
    let key = loaded.signing_key.clone();
    assert!(key.len() >= 32);
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
    assert_eq!(loaded_ids(&loaded), ["8:acs:res_a", "8:acs:res_b"]);
    assert_eq!(
      loaded.identities[0],
      StoredIdentity {
        id: "8:acs:res_a".into(),
        custom_id: Some("alice".into()),
        created_at_ms: 1,
        revoked_at_ms: 5,
        last_token_issued_at_ms: Some(7),
        deleted_at_ms: None,
      }
    );
    assert_eq!(loaded.identities[1].deleted_at_ms, Some(9));
    store.close().await;

    let err = open_err(&dir, Some("other"));
    assert!(err.contains("belongs to resource res, not other"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn the_journal_is_one_json_line_per_change() {
    let dir = temp_dir("format");
    let (store, loaded) = Store::open(&dir, Some("res")).unwrap();
    let key = base64::engine::general_purpose::STANDARD.encode(&loaded.signing_key);
    for write in [
      Write::Insert(identity("8:acs:res_a", Some("alice"))),
      Write::Barrier,
      Write::TokenIssued {
        id: "8:acs:res_a".into(),
        at_ms: 2,
      },
      Write::Revoke {
        id: "8:acs:res_a".into(),
        revoked_at_ms: 3,
      },
      Write::Delete {
        id: "8:acs:res_a".into(),
        at_ms: 4,
      },
    ] {
      committed(store.submit(write)).await.unwrap();
    }
    store.close().await;
    let text = std::fs::read_to_string(dir.join(JOURNAL_FILE)).unwrap();
    assert_eq!(
      text.lines().collect::<Vec<_>>(),
      [
        format!(
          r#"{{"journal":"acs-identity-emulator","version":1,"resource_id":"res","signing_key":"{key}"}}"#
        )
        .as_str(),
        r#"{"op":"insert","id":"8:acs:res_a","custom_id":"alice","created_at_ms":1,"revoked_at_ms":0}"#,
        r#"{"op":"token","id":"8:acs:res_a","at_ms":2}"#,
        r#"{"op":"revoke","id":"8:acs:res_a","revoked_at_ms":3}"#,
        r#"{"op":"delete","id":"8:acs:res_a","at_ms":4}"#,
      ]
    );
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn identities_load_in_creation_order() {
    let ids: Vec<String> = (0..50).map(|i| format!("8:acs:res_{i:02}")).collect();
    let refs: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    let dir = journal_with("order", &refs).await;
    let (store, loaded) = Store::open(&dir, None).unwrap();
    assert_eq!(loaded_ids(&loaded), refs);
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn a_failing_write_fails_alone() {
    let dir = temp_dir("fail");
    let (store, _) = Store::open(&dir, None).unwrap();
    let first = store.submit(Write::Insert(identity("8:acs:x_1", Some("same"))));
    let duplicate = store.submit(Write::Insert(identity("8:acs:x_2", Some("same"))));
    let other = store.submit(Write::Insert(identity("8:acs:x_3", None)));
    let same_id = store.submit(Write::Insert(identity("8:acs:x_3", None)));
    let unknown = store.submit(Write::TokenIssued {
      id: "8:acs:x_9".into(),
      at_ms: 1,
    });
    let barrier = store.submit(Write::Barrier);
    assert!(committed(first).await.is_ok());
    let err = committed(duplicate).await.unwrap_err();
    assert!(err.contains("custom id \"same\""), "{err}");
    assert!(committed(other).await.is_ok());
    assert!(committed(same_id).await.is_err());
    assert!(committed(unknown).await.is_err());
    assert!(committed(barrier).await.is_ok());
    // Once the first is deleted its custom id is free again.
    committed(store.submit(Write::Delete {
      id: "8:acs:x_1".into(),
      at_ms: 2,
    }))
    .await
    .unwrap();
    committed(store.submit(Write::Insert(identity("8:acs:x_4", Some("same")))))
      .await
      .unwrap();
    store.close().await;

    let (store, loaded) = Store::open(&dir, None).unwrap();
    assert_eq!(loaded_ids(&loaded), ["8:acs:x_1", "8:acs:x_3", "8:acs:x_4"]);
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[test]
  fn undo_takes_a_change_back() {
    let mut rules = Rules::default();
    let alice = identity("8:acs:r_a", Some("alice"));
    let undo = rules.apply(&Record::of_identity(&alice)).unwrap();
    rules.undo(undo);
    assert!(rules.identities.is_empty() && rules.live_custom_ids.is_empty());
    rules.apply(&Record::of_identity(&alice)).unwrap();
    let delete = Write::Delete {
      id: "8:acs:r_a".into(),
      at_ms: 1,
    };
    let undo = rules.apply(&Record::of(&delete).unwrap()).unwrap();
    assert!(rules.live_custom_ids.is_empty());
    rules.undo(undo);
    let again = identity("8:acs:r_b", Some("alice"));
    assert!(rules.apply(&Record::of_identity(&again)).is_err());
  }

  #[tokio::test]
  async fn a_second_emulator_on_the_same_directory_is_refused() {
    let dir = temp_dir("lock");
    let (store, _) = Store::open(&dir, None).unwrap();
    let started = std::time::Instant::now();
    let err = open_err(&dir, None);
    assert!(err.contains("another emulator"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    store.close().await;
    // Closing releases the directory.
    let (store, _) = Store::open(&dir, None).unwrap();
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn a_torn_last_line_is_dropped() {
    let dir = journal_with("torn", &["8:acs:res_a", "8:acs:res_b"]).await;
    let path = dir.join(JOURNAL_FILE);
    let whole = std::fs::read(&path).unwrap();
    // An append cut short by a kill: the line has no end.
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file
      .write_all(br#"{"op":"insert","id":"8:acs:res_c","custom_id":nu"#)
      .unwrap();
    drop(file);

    let (store, loaded) = Store::open(&dir, None).unwrap();
    assert_eq!(loaded_ids(&loaded), ["8:acs:res_a", "8:acs:res_b"]);
    assert_eq!(std::fs::read(&path).unwrap(), whole);
    // The next append starts on a line of its own.
    committed(store.submit(Write::Insert(identity("8:acs:res_c", None))))
      .await
      .unwrap();
    store.close().await;
    let (store, loaded) = Store::open(&dir, None).unwrap();
    assert_eq!(
      loaded_ids(&loaded),
      ["8:acs:res_a", "8:acs:res_b", "8:acs:res_c"]
    );
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn a_damaged_line_is_an_error_naming_it() {
    let dir = journal_with("damaged", &["8:acs:res_a", "8:acs:res_b", "8:acs:res_c"]).await;
    let path = dir.join(JOURNAL_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);

    for (damage, says) in [
      ("{\"op\":\"insert\",\"id\":\0\0\0", "line 3 is damaged"),
      ("", "line 3 is damaged"),
      (
        "{\"op\":\"upsert\",\"id\":\"8:acs:res_z\"}",
        "line 3 is damaged",
      ),
      (
        lines[1],
        "line 3 is damaged (the identity 8:acs:res_a exists already)",
      ),
      (
        "{\"op\":\"token\",\"id\":\"8:acs:res_z\",\"at_ms\":1}",
        "line 3 is damaged (there is no identity 8:acs:res_z)",
      ),
    ] {
      let mut copy = lines.clone();
      copy[2] = damage;
      std::fs::write(&path, copy.join("\n") + "\n").unwrap();
      let err = open_err(&dir, None);
      assert!(err.contains(says), "{err}");
      assert!(err.contains(JOURNAL_FILE), "{err}");
    }
    // A damaged last line that is complete is damage too, not a torn append.
    let mut copy = lines.clone();
    copy[3] = "garbage";
    std::fs::write(&path, copy.join("\n") + "\n").unwrap();
    assert!(open_err(&dir, None).contains("line 4 is damaged"));
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn a_header_of_another_format_or_version_is_refused() {
    let dir = journal_with("header", &["8:acs:res_a"]).await;
    let path = dir.join(JOURNAL_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let rest = text.split_once('\n').unwrap().1;
    for (header, says) in [
      (
        r#"{"journal":"acs-identity-emulator","version":2,"resource_id":"res","signing_key":""}"#,
        "format version 2, this emulator knows only version 1",
      ),
      (
        r#"{"hello":"world"}"#,
        "not an acs-identity-emulator journal",
      ),
      ("SQLite format 3", "not an acs-identity-emulator journal"),
      (
        r#"{"journal":"acs-identity-emulator","version":1,"resource_id":"res"}"#,
        "line 1, the header, is damaged",
      ),
      (
        r#"{"journal":"acs-identity-emulator","version":1,"resource_id":"res","signing_key":"c2hvcnQ="}"#,
        "signing_key is not base64 of at least 32 bytes",
      ),
    ] {
      std::fs::write(&path, format!("{header}\n{rest}")).unwrap();
      let err = open_err(&dir, None);
      assert!(err.contains(says), "{err}");
    }
    std::fs::write(&path, "").unwrap();
    assert!(open_err(&dir, None).contains("no complete first line"));
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[test]
  fn a_directory_of_the_sqlite_emulator_is_refused_not_forgotten() {
    let dir = temp_dir("sqlite");
    std::fs::write(dir.join(SQLITE_FILE), "SQLite format 3\0").unwrap();
    let err = open_err(&dir, None);
    assert!(
      err.contains("SQLite database of an earlier version"),
      "{err}"
    );
    assert!(!dir.join(JOURNAL_FILE).exists());
    std::fs::remove_dir_all(dir).unwrap();
  }

  #[tokio::test]
  async fn compaction_keeps_the_state_and_shrinks_the_file() {
    let dir = temp_dir("compact");
    let path = dir.join(JOURNAL_FILE);
    let (store, loaded) = Store::open(&dir, Some("res")).unwrap();
    let key = loaded.signing_key;
    committed(store.submit(Write::Insert(identity("8:acs:res_a", Some("alice")))))
      .await
      .unwrap();
    committed(store.submit(Write::Insert(identity("8:acs:res_b", Some("bob")))))
      .await
      .unwrap();
    let mut acks = Vec::new();
    for at_ms in 10..210 {
      acks.push(store.submit(Write::TokenIssued {
        id: "8:acs:res_a".into(),
        at_ms,
      }));
      acks.push(store.submit(Write::Revoke {
        id: "8:acs:res_a".into(),
        revoked_at_ms: at_ms,
      }));
    }
    for ack in acks {
      committed(ack).await.unwrap();
    }
    committed(store.submit(Write::Delete {
      id: "8:acs:res_b".into(),
      at_ms: 300,
    }))
    .await
    .unwrap();
    store.close().await;
    let before = std::fs::metadata(&path).unwrap().len();
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 404);

    let (store, loaded) = Store::open(&dir, None).unwrap();
    store.close().await;
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(after * 20 < before, "{before} -> {after}");
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    assert!(!dir.join(COMPACT_FILE).exists());
    let expect = [
      StoredIdentity {
        id: "8:acs:res_a".into(),
        custom_id: Some("alice".into()),
        created_at_ms: 1,
        revoked_at_ms: 209,
        last_token_issued_at_ms: Some(209),
        deleted_at_ms: None,
      },
      StoredIdentity {
        id: "8:acs:res_b".into(),
        custom_id: Some("bob".into()),
        created_at_ms: 1,
        revoked_at_ms: 0,
        last_token_issued_at_ms: None,
        deleted_at_ms: Some(300),
      },
    ];
    assert_eq!(loaded.identities, expect);
    assert_eq!(
      (loaded.resource_id.as_str(), &loaded.signing_key),
      ("res", &key)
    );

    // The compacted journal opens to the same state, and a compacted deletion still frees
    // the custom id.
    let (store, loaded) = Store::open(&dir, None).unwrap();
    assert_eq!(loaded.identities, expect);
    assert_eq!(loaded.signing_key, key);
    committed(store.submit(Write::Insert(identity("8:acs:res_c", Some("bob")))))
      .await
      .unwrap();
    assert!(
      committed(store.submit(Write::Insert(identity("8:acs:res_d", Some("alice")))))
        .await
        .is_err()
    );
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
  }

  /// A kill can stop an append anywhere: the journal cut at every byte either opens with
  /// exactly the identities of its complete lines (the torn one dropped for good) or, cut
  /// inside the header, is refused with an error; never a panic, never a guess.
  #[tokio::test]
  async fn a_journal_cut_at_any_byte_opens_with_its_complete_lines() {
    let ids = ["8:acs:res_a", "8:acs:res_b", "8:acs:res_c"];
    let source = journal_with("cut-source", &ids).await;
    let bytes = std::fs::read(source.join(JOURNAL_FILE)).unwrap();
    std::fs::remove_dir_all(source).unwrap();
    let dir = temp_dir("cut");
    for cut in 0..=bytes.len() {
      let kept = &bytes[..cut];
      let complete_lines = kept.iter().filter(|&&b| b == b'\n').count();
      std::fs::write(dir.join(JOURNAL_FILE), kept).unwrap();
      if complete_lines == 0 {
        assert!(
          Store::open(&dir, None).is_err(),
          "cut at {cut}, inside the header"
        );
        continue;
      }
      let (store, loaded) = Store::open(&dir, None).unwrap();
      assert_eq!(
        loaded_ids(&loaded),
        ids[..complete_lines - 1],
        "cut at {cut}"
      );
      store.close().await;
      let compacted = std::fs::read(dir.join(JOURNAL_FILE)).unwrap();
      assert!(
        compacted.ends_with(b"\n"),
        "cut at {cut}: the torn line is gone"
      );
    }
    std::fs::remove_dir_all(dir).unwrap();
  }
}
