//! The Node.js binding of `acs-identity`: a thin translation layer over the pure-Rust client
//! (`crates/acs-identity`) and emulator (`crates/acs-identity-emulator`).
//!
//! The JS facade (`index.js`) gives these exports the exact shape of
//! `@azure/communication-identity`; everything here is an internal API of that facade.

#![deny(clippy::all)]
// napi exports are registered by macros that `cargo test` does not expand into uses.
#![cfg_attr(test, allow(dead_code))]

/// The addon allocates a few small buffers per request on several threads; mimalloc's
/// thread-local free lists make that cheaper than glibc's malloc (measured in
/// benchmark/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cancellation;
mod client;
mod credential;
mod emulator;
mod error;
mod settle;
mod utilities;

/// The addon's tokio runtime. Each call hops from the JS thread to a worker and back; with
/// fewer workers a call wakes fewer sleeping threads, which is most of its CPU cost when
/// calls come one at a time. `ACS_IDENTITY_WORKER_THREADS` overrides the count (the
/// emulator's command line, which serves many clients, uses more).
#[napi_derive::module_init]
fn init_runtime() {
  let workers = std::env::var("ACS_IDENTITY_WORKER_THREADS")
    .ok()
    .and_then(|v| v.parse::<usize>().ok())
    .filter(|n| (1..=64).contains(n))
    .unwrap_or(1);
  if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
    .worker_threads(workers)
    .enable_all()
    .build()
  {
    napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
  }
}
