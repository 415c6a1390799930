//! Settling the promises of native calls from the tokio runtime, many at a time.
//!
//! napi-rs settles each promise through a threadsafe function of its own: created with the
//! promise (a libuv async handle and an environment cleanup hook each), called once, then
//! closed. Here each JS thread (the main one, or a worker's) has one threadsafe function for
//! all its calls: a finished call queues its outcome, and only the first outcome queued since
//! the last drain wakes the JS thread, which then settles everything queued in one go. Under
//! load that is one wake-up for many calls instead of one each (benchmark/PROFILE.md).
//!
//! The threadsafe function is referenced only while calls are in flight, so Node stays alive
//! for a pending call and exits when none is left.

use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi::sys;

/// How a call ended, ready to become a JS value on the JS thread.
type Outcome =
  std::result::Result<Box<dyn FnOnce(sys::napi_env) -> Result<sys::napi_value> + Send>, Error>;

struct Completion {
  deferred: sys::napi_deferred,
  outcome: Outcome,
}

// A `napi_deferred` is an opaque handle that is only ever used on its own JS thread (in
// `drain`); the tokio worker just carries it there.
unsafe impl Send for Completion {}

/// What the workers and the JS thread share: the queue, and the threadsafe function that
/// wakes the JS thread (`None` once Node has finalized it at environment teardown).
struct Shared {
  queue: Mutex<Queue>,
}

struct Queue {
  completions: Vec<Completion>,
  wake: Option<Tsfn>,
}

#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);

// Calling a threadsafe function from any thread is its purpose; it is only called with the
// queue locked, and `finalize` clears it under the same lock before Node frees it.
unsafe impl Send for Tsfn {}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
  match queue.lock() {
    Ok(guard) => guard,
    Err(poisoned) => poisoned.into_inner(),
  }
}

/// The JS thread's side: its environment, the shared queue, and how many calls are in flight.
struct Local {
  env: sys::napi_env,
  shared: Arc<Shared>,
  tsfn: sys::napi_threadsafe_function,
  in_flight: usize,
}

thread_local! {
  static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Settles one promise from any thread; dropped unused, it rejects the promise, so a call
/// whose task never ran (a runtime shutting down) does not keep Node alive forever.
pub(crate) struct Completer {
  shared: Arc<Shared>,
  deferred: Option<sys::napi_deferred>,
}

// See `Completion`.
unsafe impl Send for Completer {}

impl Completer {
  pub(crate) fn resolve<T: ToNapiValue + Send + 'static>(mut self, value: T) {
    self.finish(Ok(Box::new(move |env| unsafe {
      T::to_napi_value(env, value)
    })));
  }

  pub(crate) fn reject(mut self, error: Error) {
    self.finish(Err(error));
  }

  fn finish(&mut self, outcome: Outcome) {
    let Some(deferred) = self.deferred.take() else {
      return;
    };
    let mut queue = lock(&self.shared.queue);
    let Some(wake) = queue.wake else {
      // The environment is gone, and the promise with it.
      return;
    };
    queue.completions.push(Completion { deferred, outcome });
    if queue.completions.len() == 1 {
      // Non-blocking on an unbounded queue: it cannot wait. It fails only while the
      // environment closes, when there is nobody left to settle for.
      unsafe {
        sys::napi_call_threadsafe_function(
          wake.0,
          ptr::null_mut(),
          sys::ThreadsafeFunctionCallMode::nonblocking,
        )
      };
    }
  }
}

impl Drop for Completer {
  fn drop(&mut self) {
    if self.deferred.is_some() {
      self.finish(Err(Error::new(
        Status::Cancelled,
        "the operation was stopped before it finished (the addon's runtime is shutting down)",
      )));
    }
  }
}

/// Creates a promise on the JS thread, and the completer that settles it from any thread.
pub(crate) fn promise(env: &Env) -> Result<(sys::napi_value, Completer)> {
  let raw_env = env.raw();
  let mut deferred = ptr::null_mut();
  let mut promise = ptr::null_mut();
  check_status!(unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) })?;
  let shared = LOCAL.with(|local| -> Result<Arc<Shared>> {
    let mut slot = local.borrow_mut();
    let local = match &mut *slot {
      Some(local) if local.env == raw_env => local,
      other => other.insert(start(raw_env)?),
    };
    if local.in_flight == 0 {
      check_status!(unsafe { sys::napi_ref_threadsafe_function(raw_env, local.tsfn) })?;
    }
    local.in_flight += 1;
    Ok(Arc::clone(&local.shared))
  })?;
  Ok((
    promise,
    Completer {
      shared,
      deferred: Some(deferred),
    },
  ))
}

/// Creates this JS thread's threadsafe function, unreferenced until a call is in flight.
fn start(env: sys::napi_env) -> Result<Local> {
  let shared = Arc::new(Shared {
    queue: Mutex::new(Queue {
      completions: Vec::new(),
      wake: None,
    }),
  });
  let mut name = ptr::null_mut();
  let text = "acs-identity";
  check_status!(unsafe {
    sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut name)
  })?;
  // The threadsafe function owns one count of `shared`, given back in `finalize`.
  let context = Arc::into_raw(Arc::clone(&shared)) as *mut c_void;
  let mut tsfn = ptr::null_mut();
  let status = unsafe {
    sys::napi_create_threadsafe_function(
      env,
      ptr::null_mut(),
      ptr::null_mut(),
      name,
      0,
      1,
      context,
      Some(finalize),
      context,
      Some(drain),
      &mut tsfn,
    )
  };
  if status != sys::Status::napi_ok {
    drop(unsafe { Arc::from_raw(context as *const Shared) });
    check_status!(status)?;
  }
  check_status!(unsafe { sys::napi_unref_threadsafe_function(env, tsfn) })?;
  lock(&shared.queue).wake = Some(Tsfn(tsfn));
  Ok(Local {
    env,
    shared,
    tsfn,
    in_flight: 0,
  })
}

/// On the JS thread: settles everything queued.
unsafe extern "C" fn drain(
  env: sys::napi_env,
  _js_callback: sys::napi_value,
  context: *mut c_void,
  _data: *mut c_void,
) {
  if env.is_null() || context.is_null() {
    return;
  }
  // A panic must not unwind into Node; there is none to expect here.
  let _ = catch_unwind(AssertUnwindSafe(|| {
    let shared = unsafe { &*(context as *const Shared) };
    let completions = std::mem::take(&mut lock(&shared.queue).completions);
    let settled = completions.len();
    for Completion { deferred, outcome } in completions {
      let value = outcome.and_then(|to_value| to_value(env));
      unsafe {
        match value {
          Ok(value) => sys::napi_resolve_deferred(env, deferred, value),
          Err(error) => {
            sys::napi_reject_deferred(env, deferred, JsError::from(error).into_value(env))
          }
        };
      }
    }
    LOCAL.with(|local| {
      let Ok(mut local) = local.try_borrow_mut() else {
        return;
      };
      if let Some(local) = local.as_mut().filter(|l| l.env == env) {
        local.in_flight = local.in_flight.saturating_sub(settled);
        if local.in_flight == 0 {
          unsafe { sys::napi_unref_threadsafe_function(env, local.tsfn) };
        }
      }
    });
  }));
}

/// Node is freeing the threadsafe function (environment teardown): nothing may call it again.
unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  if data.is_null() {
    return;
  }
  let shared = unsafe { Arc::from_raw(data as *const Shared) };
  let dropped = {
    let mut queue = lock(&shared.queue);
    queue.wake = None;
    std::mem::take(&mut queue.completions)
  };
  drop(dropped);
}
