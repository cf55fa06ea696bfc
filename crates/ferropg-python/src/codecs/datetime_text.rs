//! Parsers for the server's ISO text output of dates, times and intervals (DateStyle ISO,
//! IntervalStyle postgres, which psycopg2 also requires), giving the same Python values
//! as the binary decoders in `datetime.rs`.
use pyo3::prelude::*;

use super::datetime::{
    date_max, datetime_max, days_from_civil, py_date, py_datetime, py_interval, py_time, USECS_PER_DAY,
    USECS_PER_SEC,
};
use super::{malformed, TypeRegistry};

/// A cursor over ASCII text with the few reads the date formats need.
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn number(&mut self, max_digits: usize) -> Option<i64> {
        let start = self.i;
        let mut v: i64 = 0;
        while let Some(d) = self.s.get(self.i).filter(|c| c.is_ascii_digit()) {
            if self.i - start >= max_digits {
                return None;
            }
            v = v * 10 + i64::from(d - b'0');
            self.i += 1;
        }
        (self.i > start).then_some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.s.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }
    fn rest(&self) -> &'a [u8] {
        self.s.get(self.i..).unwrap_or(b"")
    }
    /// `.ffffff` as microseconds (0 if absent).
    fn fraction(&mut self) -> Option<i64> {
        if !self.eat(b'.') {
            return Some(0);
        }
        let start = self.i;
        let v = self.number(9)?;
        let digits = self.i - start;
        Some(if digits <= 6 {
            v * 10i64.pow(6 - digits as u32)
        } else {
            v / 10i64.pow(digits as u32 - 6)
        })
    }
    /// `HH:MM:SS[.ffffff]` as microseconds.
    fn time_of_day(&mut self) -> Option<i64> {
        let h = self.number(2)?;
        let m = if self.eat(b':') {
            self.number(2)?
        } else {
            return None;
        };
        let s = if self.eat(b':') { self.number(2)? } else { 0 };
        let f = self.fraction()?;
        Some(((h * 60 + m) * 60 + s) * USECS_PER_SEC + f)
    }
    /// `+HH[:MM[:SS]]`: seconds east of UTC.
    fn offset(&mut self) -> Option<i64> {
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let mut secs = self.number(2)? * 3600;
        if self.eat(b':') {
            secs += self.number(2)? * 60;
            if self.eat(b':') {
                secs += self.number(2)?;
            }
        }
        Some(sign * secs)
    }
    /// `YYYY-MM-DD`, as (year as printed, month, day).
    fn date(&mut self) -> Option<(i64, u8, u8)> {
        let y = self.number(9)?;
        let m = if self.eat(b'-') {
            self.number(2)?
        } else {
            return None;
        };
        let d = if self.eat(b'-') {
            self.number(2)?
        } else {
            return None;
        };
        Some((y, u8::try_from(m).ok()?, u8::try_from(d).ok()?))
    }
}

/// A year as printed, with its BC flag, checked against Python's range as psycopg2 does.
fn year_of(printed: i64, bc: bool) -> PyResult<i64> {
    if bc || !(1..=9999).contains(&printed) {
        let shown = if bc { -printed } else { printed };
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "year {shown} is out of range"
        )));
    }
    Ok(printed)
}

fn infinity(raw: &[u8]) -> Option<bool> {
    match raw {
        b"infinity" => Some(true),
        b"-infinity" => Some(false),
        _ => None,
    }
}

pub(crate) fn date_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    if let Some(positive) = infinity(raw) {
        return date_max(py, positive);
    }
    let mut sc = Scan { s: raw, i: 0 };
    let (y, m, d) = sc
        .date()
        .ok_or_else(|| malformed(py, "date", &String::from_utf8_lossy(raw)))?;
    let bc = match sc.rest() {
        b"" => false,
        b" BC" => true,
        _ => return Err(malformed(py, "date", &String::from_utf8_lossy(raw))),
    };
    let year = year_of(y, bc)?;
    py_date(py, days_from_civil(year, m, d))
}

pub(crate) fn time_text(py: Python<'_>, reg: &TypeRegistry, raw: &[u8], with_tz: bool) -> PyResult<PyObject> {
    let bad = || {
        malformed(
            py,
            if with_tz { "time with time zone" } else { "time" },
            &String::from_utf8_lossy(raw),
        )
    };
    let mut sc = Scan { s: raw, i: 0 };
    let us = sc.time_of_day().ok_or_else(bad)?;
    let tz = if with_tz {
        let east = sc.offset().ok_or_else(bad)?;
        Some(reg.tz_for_offset(py, east as i32)?)
    } else {
        None
    };
    if !sc.rest().is_empty() {
        return Err(bad());
    }
    py_time(py, us, tz.as_ref())
}

pub(crate) fn timestamp_text(
    py: Python<'_>,
    reg: &TypeRegistry,
    raw: &[u8],
    with_tz: bool,
) -> PyResult<PyObject> {
    let name = if with_tz {
        "timestamp with time zone"
    } else {
        "timestamp"
    };
    if let Some(positive) = infinity(raw) {
        let utc = if with_tz {
            Some(reg.tz_for_offset(py, 0)?)
        } else {
            None
        };
        return datetime_max(py, positive, utc.as_ref());
    }
    let bad = || malformed(py, name, &String::from_utf8_lossy(raw));
    let mut sc = Scan { s: raw, i: 0 };
    let (y, m, d) = sc.date().ok_or_else(bad)?;
    if !sc.eat(b' ') {
        return Err(bad());
    }
    let tod = sc.time_of_day().ok_or_else(bad)?;
    let tz = if with_tz {
        let east = sc.offset().ok_or_else(bad)?;
        Some(reg.tz_for_offset(py, east as i32)?)
    } else {
        None
    };
    let bc = match sc.rest() {
        b"" => false,
        b" BC" => true,
        _ => return Err(bad()),
    };
    let year = year_of(y, bc)?;
    py_datetime(py, days_from_civil(year, m, d) * USECS_PER_DAY + tod, tz.as_ref())
}

/// (months, days, microseconds) of an interval in IntervalStyle postgres, e.g.
/// `1 year 2 mons -3 days -04:05:06.7`.
pub(crate) fn parse_interval(s: &str) -> Option<(i64, i64, i64)> {
    let (mut months, mut days, mut usecs) = (0i64, 0i64, 0i64);
    let mut words = s.split_ascii_whitespace();
    while let Some(w) = words.next() {
        if w.contains(':') {
            let (neg, t) = match w.as_bytes().first()? {
                b'-' => (true, &w[1..]),
                b'+' => (false, &w[1..]),
                _ => (false, w),
            };
            let mut sc = Scan {
                s: t.as_bytes(),
                i: 0,
            };
            let h = sc.number(12)?;
            let rest = if sc.eat(b':') {
                sc.time_of_day_after_hours()?
            } else {
                return None;
            };
            if !sc.rest().is_empty() {
                return None;
            }
            let v = h.checked_mul(3600 * USECS_PER_SEC)?.checked_add(rest)?;
            usecs = usecs.checked_add(if neg { -v } else { v })?;
            continue;
        }
        let n: i64 = w.parse().ok()?;
        match words.next()?.trim_end_matches('s') {
            "year" => months = months.checked_add(n.checked_mul(12)?)?,
            "mon" => months = months.checked_add(n)?,
            "day" => days = days.checked_add(n)?,
            _ => return None,
        }
    }
    Some((months, days, usecs))
}

impl Scan<'_> {
    /// `MM:SS[.ffffff]` after the hours of an interval, as microseconds.
    fn time_of_day_after_hours(&mut self) -> Option<i64> {
        let m = self.number(2)?;
        let s = if self.eat(b':') { self.number(2)? } else { 0 };
        Some((m * 60 + s) * USECS_PER_SEC + self.fraction()?)
    }
}

pub(crate) fn interval_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let s = std::str::from_utf8(raw).ok();
    let (months, days, usecs) = s
        .and_then(parse_interval)
        .ok_or_else(|| malformed(py, "interval", &String::from_utf8_lossy(raw)))?;
    py_interval(py, months, days, usecs)
}

#[cfg(test)]
mod tests {
    use super::super::datetime::{civil_from_days, interval_parts, posix_fixed_offset};
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-719_162i64, -1, 0, 10_957, 2_932_896, -2_440_588] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(10_957), (2000, 1, 1));
        assert_eq!(civil_from_days(-719_162), (1, 1, 1));
    }

    #[test]
    fn intervals_like_psycopg2() {
        // Values checked against psycopg2 2.9: timedelta(days=428, seconds=14706, us=700000).
        let p = parse_interval("1 year 2 mons 3 days 04:05:06.7").unwrap();
        assert_eq!(p, (14, 3, 14_706_700_000));
        assert_eq!(interval_parts(p.0, p.1, p.2), Some((428, 14706, 700_000)));
        let p = parse_interval("-1 years -2 mons +3 days -04:05:06.7").unwrap();
        assert_eq!(interval_parts(p.0, p.1, p.2), Some((-423, 71693, 300_000)));
        let p = parse_interval("1 mon -00:00:01").unwrap();
        assert_eq!(interval_parts(p.0, p.1, p.2), Some((29, 86399, 0)));
        assert_eq!(parse_interval("00:00:00"), Some((0, 0, 0)));
        assert_eq!(parse_interval("100:00:00").unwrap().2, 360_000 * USECS_PER_SEC);
        assert!(interval_parts(178_000_000 * 12, 0, 0).is_none());
        assert!(parse_interval("1 fortnight").is_none());
    }

    #[test]
    fn posix_zones() {
        assert_eq!(posix_fixed_offset("<+03>-03"), Some(-3 * 3600));
        assert_eq!(posix_fixed_offset("<+0330>-3:30"), Some(-(3 * 3600 + 1800)));
        assert_eq!(posix_fixed_offset("<-05>+05"), Some(5 * 3600));
        assert_eq!(posix_fixed_offset("EST5EDT"), None);
        assert_eq!(posix_fixed_offset("Europe/Paris"), None);
        assert_eq!(posix_fixed_offset("CET-1CEST,M3.5.0,M10.5.0/3"), None);
    }
}
