//! bool, integers, floats and numeric (-> decimal.Decimal).
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat};

use super::{be, malformed, Kind, TypeRegistry};

fn ascii<'a>(py: Python<'_>, type_name: &str, raw: &'a [u8]) -> PyResult<&'a str> {
    std::str::from_utf8(raw).map_err(|_| malformed(py, type_name, "not ASCII text"))
}

pub(crate) fn bool_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    match raw {
        b"t" => Ok(PyBool::new(py, true).to_owned().into_any().unbind()),
        b"f" => Ok(PyBool::new(py, false).to_owned().into_any().unbind()),
        _ => Err(malformed(py, "boolean", "expected 't' or 'f'")),
    }
}

pub(crate) fn int_binary(py: Python<'_>, kind: Kind, raw: &[u8]) -> PyResult<PyObject> {
    let exact = |n: usize| -> PyResult<()> {
        if raw.len() == n {
            Ok(())
        } else {
            Err(malformed(
                py,
                kind_name(kind),
                &format!("{} bytes, expected {n}", raw.len()),
            ))
        }
    };
    let obj = match kind {
        Kind::Bool => {
            exact(1)?;
            PyBool::new(py, raw[0] != 0).to_owned().into_any()
        }
        Kind::Int2 => {
            exact(2)?;
            i16::from_be_bytes([raw[0], raw[1]]).into_pyobject(py)?.into_any()
        }
        Kind::Int4 => {
            exact(4)?;
            i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])
                .into_pyobject(py)?
                .into_any()
        }
        Kind::Oid => {
            exact(4)?;
            u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])
                .into_pyobject(py)?
                .into_any()
        }
        _ => {
            exact(8)?;
            let b: [u8; 8] = be(raw, 0).ok_or_else(|| malformed(py, "bigint", "short"))?;
            i64::from_be_bytes(b).into_pyobject(py)?.into_any()
        }
    };
    Ok(obj.unbind())
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool => "boolean",
        Kind::Int2 => "smallint",
        Kind::Int4 => "integer",
        Kind::Oid => "oid",
        Kind::Float4 => "real",
        Kind::Float8 => "double precision",
        _ => "bigint",
    }
}

pub(crate) fn int_text(py: Python<'_>, kind: Kind, raw: &[u8]) -> PyResult<PyObject> {
    let s = ascii(py, kind_name(kind), raw)?;
    let v: i64 = s.parse().map_err(|_| malformed(py, kind_name(kind), s))?;
    Ok(v.into_pyobject(py)?.into_any().unbind())
}

pub(crate) fn float_binary(py: Python<'_>, kind: Kind, raw: &[u8]) -> PyResult<PyObject> {
    let v = match (kind, raw.len()) {
        (Kind::Float4, 4) => f32_as_text_value(f32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])),
        (Kind::Float8, 8) => match be::<8>(raw, 0) {
            Some(b) => f64::from_be_bytes(b),
            None => return Err(malformed(py, kind_name(kind), "short")),
        },
        _ => return Err(malformed(py, kind_name(kind), "wrong length")),
    };
    Ok(PyFloat::new(py, v).into_any().unbind())
}

/// The f64 psycopg2 gets for a real: it parses the server's shortest text form (0.1, not
/// 0.10000000149011612), which is what Rust's shortest round-trip printing of f32 gives.
pub(crate) fn f32_as_text_value(v: f32) -> f64 {
    if !v.is_finite() {
        return f64::from(v);
    }
    v.to_string().parse::<f64>().unwrap_or(f64::from(v))
}

pub(crate) fn float_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let s = ascii(py, "double precision", raw)?;
    let v = match s {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => s.parse().map_err(|_| malformed(py, "double precision", s))?,
    };
    Ok(PyFloat::new(py, v).into_any().unbind())
}

pub(crate) fn numeric_text(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let s = ascii(py, "numeric", raw)?;
    Ok(reg.decimal_cls.bind(py).call1((s,))?.unbind())
}

pub(crate) fn numeric_binary(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let s = numeric_binary_to_string(raw).map_err(|e| malformed(py, "numeric", e))?;
    Ok(reg.decimal_cls.bind(py).call1((s,))?.unbind())
}

const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// The server's text form of a binary numeric: base-10000 digits with a weight (power of
/// 10000 of the first digit) and a display scale (decimal digits after the point).
pub(crate) fn numeric_binary_to_string(raw: &[u8]) -> Result<String, &'static str> {
    let field = |at: usize| be::<2>(raw, at).map(u16::from_be_bytes).ok_or("truncated header");
    let ndigits = usize::from(field(0)?);
    let weight = i64::from(field(2)? as i16);
    let sign = field(4)?;
    let dscale = i64::from(field(6)?);
    match sign {
        NUMERIC_NAN => return Ok("NaN".into()),
        NUMERIC_PINF => return Ok("Infinity".into()),
        NUMERIC_NINF => return Ok("-Infinity".into()),
        0 | NUMERIC_NEG => {}
        _ => return Err("bad sign"),
    }
    if raw.len() != 8 + 2 * ndigits {
        return Err("digit count does not match the length");
    }
    let groups = &raw[8..];
    if groups
        .chunks_exact(2)
        .any(|g| u16::from_be_bytes([g[0], g[1]]) >= 10000)
    {
        return Err("digit out of range");
    }
    // Base-10000 digit i (0 is the first), zero outside the stored ones.
    let digit = |i: i64| -> u16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| groups.get(2 * i..2 * i + 2))
            .map_or(0, |g| u16::from_be_bytes([g[0], g[1]]))
    };
    let int_groups = usize::try_from(weight + 1).unwrap_or(0);
    let mut out = String::with_capacity(3 + 4 * int_groups + dscale as usize + 4);
    if sign == NUMERIC_NEG {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        // The first group without its leading zeros, then four digits per group.
        let first = digit(0);
        let mut four = [0u8; 4];
        let skip = four_digits(first, &mut four)
            .iter()
            .take(3)
            .take_while(|&&b| b == b'0')
            .count();
        four[skip..].iter().for_each(|&b| out.push(char::from(b)));
        for i in 1..=weight {
            push_four(&mut out, digit(i));
        }
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut i = weight + 1;
        while ((out.len() - start) as i64) < dscale {
            push_four(&mut out, digit(i));
            i += 1;
        }
        out.truncate(start + dscale as usize);
    }
    Ok(out)
}

/// `d` (< 10000) as four ASCII digits.
fn four_digits(d: u16, out: &mut [u8; 4]) -> &[u8; 4] {
    *out = [
        b'0' + (d / 1000 % 10) as u8,
        b'0' + (d / 100 % 10) as u8,
        b'0' + (d / 10 % 10) as u8,
        b'0' + (d % 10) as u8,
    ];
    out
}

fn push_four(out: &mut String, d: u16) {
    let mut four = [0u8; 4];
    four_digits(d, &mut four)
        .iter()
        .for_each(|&b| out.push(char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [ndigits, weight as u16, sign, dscale].iter().chain(digits) {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_digits() {
        assert_eq!(
            numeric_binary_to_string(&enc(2, 0, 0, 3, &[1, 5000])).unwrap(),
            "1.500"
        );
        assert_eq!(
            numeric_binary_to_string(&enc(1, 1, 0, 0, &[12])).unwrap(),
            "120000"
        );
        assert_eq!(
            numeric_binary_to_string(&enc(1, -5, 0, 20, &[1])).unwrap(),
            "0.00000000000000000001"
        );
        assert_eq!(
            numeric_binary_to_string(&enc(2, 1, NUMERIC_NEG, 2, &[1, 2345])).unwrap(),
            "-12345.00"
        );
        assert_eq!(numeric_binary_to_string(&enc(0, 0, 0, 0, &[])).unwrap(), "0");
        // The first group loses its leading zeros, the others keep all four digits.
        assert_eq!(
            numeric_binary_to_string(&enc(2, 1, 0, 0, &[12, 34])).unwrap(),
            "120034"
        );
        assert_eq!(
            numeric_binary_to_string(&enc(1, 0, 0, 0, &[1000])).unwrap(),
            "1000"
        );
        assert_eq!(numeric_binary_to_string(&enc(1, 0, 0, 1, &[7])).unwrap(), "7.0");
        assert_eq!(
            numeric_binary_to_string(&enc(1, -1, 0, 6, &[5])).unwrap(),
            "0.000500"
        );
        assert_eq!(numeric_binary_to_string(&enc(0, 0, 0, 2, &[])).unwrap(), "0.00");
        assert_eq!(
            numeric_binary_to_string(&enc(0, 0, NUMERIC_NAN, 0, &[])).unwrap(),
            "NaN"
        );
        assert_eq!(
            numeric_binary_to_string(&enc(0, 0, NUMERIC_NINF, 0, &[])).unwrap(),
            "-Infinity"
        );
        assert!(numeric_binary_to_string(&enc(2, 0, 0, 0, &[1])).is_err());
        assert!(numeric_binary_to_string(&enc(1, 0, 0, 0, &[10000])).is_err());
        assert!(numeric_binary_to_string(&[0, 1]).is_err());
    }

    #[test]
    fn real_reads_as_its_shortest_text() {
        assert_eq!(f32_as_text_value(0.1), 0.1);
        assert_eq!(f32_as_text_value(1.5), 1.5);
        assert!(f32_as_text_value(f32::NAN).is_nan());
    }
}
