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
mod utilities;
