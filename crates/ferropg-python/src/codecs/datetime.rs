//! date, time, timetz, timestamp, timestamptz and interval, as psycopg2 returns them:
//! infinities become the Python extremes, timestamptz carries a fixed-offset
//! `datetime.timezone` in the session TimeZone, intervals count 30-day months and
//! 365-day years, and years outside 1..=9999 raise psycopg2's ValueError.
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyDateTime, PyDelta, PyDeltaAccess, PyTime, PyTzInfo};

use super::{be, malformed, TypeRegistry};

pub(crate) const USECS_PER_SEC: i64 = 1_000_000;
pub(crate) const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;
/// Days from 1970-01-01 to PostgreSQL's epoch 2000-01-01.
pub(crate) const PG_EPOCH_DAYS: i64 = 10_957;

/// The session TimeZone as far as decoding binary timestamptz needs it.
pub(crate) enum Zone {
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    Iana(PyObject),
    /// A zone Python cannot resolve (a POSIX rule with DST): timestamptz is read as text.
    Unresolved(String),
}

impl Zone {
    pub(crate) fn resolve(py: Python<'_>, zoneinfo_cls: &PyObject, name: &str) -> Zone {
        const UTC_NAMES: [&str; 8] = [
            "UTC", "Etc/UTC", "GMT", "Etc/GMT", "UCT", "Etc/UCT", "Zulu", "Etc/Zulu",
        ];
        if UTC_NAMES.contains(&name) || name == "Universal" || name == "Etc/Universal" {
            return Zone::Utc;
        }
        if let Some(west) = posix_fixed_offset(name) {
            return if west == 0 { Zone::Utc } else { Zone::Fixed(-west) };
        }
        match zoneinfo_cls.bind(py).call1((name,)) {
            Ok(z) => Zone::Iana(z.unbind()),
            Err(_) => Zone::Unresolved(name.to_owned()),
        }
    }

    pub(crate) fn resolved(&self) -> bool {
        !matches!(self, Zone::Unresolved(_))
    }
}

/// A POSIX zone without DST rule, as the server reports `SET TIME ZONE '+3'` (`<+03>-03`)
/// or an interval zone (`<+03:30>-03:30`): the offset in seconds west of UTC.
pub(crate) fn posix_fixed_offset(name: &str) -> Option<i32> {
    let rest = if let Some(r) = name.strip_prefix('<') {
        &r[r.find('>')? + 1..]
    } else {
        let letters = name.bytes().take_while(u8::is_ascii_alphabetic).count();
        if letters < 3 {
            return None;
        }
        &name[letters..]
    };
    let (sign, rest) = match rest.as_bytes().first()? {
        b'-' => (-1, &rest[1..]),
        b'+' => (1, &rest[1..]),
        _ => (1, rest),
    };
    let mut secs = 0i32;
    let mut parts = 0;
    for (i, part) in rest.split(':').enumerate() {
        if i > 2 || part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        secs += part.parse::<i32>().ok()? * [3600, 60, 1][i];
        parts += 1;
    }
    (parts > 0).then_some(sign * secs)
}

/// psycopg2's error for a year Python cannot hold (BC years shown negative, as it does).
fn year_error(astronomical_year: i64) -> PyErr {
    let shown = if astronomical_year <= 0 {
        astronomical_year - 1
    } else {
        astronomical_year
    };
    PyValueError::new_err(format!("year {shown} is out of range"))
}

/// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01 (Hinnant's
/// algorithm; exact for every i64 day count PostgreSQL can send).
pub(crate) fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn checked_year(year: i64) -> PyResult<i32> {
    if (1..=9999).contains(&year) {
        Ok(year as i32)
    } else {
        Err(year_error(year))
    }
}

pub(crate) fn py_date(py: Python<'_>, days_since_unix: i64) -> PyResult<PyObject> {
    let (y, m, d) = civil_from_days(days_since_unix);
    Ok(PyDate::new(py, checked_year(y)?, m, d)?.into_any().unbind())
}

/// A datetime from microseconds since 1970-01-01 (local wall time when `tz` is set).
pub(crate) fn py_datetime(
    py: Python<'_>,
    usecs: i64,
    tz: Option<&Bound<'_, PyTzInfo>>,
) -> PyResult<PyObject> {
    let (y, mo, d) = civil_from_days(usecs.div_euclid(USECS_PER_DAY));
    let tod = usecs.rem_euclid(USECS_PER_DAY);
    let secs = tod / USECS_PER_SEC;
    let dt = PyDateTime::new(
        py,
        checked_year(y)?,
        mo,
        d,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        (tod % USECS_PER_SEC) as u32,
        tz,
    )?;
    Ok(dt.into_any().unbind())
}

pub(crate) fn py_time(py: Python<'_>, usecs: i64, tz: Option<&Bound<'_, PyTzInfo>>) -> PyResult<PyObject> {
    // 24:00:00 is a valid PostgreSQL time; psycopg2 gives midnight for it.
    let tod = usecs.rem_euclid(USECS_PER_DAY);
    let secs = tod / USECS_PER_SEC;
    let t = PyTime::new(
        py,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        (tod % USECS_PER_SEC) as u32,
        tz,
    )?;
    Ok(t.into_any().unbind())
}

pub(crate) fn date_max(py: Python<'_>, positive: bool) -> PyResult<PyObject> {
    let d = if positive {
        PyDate::new(py, 9999, 12, 31)?
    } else {
        PyDate::new(py, 1, 1, 1)?
    };
    Ok(d.into_any().unbind())
}

pub(crate) fn datetime_max(
    py: Python<'_>,
    positive: bool,
    tz: Option<&Bound<'_, PyTzInfo>>,
) -> PyResult<PyObject> {
    let dt = if positive {
        PyDateTime::new(py, 9999, 12, 31, 23, 59, 59, 999_999, tz)?
    } else {
        PyDateTime::new(py, 1, 1, 1, 0, 0, 0, 0, tz)?
    };
    Ok(dt.into_any().unbind())
}

pub(crate) fn date_binary(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let b = be::<4>(raw, 0)
        .filter(|_| raw.len() == 4)
        .ok_or_else(|| malformed(py, "date", "not 4 bytes"))?;
    match i32::from_be_bytes(b) {
        i32::MAX => date_max(py, true),
        i32::MIN => date_max(py, false),
        d => py_date(py, i64::from(d) + PG_EPOCH_DAYS),
    }
}

fn eight(py: Python<'_>, type_name: &str, raw: &[u8]) -> PyResult<i64> {
    be::<8>(raw, 0)
        .filter(|_| raw.len() >= 8)
        .map(i64::from_be_bytes)
        .ok_or_else(|| malformed(py, type_name, "shorter than 8 bytes"))
}

pub(crate) fn time_binary(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    py_time(py, eight(py, "time", raw)?, None)
}

pub(crate) fn timetz_binary(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let usecs = eight(py, "time with time zone", raw)?;
    let west = be::<4>(raw, 8)
        .filter(|_| raw.len() == 12)
        .map(i32::from_be_bytes)
        .ok_or_else(|| malformed(py, "time with time zone", "not 12 bytes"))?;
    let tz = reg.tz_for_offset(py, west.checked_neg().unwrap_or(0))?;
    py_time(py, usecs, Some(&tz))
}

/// Microseconds since 1970 of a binary timestamp, or None for +-infinity.
fn unix_usecs(py: Python<'_>, type_name: &str, raw: &[u8]) -> PyResult<Result<i64, bool>> {
    if raw.len() != 8 {
        return Err(malformed(py, type_name, "not 8 bytes"));
    }
    Ok(match eight(py, type_name, raw)? {
        i64::MAX => Err(true),
        i64::MIN => Err(false),
        v => Ok(v.saturating_add(PG_EPOCH_DAYS * USECS_PER_DAY)),
    })
}

pub(crate) fn timestamp_binary(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    match unix_usecs(py, "timestamp", raw)? {
        Ok(us) => py_datetime(py, us, None),
        Err(positive) => datetime_max(py, positive, None),
    }
}

pub(crate) fn timestamptz_binary(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let us = match unix_usecs(py, "timestamp with time zone", raw)? {
        Ok(us) => us,
        Err(positive) => return datetime_max(py, positive, Some(&reg.tz_for_offset(py, 0)?)),
    };
    let offset = match &reg.zone {
        Zone::Utc => 0,
        Zone::Fixed(east) => *east,
        Zone::Iana(zone) => iana_offset(py, zone.bind(py), us)?,
        Zone::Unresolved(name) => {
            return Err(malformed(
                py,
                "timestamp with time zone",
                &format!("binary value in time zone {name:?}, which Python's zoneinfo cannot resolve"),
            ))
        }
    };
    let tz = reg.tz_for_offset(py, offset)?;
    py_datetime(py, us + i64::from(offset) * USECS_PER_SEC, Some(&tz))
}

/// The zone's UTC offset (seconds east) at a UTC instant, as zoneinfo computes it.
fn iana_offset(py: Python<'_>, zone: &Bound<'_, PyAny>, unix_usecs: i64) -> PyResult<i32> {
    let tz = zone.downcast::<PyTzInfo>()?;
    let at = py_datetime(py, unix_usecs, Some(tz))?;
    let local = zone.call_method1("fromutc", (at,))?;
    let delta = local.call_method0("utcoffset")?;
    let delta = delta.downcast::<PyDelta>()?;
    Ok(delta.get_days() * 86_400 + delta.get_seconds())
}

/// The (days, seconds, microseconds) of a timedelta equal to psycopg2's reading of an
/// interval: years of 365 days and months of 30, plus days, plus the time part.
pub(crate) fn interval_parts(months: i64, days: i64, usecs: i64) -> Option<(i32, i32, i32)> {
    let days = (months / 12) * 365 + (months % 12) * 30 + days;
    let total = i128::from(days) * i128::from(USECS_PER_DAY) + i128::from(usecs);
    let day_us = i128::from(USECS_PER_DAY);
    let d = i32::try_from(total.div_euclid(day_us)).ok()?;
    if d.unsigned_abs() > 999_999_999 {
        return None;
    }
    let rest = total.rem_euclid(day_us) as i64;
    Some((d, (rest / USECS_PER_SEC) as i32, (rest % USECS_PER_SEC) as i32))
}

pub(crate) fn py_interval(py: Python<'_>, months: i64, days: i64, usecs: i64) -> PyResult<PyObject> {
    let (d, s, us) = interval_parts(months, days, usecs)
        .ok_or_else(|| PyOverflowError::new_err("interval out of range for datetime.timedelta"))?;
    Ok(PyDelta::new(py, d, s, us, false)?.into_any().unbind())
}

pub(crate) fn interval_binary(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let bad = || malformed(py, "interval", "not 16 bytes");
    if raw.len() != 16 {
        return Err(bad());
    }
    let usecs = be::<8>(raw, 0).map(i64::from_be_bytes).ok_or_else(bad)?;
    let days = be::<4>(raw, 8).map(i32::from_be_bytes).ok_or_else(bad)?;
    let months = be::<4>(raw, 12).map(i32::from_be_bytes).ok_or_else(bad)?;
    py_interval(py, i64::from(months), i64::from(days), usecs)
}

pub(crate) use super::datetime_text::{date_text, interval_text, time_text, timestamp_text};
