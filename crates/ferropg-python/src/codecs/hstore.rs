//! hstore -> dict of str to str-or-None (aiopg's enable_hstore, once the oids are known),
//! and the text form of a dict parameter.
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use super::encode_write::push_quoted;
use super::{be, malformed};

fn text_or_none(py: Python<'_>, v: Option<&str>) -> PyObject {
    match v {
        Some(s) => PyString::new(py, s).into_any().unbind(),
        None => py.None(),
    }
}

/// Binary hstore: count, then per pair a key (length, bytes) and a value (length or -1).
pub(crate) fn decode_binary(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let bad = |why: &str| malformed(py, "hstore", why);
    let read_i32 = |at: usize| {
        be::<4>(raw, at)
            .map(i32::from_be_bytes)
            .ok_or_else(|| bad("truncated"))
    };
    let count = read_i32(0)?;
    let mut at = 4usize;
    let dict = PyDict::new(py);
    let read_str = |at: &mut usize, nullable: bool| -> PyResult<Option<String>> {
        let len = read_i32(*at)?;
        *at += 4;
        if len < 0 {
            return if nullable { Ok(None) } else { Err(bad("NULL key")) };
        }
        let end = at
            .checked_add(len as usize)
            .ok_or_else(|| bad("length overflow"))?;
        let bytes = raw.get(*at..end).ok_or_else(|| bad("truncated"))?;
        *at = end;
        let s = std::str::from_utf8(bytes).map_err(|_| bad("invalid UTF-8"))?;
        Ok(Some(s.to_owned()))
    };
    for _ in 0..count.max(0) {
        let k = read_str(&mut at, false)?;
        let v = read_str(&mut at, true)?;
        dict.set_item(text_or_none(py, k.as_deref()), text_or_none(py, v.as_deref()))?;
    }
    if at != raw.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(dict.into_any().unbind())
}

pub(crate) fn decode_text(py: Python<'_>, raw: &[u8]) -> PyResult<PyObject> {
    let s = std::str::from_utf8(raw).map_err(|_| malformed(py, "hstore", "invalid UTF-8"))?;
    let pairs = parse_text(s).ok_or_else(|| malformed(py, "hstore", s))?;
    let dict = PyDict::new(py);
    for (k, v) in pairs {
        dict.set_item(k, text_or_none(py, v.as_deref()))?;
    }
    Ok(dict.into_any().unbind())
}

/// The server's hstore output: `"k"=>"v", "k2"=>NULL`, with `\"` and `\\` escapes.
pub(crate) fn parse_text(s: &str) -> Option<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let key = quoted(&mut chars)?;
        if chars.next()? != '=' || chars.next()? != '>' {
            return None;
        }
        let value = if chars.peek() == Some(&'"') {
            Some(quoted(&mut chars)?)
        } else {
            let word: String = chars.by_ref().take(4).collect();
            (word == "NULL").then_some(())?;
            None
        };
        out.push((key, value));
        match chars.next() {
            None => return Some(out),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
    if chars.next()? != '"' {
        return None;
    }
    let mut s = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(s),
            '\\' => s.push(chars.next()?),
            c => s.push(c),
        }
    }
}

/// The text input form of a dict parameter (keys and values already strings).
pub(crate) fn encode_text(pairs: &[(String, Option<String>)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_quoted(&mut out, k);
        out.push_str("=>");
        match v {
            Some(v) => push_quoted(&mut out, v),
            None => out.push_str("NULL"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let pairs = vec![
            ("a".to_owned(), Some("1".to_owned())),
            ("b \"q".to_owned(), None),
            ("\\".to_owned(), Some("x,y=>z".to_owned())),
        ];
        let s = encode_text(&pairs);
        assert_eq!(s, r#""a"=>"1", "b \"q"=>NULL, "\\"=>"x,y=>z""#);
        assert_eq!(parse_text(&s).unwrap(), pairs);
        assert_eq!(parse_text("").unwrap(), vec![]);
        assert!(parse_text(r#""a"=>"#).is_none());
        assert!(parse_text(r#""a"=>NUL"#).is_none());
    }
}
