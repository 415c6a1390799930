//! The emulator, startable in-process from JS (filled in once the emulator crate lands).
