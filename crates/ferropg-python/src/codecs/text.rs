//! Text-like types (-> str) and bytea (-> memoryview, as psycopg2 returns it, or bytes).
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMemoryView, PyString};

use super::malformed;

pub(crate) fn text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    // Python validates UTF-8 as it decodes; checking in Rust first would scan twice.
    let len = isize::try_from(raw.len()).map_err(|_| malformed(py, "text", "longer than isize::MAX"))?;
    // SAFETY: `raw` is valid for reads of `len` bytes for the whole call, the error
    // handler is a NUL-terminated literal, and we hold the GIL. The result is a new
    // reference, or NULL with an exception set.
    let decoded = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyUnicode_DecodeUTF8(raw.as_ptr().cast(), len, c"strict".as_ptr()),
        )
    };
    decoded
        .map(Bound::unbind)
        .map_err(|e| malformed(py, "text", &e.value(py).to_string()))
}

/// The one-byte "char" (OID 18) sent in binary, rendered as the server's text output
/// would be, so both formats agree: NUL is '', a byte with the high bit set is `\ooo`.
pub(crate) fn char_binary(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let mut ascii = [0u8; 4];
    let octal;
    let text: &str = match raw {
        [] | [0] => "",
        // One ASCII character: CPython hands out its cached one-character str.
        [b] if b.is_ascii() => char::from(*b).encode_utf8(&mut ascii),
        [b] => {
            octal = format!("\\{b:03o}");
            &octal
        }
        _ => return Err(malformed(py, "\"char\"", "more than one byte")),
    };
    Ok(PyString::new(py, text).into_any().unbind())
}

fn memoryview(py: Python<'_>, bytes: &[u8]) -> PyResult<PyObject> {
    let b = PyBytes::new(py, bytes);
    Ok(PyMemoryView::from(&b)?.into_any().unbind())
}

pub(crate) fn bytea_binary(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    memoryview(py, raw)
}

pub(crate) fn bytea_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let bytes = parse_bytea_text(raw).map_err(|e| malformed(py, "bytea", e))?;
    memoryview(py, &bytes)
}

pub(crate) fn bytes_binary(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    Ok(PyBytes::new(py, raw).into_any().unbind())
}

pub(crate) fn bytes_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let bytes = parse_bytea_text(raw).map_err(|e| malformed(py, "bytea", e))?;
    bytes_binary(py, &bytes)
}

/// bytea's text output: hex (`\x0aff`, the default) or the older escape format.
pub(crate) fn parse_bytea_text(raw: &[u8]) -> Result<Vec<u8>, &'static str> {
    if let Some(hex) = raw.strip_prefix(b"\\x") {
        if hex.len() % 2 != 0 {
            return Err("odd number of hex digits");
        }
        return hex
            .chunks_exact(2)
            .map(|p| Ok(hex_val(p[0])? << 4 | hex_val(p[1])?))
            .collect();
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
        } else if raw.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let oct = raw.get(i + 1..i + 4).ok_or("truncated escape")?;
            let mut v: u16 = 0;
            for &d in oct {
                if !(b'0'..=b'7').contains(&d) {
                    return Err("bad octal escape");
                }
                v = v * 8 + u16::from(d - b'0');
            }
            out.push(u8::try_from(v).map_err(|_| "octal escape above 255")?);
            i += 4;
        }
    }
    Ok(out)
}

fn hex_val(c: u8) -> Result<u8, &'static str> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err("bad hex digit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytea_forms() {
        assert_eq!(parse_bytea_text(b"\\x00ff").unwrap(), vec![0, 255]);
        assert_eq!(parse_bytea_text(b"\\x").unwrap(), Vec::<u8>::new());
        assert!(parse_bytea_text(b"\\x0").is_err());
        assert!(parse_bytea_text(b"\\xzz").is_err());
        assert_eq!(
            parse_bytea_text(b"a\\\\b\\000\\377").unwrap(),
            b"a\\b\x00\xff".to_vec()
        );
        assert!(parse_bytea_text(b"\\400").is_err());
        assert!(parse_bytea_text(b"\\12").is_err());
    }
}
