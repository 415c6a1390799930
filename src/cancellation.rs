//! Cancelling a native call from an `AbortSignal`.
//!
//! napi's own `AbortSignal` support is built for `AsyncTask` and replaces the signal's
//! `onabort` property (`docs/style-anchors.md` §12), so the facade listens for `abort` itself
//! and calls [`Cancellation::cancel`]: the pending future is dropped at once, which closes its
//! connection and ends any retry wait.

use napi_derive::napi;
use tokio_util::sync::CancellationToken;

/// A cancellation handle the facade creates for a call that has an `abortSignal`.
#[napi]
pub struct Cancellation {
  pub(crate) token: CancellationToken,
}

#[napi]
impl Cancellation {
  /// A handle not cancelled yet.
  #[napi(constructor)]
  #[allow(clippy::new_without_default)]
  pub fn new() -> Self {
    Self {
      token: CancellationToken::new(),
    }
  }

  /// Cancels the call (and any call that shares this handle).
  #[napi]
  pub fn cancel(&self) {
    self.token.cancel();
  }
}
