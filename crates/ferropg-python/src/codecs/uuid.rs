//! uuid -> uuid.UUID (aiopg's enable_uuid, the default), else the text form as str.
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::{malformed, text, TypeRegistry};

/// The canonical 8-4-4-4-12 lowercase form PostgreSQL prints.
pub(crate) fn uuid_string(b: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

pub(crate) fn uuid_binary(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let b: [u8; 16] = raw
        .try_into()
        .map_err(|_| malformed(py, "uuid", "not 16 bytes"))?;
    if !reg.enable_uuid {
        return Ok(PyString::new(py, &uuid_string(&b)).into_any().unbind());
    }
    // UUID's __init__ is pure Python and parses its arguments; filling the two slots it
    // would fill is several times cheaper and gives an equal, immutable UUID.
    let cls = reg.uuid_cls.bind(py);
    let uuid = reg.object_new.bind(py).call1((cls,))?;
    let setattr = reg.object_setattr.bind(py);
    setattr.call1((&uuid, intern!(py, "int"), u128::from_be_bytes(b)))?;
    setattr.call1((&uuid, intern!(py, "is_safe"), reg.uuid_safe_unknown.bind(py)))?;
    Ok(uuid.unbind())
}

pub(crate) fn uuid_text(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let s = text::text(py, raw)?;
    if !reg.enable_uuid {
        return Ok(s);
    }
    Ok(reg.uuid_cls.bind(py).call1((s,))?.unbind())
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_text_form() {
        let mut b = [0u8; 16];
        b[15] = 1;
        b[0] = 0xab;
        assert_eq!(super::uuid_string(&b), "ab000000-0000-0000-0000-000000000001");
    }
}
