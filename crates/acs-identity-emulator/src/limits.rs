//! Throttling at the service's published quotas, and injected faults: both off by default,
//! both there so users can test their retry handling without Azure.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The window of every published ACS Identity quota (`docs/users-and-peers.md` §4.1).
pub(crate) const THROTTLE_WINDOW: Duration = Duration::from_secs(30);

/// The operations with a quota of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quota {
  Create,
  CreateWithToken,
  Issue,
  Revoke,
  Delete,
  Exchange,
}

impl Quota {
  /// Requests per [`THROTTLE_WINDOW`], from the service-limits page (ms.date 03/31/2023).
  pub(crate) fn limit(self) -> u32 {
    match self {
      Self::Create | Self::CreateWithToken | Self::Issue => 1000,
      Self::Revoke | Self::Delete | Self::Exchange => 500,
    }
  }

  fn index(self) -> usize {
    self as usize
  }
}

#[derive(Debug)]
struct Window {
  started: Instant,
  count: u32,
}

/// Fixed 30-second windows per operation. Every request counts, throttled ones too ("all
/// requests accrue against your usage limits").
#[derive(Debug)]
pub(crate) struct Throttle {
  windows: [Mutex<Window>; 6],
}

impl Throttle {
  pub(crate) fn new() -> Self {
    let now = Instant::now();
    Self {
      windows: std::array::from_fn(|_| {
        Mutex::new(Window {
          started: now,
          count: 0,
        })
      }),
    }
  }

  /// `Err(seconds)` when the quota of this window is spent: the whole seconds until the
  /// next window, the `Retry-After` to send.
  pub(crate) fn check(&self, quota: Quota) -> Result<(), u64> {
    let mut window = match self.windows[quota.index()].lock() {
      Ok(guard) => guard,
      Err(poisoned) => poisoned.into_inner(),
    };
    let now = Instant::now();
    let elapsed = now.saturating_duration_since(window.started);
    if elapsed >= THROTTLE_WINDOW {
      window.started = now;
      window.count = 0;
    }
    window.count = window.count.saturating_add(1);
    if window.count <= quota.limit() {
      return Ok(());
    }
    let remaining = THROTTLE_WINDOW.saturating_sub(now.saturating_duration_since(window.started));
    let seconds = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    Err(seconds.max(1))
  }
}

/// What an injected fault does to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
  /// Answer with this status (an ACS error body with code `InjectedFault`) and, when given,
  /// this `Retry-After` header value (seconds or an HTTP date, sent as given). A status that
  /// is not a valid HTTP status (outside 100..=999) is answered 500.
  Status {
    /// The status to answer.
    status: u16,
    /// The `Retry-After` header value to send, if any.
    retry_after: Option<String>,
  },
  /// Close the connection without answering, as a crashed proxy or a network failure would.
  CloseConnection,
  /// Wait this long, then handle the request normally (to test client timeouts).
  Delay(Duration),
}

/// A fault for the next `count` requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
  /// How many requests it applies to; 0 does nothing.
  pub count: u32,
  /// What it does to each of them.
  pub kind: FaultKind,
}

/// Faults waiting for requests. Faults injected one after another apply one after another.
#[derive(Debug, Default)]
pub(crate) struct Faults {
  // Checked without the lock, so the no-fault path of every request costs one atomic load.
  armed: AtomicBool,
  queue: Mutex<VecDeque<Fault>>,
}

impl Faults {
  pub(crate) fn push(&self, fault: Fault) {
    if fault.count == 0 {
      return;
    }
    let mut queue = self.lock();
    queue.push_back(fault);
    self.armed.store(true, Ordering::Release);
  }

  pub(crate) fn clear(&self) {
    let mut queue = self.lock();
    queue.clear();
    self.armed.store(false, Ordering::Release);
  }

  /// The fault for this request, if one is pending.
  pub(crate) fn take(&self) -> Option<FaultKind> {
    if !self.armed.load(Ordering::Acquire) {
      return None;
    }
    let mut queue = self.lock();
    let front = queue.front_mut()?;
    let kind = front.kind.clone();
    front.count -= 1;
    if front.count == 0 {
      queue.pop_front();
    }
    if queue.is_empty() {
      self.armed.store(false, Ordering::Release);
    }
    Some(kind)
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Fault>> {
    match self.queue.lock() {
      Ok(guard) => guard,
      Err(poisoned) => poisoned.into_inner(),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn faults_apply_in_order_to_the_next_requests() {
    let faults = Faults::default();
    assert_eq!(faults.take(), None);
    faults.push(Fault {
      count: 2,
      kind: FaultKind::CloseConnection,
    });
    faults.push(Fault {
      count: 0,
      kind: FaultKind::Delay(Duration::from_secs(1)),
    });
    faults.push(Fault {
      count: 1,
      kind: FaultKind::Status {
        status: 503,
        retry_after: Some("1".into()),
      },
    });
    assert_eq!(faults.take(), Some(FaultKind::CloseConnection));
    assert_eq!(faults.take(), Some(FaultKind::CloseConnection));
    assert!(matches!(
      faults.take(),
      Some(FaultKind::Status { status: 503, .. })
    ));
    assert_eq!(faults.take(), None);
    faults.push(Fault {
      count: 5,
      kind: FaultKind::CloseConnection,
    });
    faults.clear();
    assert_eq!(faults.take(), None);
  }

  #[tokio::test(start_paused = true)]
  async fn quotas_reset_each_window() {
    let throttle = Throttle::new();
    for _ in 0..500 {
      assert_eq!(throttle.check(Quota::Revoke), Ok(()));
    }
    assert_eq!(throttle.check(Quota::Revoke), Err(30));
    // other operations have their own quota
    assert_eq!(throttle.check(Quota::Issue), Ok(()));
    tokio::time::advance(Duration::from_millis(10_500)).await;
    assert_eq!(throttle.check(Quota::Revoke), Err(20));
    tokio::time::advance(Duration::from_secs(20)).await;
    assert_eq!(throttle.check(Quota::Revoke), Ok(()));
  }
}
