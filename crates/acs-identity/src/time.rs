//! RFC 3339 timestamps, as the service writes them (`2023-10-19T15:34:16.1445357+00:00`).
//!
//! A few lines of calendar arithmetic instead of a date-time dependency: the service uses
//! one format, and we need only to read it (client) and write it (emulator).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the unit of JS `Date`.
pub fn to_unix_millis(time: SystemTime) -> i64 {
  match time.duration_since(UNIX_EPOCH) {
    Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
    Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
  }
}

/// The instant `millis` milliseconds after (or before, when negative) the Unix epoch.
pub fn from_unix_millis(millis: i64) -> SystemTime {
  let magnitude = Duration::from_millis(millis.unsigned_abs());
  if millis >= 0 {
    UNIX_EPOCH + magnitude
  } else {
    UNIX_EPOCH - magnitude
  }
}

/// Parses an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`).
///
/// Fractions beyond milliseconds are truncated, as JS `Date` does. Returns `None` for
/// anything else.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
  let b = text.as_bytes();
  if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
    return None;
  }
  if b[13] != b':' || b[16] != b':' {
    return None;
  }
  let num = |range: std::ops::Range<usize>| -> Option<i64> {
    let part = text.get(range)?;
    if !part.bytes().all(|c| c.is_ascii_digit()) {
      return None;
    }
    part.parse().ok()
  };
  let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
  let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
  if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
    return None;
  }
  if hour > 23 || minute > 59 || second > 60 {
    return None;
  }
  let mut rest = &text[19..];
  let mut millis = 0i64;
  if let Some(fraction) = rest.strip_prefix('.') {
    let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
      return None;
    }
    let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
    millis = padded.parse().ok()?;
    rest = &fraction[digits..];
  }
  let offset_minutes = match rest {
    "Z" | "z" => 0,
    _ => {
      let sign = match rest.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
      };
      if rest.len() != 6 || rest.as_bytes()[3] != b':' {
        return None;
      }
      let hours: i64 = rest[1..3].parse().ok()?;
      let minutes: i64 = rest[4..6].parse().ok()?;
      if hours > 23 || minutes > 59 {
        return None;
      }
      sign * (hours * 60 + minutes)
    }
  };
  let days = days_from_civil(year, month, day);
  let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  Some(from_unix_millis(seconds * 1000 + millis))
}

/// Formats an instant as the service does: 7 fractional digits and `+00:00`.
pub fn format_rfc3339(time: SystemTime) -> String {
  let (seconds, nanos) = match time.duration_since(UNIX_EPOCH) {
    Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
    Err(_) => (0, 0),
  };
  let days = seconds.div_euclid(86_400);
  let second_of_day = seconds.rem_euclid(86_400);
  let (year, month, day) = civil_from_days(days);
  format!(
    "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:07}+00:00",
    second_of_day / 3600,
    second_of_day % 3600 / 60,
    second_of_day % 60,
    nanos / 100
  )
}

fn is_leap(year: i64) -> bool {
  year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
  match month {
    2 if is_leap(year) => 29,
    2 => 28,
    4 | 6 | 9 | 11 => 30,
    _ => 31,
  }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
  let y = if month <= 2 { year - 1 } else { year };
  let era = y.div_euclid(400);
  let yoe = y - era * 400;
  let mp = (month + 9) % 12;
  let doy = (153 * mp + 2) / 5 + day - 1;
  let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
  let z = days + 719_468;
  let era = z.div_euclid(146_097);
  let doe = z - era * 146_097;
  let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
  let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  let mp = (5 * doy + 2) / 153;
  let day = doy - (153 * mp + 2) / 5 + 1;
  let month = if mp < 10 { mp + 3 } else { mp - 9 };
  let year = yoe + era * 400 + i64::from(month <= 2);
  (year, month, day)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn parses_the_service_format_truncating_to_millis() {
    let t = parse_rfc3339("2023-10-19T15:34:16.1445357+00:00").unwrap();
    // Date.parse("2023-10-19T15:34:16.144Z") === 1697729656144
    assert_eq!(to_unix_millis(t), 1_697_729_656_144);
  }

  #[test]
  fn parses_offsets_and_z() {
    let z = parse_rfc3339("2011-11-30T00:00:00Z").unwrap();
    let plus = parse_rfc3339("2011-11-30T02:00:00+02:00").unwrap();
    assert_eq!(z, plus);
    assert_eq!(to_unix_millis(z), 1_322_611_200_000);
    let frac = parse_rfc3339("2011-11-30T00:00:00.5-01:30").unwrap();
    assert_eq!(to_unix_millis(frac), 1_322_611_200_000 + 5_400_000 + 500);
  }

  #[test]
  fn rejects_malformed_dates() {
    for bad in [
      "",
      "2023-10-19",
      "2023-13-01T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2023-10-19T25:00:00Z",
      "2023-10-19T00:00:00",
      "2023-10-19T00:00:00.Z",
      "2023-10-19T00:00:00+0000",
      "not a date at all!!!",
      "2023-1a-19T00:00:00Z",
    ] {
      assert!(parse_rfc3339(bad).is_none(), "{bad}");
    }
    assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_some());
  }

  #[test]
  fn formats_with_seven_fraction_digits_and_round_trips() {
    let t = UNIX_EPOCH + Duration::new(1_697_729_656, 144_535_700);
    let text = format_rfc3339(t);
    assert_eq!(text, "2023-10-19T15:34:16.1445357+00:00");
    assert_eq!(
      to_unix_millis(parse_rfc3339(&text).unwrap()),
      1_697_729_656_144
    );
  }

  #[test]
  fn millis_conversions_handle_negative_values() {
    assert_eq!(to_unix_millis(from_unix_millis(-1500)), -1500);
    assert_eq!(to_unix_millis(from_unix_millis(42)), 42);
  }
}
