//! Cheap random numbers for request ids and retry jitter.
//!
//! Neither needs to be unpredictable, only unique (request ids) or spread (jitter), so the
//! operating system's generator is asked once per thread for a seed and SplitMix64 does the
//! rest. `uuid::Uuid::new_v4` asked the OS on every call: a `getrandom` system call per
//! request, which showed in the client's profile (benchmark/PROFILE.md).

use std::cell::Cell;

thread_local! {
  static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
  let bytes = uuid::Uuid::new_v4().into_bytes();
  u64::from_le_bytes([
    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[9], bytes[10],
  ])
}

/// The next number of this thread's SplitMix64 sequence: every output of a thread differs
/// from its others (the mix is a bijection of a counter), and threads start at random seeds.
pub(crate) fn next_u64() -> u64 {
  STATE.with(|state| {
    let counter = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
    state.set(counter);
    let mut z = counter;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
  })
}

/// A new `x-ms-client-request-id`: a version 4 UUID, lower-case and hyphenated as the
/// official client's `randomUUID()` makes them.
pub(crate) fn request_id() -> String {
  let mut bytes = [0u8; 16];
  bytes[..8].copy_from_slice(&next_u64().to_le_bytes());
  bytes[8..].copy_from_slice(&next_u64().to_le_bytes());
  let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
  id.hyphenated()
    .encode_lower(&mut uuid::Uuid::encode_buffer())
    .to_owned()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn request_ids_are_version_4_uuids_and_do_not_repeat() {
    let ids: std::collections::HashSet<String> = (0..10_000).map(|_| request_id()).collect();
    assert_eq!(ids.len(), 10_000);
    for id in ids.iter().take(100) {
      let parsed = uuid::Uuid::parse_str(id).unwrap();
      assert_eq!(parsed.get_version_num(), 4, "{id}");
      assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{id}");
      assert_eq!(
        id,
        &parsed.hyphenated().to_string(),
        "lower case, hyphenated"
      );
    }
  }

  #[test]
  fn threads_draw_different_sequences() {
    let here: Vec<u64> = (0..4).map(|_| next_u64()).collect();
    let there: Vec<u64> = std::thread::spawn(|| (0..4).map(|_| next_u64()).collect())
      .join()
      .unwrap();
    assert_ne!(here, there);
  }
}
