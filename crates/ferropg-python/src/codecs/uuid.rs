//! uuid -> uuid.UUID (aiopg's enable_uuid, the default), else the text form as str.
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::{malformed, text, TypeRegistry};

/// The canonical 8-4-4-4-12 lowercase form PostgreSQL prints.
pub(crate) fn uuid_string(b: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(HEX[usize::from(byte >> 4)]));
        s.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    s
}

/// The 128-bit value of the server's text form (8-4-4-4-12 hex digits), or None.
fn parse_uuid_text(text: &[u8]) -> Option<u128> {
    if text.len() != 36 {
        return None;
    }
    let mut value = 0u128;
    for (i, &c) in text.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        value = value << 4 | u128::from(char::from(c).to_digit(16)?);
    }
    Some(value)
}

pub(crate) fn uuid_binary(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let b: [u8; 16] = raw
        .try_into()
        .map_err(|_| malformed(py, "uuid", "not 16 bytes"))?;
    if !reg.enable_uuid {
        return Ok(PyString::new(py, &uuid_string(&b)).into_any().unbind());
    }
    new_uuid(py, reg, u128::from_be_bytes(b))
}

/// A `uuid.UUID` for `value`, built as `object.__new__(UUID)` followed by
/// `object.__setattr__` of its two slots, `int` and `is_safe`: UUID's __init__ is pure
/// Python that parses its arguments, several times the cost of the object itself. The
/// result is an ordinary UUID, equal to `UUID(int=value)`.
fn new_uuid(py: Python<'_>, reg: &TypeRegistry, value: u128) -> PyResult<PyObject> {
    let cls = reg.uuid_cls.bind(py);
    let int = value.into_pyobject(py)?;
    let empty = pyo3::types::PyTuple::empty(py);
    // SAFETY: `cls` is a type object (checked when the registry was built) and we hold the
    // GIL. object's tp_new is `object.__new__`; given a type, an empty args tuple and no
    // kwargs it allocates an instance through the type's own tp_alloc and returns a new
    // reference, or NULL with an exception set, which `from_owned_ptr_or_err` turns into
    // an error. PyObject_GenericSetAttr is `object.__setattr__`: it only reads the
    // borrowed pointers we pass, which stay alive for the call, and reports failure as -1
    // with an exception set (e.g. if a patched UUID lacks the slots).
    unsafe {
        let object_new = (*std::ptr::addr_of!(pyo3::ffi::PyBaseObject_Type))
            .tp_new
            .ok_or_else(|| pyo3::exceptions::PySystemError::new_err("object has no tp_new"))?;
        let raw = object_new(cls.as_ptr().cast(), empty.as_ptr(), std::ptr::null_mut());
        let uuid = Bound::from_owned_ptr_or_err(py, raw)?;
        for (name, value) in [
            (intern!(py, "int"), int.as_any()),
            (intern!(py, "is_safe"), reg.uuid_safe_unknown.bind(py)),
        ] {
            if pyo3::ffi::PyObject_GenericSetAttr(uuid.as_ptr(), name.as_ptr(), value.as_ptr()) != 0 {
                return Err(PyErr::fetch(py));
            }
        }
        Ok(uuid.unbind())
    }
}

pub(crate) fn uuid_text(py: Python<'_>, reg: &TypeRegistry, raw: &[u8]) -> PyResult<PyObject> {
    let s = text::text(py, raw)?;
    if !reg.enable_uuid {
        return Ok(s);
    }
    match parse_uuid_text(raw) {
        Some(value) => new_uuid(py, reg, value),
        // Not the canonical form the server prints: UUID() parses it, or says what is wrong.
        None => Ok(reg.uuid_cls.bind(py).call1((s,))?.unbind()),
    }
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

    #[test]
    fn text_form_parses_back() {
        let b: [u8; 16] = *b"\x0b\x46\x04\xae\xee\xce\x41\xbd\x94\xbe\x07\x72\x52\xae\xf6\x80";
        let text = super::uuid_string(&b);
        assert_eq!(text, "0b4604ae-eece-41bd-94be-077252aef680");
        assert_eq!(
            super::parse_uuid_text(text.as_bytes()),
            Some(u128::from_be_bytes(b))
        );
        assert_eq!(
            super::parse_uuid_text(text.to_uppercase().as_bytes()),
            Some(u128::from_be_bytes(b))
        );
        for bad in [
            "",
            "0b4604aeeece41bd94be077252aef680",
            "0b4604ae-eece-41bd-94be-077252aef68g",
        ] {
            assert_eq!(super::parse_uuid_text(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(
            super::parse_uuid_text("0b4604ae+eece-41bd-94be-077252aef680".as_bytes()),
            None
        );
    }
}
