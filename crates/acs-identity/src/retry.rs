//! When to retry and how long to wait (`docs/official-sdk.md` §5.1, issue 4).

use std::time::{Duration, SystemTime};

/// Retry settings, with the official client's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOptions {
  /// Retries after the first attempt. The default is 3 (4 attempts in all).
  pub max_retries: u32,
  /// The base of the exponential backoff. The default is 1 second.
  pub retry_delay: Duration,
  /// The longest backoff between two attempts. The default is 64 seconds.
  pub max_retry_delay: Duration,
}

impl Default for RetryOptions {
  fn default() -> Self {
    Self {
      max_retries: 3,
      retry_delay: Duration::from_millis(1000),
      max_retry_delay: Duration::from_millis(64_000),
    }
  }
}

/// What an attempt's outcome means for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
  /// Do not retry.
  Stop,
  /// Retry after exactly this long (the server said so).
  After(Duration),
  /// Retry after an exponential backoff with jitter.
  Backoff,
}

/// The decision for an HTTP status, given the server's retry hint if any.
///
/// 429 and 503 with a hint wait exactly the hint. 408, 429 without a hint and 5xx other
/// than 501 and 505 back off exponentially (the official client does not retry a 429
/// without a hint; we do, as issue 4 asks). Other statuses are final.
pub fn decide_for_status(status: u16, hint: Option<Duration>) -> RetryDecision {
  match (status, hint) {
    (429 | 503, Some(wait)) => RetryDecision::After(wait),
    (408 | 429, _) => RetryDecision::Backoff,
    (501 | 505, _) => RetryDecision::Stop,
    (500..=599, _) => RetryDecision::Backoff,
    _ => RetryDecision::Stop,
  }
}

/// The server's retry hint, read from `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds)
/// or `Retry-After` (seconds or an HTTP date), in that order, like the official client.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Option<Duration> {
  let text = |name: &str| {
    headers
      .get(name)
      .and_then(|v| v.to_str().ok())
      .map(str::trim)
  };
  for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
    if let Some(ms) = text(name).and_then(|v| v.parse::<f64>().ok()) {
      if ms.is_finite() && ms >= 0.0 {
        return Some(Duration::from_secs_f64(ms / 1000.0));
      }
    }
  }
  let value = text("retry-after")?;
  if let Ok(seconds) = value.parse::<f64>() {
    return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
  }
  let date = httpdate::parse_http_date(value).ok()?;
  Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The exponential backoff before retry number `retry` (0-based):
/// `clamp = min(max, base * 2^retry)`, then a random delay in `[clamp/2, clamp]`.
pub fn backoff(options: &RetryOptions, retry: u32, random: u64) -> Duration {
  let exponential = options
    .retry_delay
    .saturating_mul(2u32.saturating_pow(retry.min(31)));
  let clamp = exponential.min(options.max_retry_delay);
  let half = clamp / 2;
  let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
  let jitter = if spread == 0 {
    0
  } else {
    random % (spread + 1)
  };
  half + Duration::from_millis(jitter)
}

#[cfg(test)]
mod tests {
  use super::*;
  use reqwest::header::{HeaderMap, HeaderValue};

  fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
      map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
  }

  #[test]
  fn retry_after_headers_in_priority_order() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    assert_eq!(
      retry_after(
        &headers(&[("retry-after-ms", "250"), ("retry-after", "9")]),
        now
      ),
      Some(Duration::from_millis(250))
    );
    assert_eq!(
      retry_after(&headers(&[("x-ms-retry-after-ms", "1500")]), now),
      Some(Duration::from_millis(1500))
    );
    assert_eq!(
      retry_after(&headers(&[("retry-after", "2")]), now),
      Some(Duration::from_secs(2))
    );
    let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
    assert_eq!(
      retry_after(&headers(&[("retry-after", &later)]), now),
      Some(Duration::from_secs(30))
    );
    let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
    assert_eq!(
      retry_after(&headers(&[("retry-after", &earlier)]), now),
      Some(Duration::ZERO)
    );
    assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
    assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
    assert_eq!(retry_after(&HeaderMap::new(), now), None);
  }

  #[test]
  fn status_decisions() {
    let hint = Some(Duration::from_secs(1));
    assert_eq!(
      decide_for_status(429, hint),
      RetryDecision::After(Duration::from_secs(1))
    );
    assert_eq!(
      decide_for_status(503, hint),
      RetryDecision::After(Duration::from_secs(1))
    );
    assert_eq!(decide_for_status(429, None), RetryDecision::Backoff);
    assert_eq!(decide_for_status(503, None), RetryDecision::Backoff);
    assert_eq!(decide_for_status(500, hint), RetryDecision::Backoff);
    assert_eq!(decide_for_status(408, None), RetryDecision::Backoff);
    for final_status in [400, 401, 403, 404, 409, 501, 505] {
      assert_eq!(
        decide_for_status(final_status, hint),
        RetryDecision::Stop,
        "{final_status}"
      );
    }
  }

  #[test]
  fn backoff_doubles_within_jitter_and_is_capped() {
    let options = RetryOptions::default();
    for (retry, low, high) in [
      (0, 500, 1000),
      (1, 1000, 2000),
      (2, 2000, 4000),
      (10, 32_000, 64_000),
    ] {
      for random in [0, 1, 12345, u64::MAX] {
        let d = backoff(&options, retry, random).as_millis();
        assert!((low..=high).contains(&d), "retry {retry}: {d}");
      }
    }
    assert_eq!(backoff(&options, 0, 0), Duration::from_millis(500));
    let zero = RetryOptions {
      retry_delay: Duration::ZERO,
      ..options
    };
    assert_eq!(backoff(&zero, 3, 99), Duration::ZERO);
  }
}
