//! Arrays -> (nested) lists, as psycopg2 returns them: lower bounds are dropped, NULL
//! elements become None, and an empty array is [].
use pyo3::prelude::*;
use pyo3::types::PyList;

use super::{be, decode_binary as elem_binary, decode_text as elem_text, malformed, Kind, TypeRegistry};

/// PostgreSQL's MAXDIM.
const MAX_DIMS: usize = 6;

pub(crate) fn decode_binary(
    py: Python<'_>,
    reg: &TypeRegistry,
    kind: Kind,
    raw: &[u8],
) -> PyResult<PyObject> {
    let bad = |why: &str| malformed(py, "array", why);
    let int = |at: usize| {
        be::<4>(raw, at)
            .map(i32::from_be_bytes)
            .ok_or_else(|| bad("truncated header"))
    };
    let ndim = usize::try_from(int(0)?).map_err(|_| bad("negative dimension count"))?;
    if ndim > MAX_DIMS {
        return Err(bad("more than 6 dimensions"));
    }
    let mut dims = Vec::with_capacity(ndim);
    for d in 0..ndim {
        let len = usize::try_from(int(12 + 8 * d)?).map_err(|_| bad("negative dimension"))?;
        dims.push(len);
    }
    let mut at = 12 + 8 * ndim;
    if ndim == 0 || dims.contains(&0) {
        return Ok(PyList::empty(py).into_any().unbind());
    }
    let list = binary_level(py, reg, kind, raw, &dims, &mut at)?;
    if at != raw.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(list)
}

fn binary_level(
    py: Python<'_>,
    reg: &TypeRegistry,
    kind: Kind,
    raw: &[u8],
    dims: &[usize],
    at: &mut usize,
) -> PyResult<PyObject> {
    let bad = |why: &str| malformed(py, "array", why);
    let Some((&len, inner)) = dims.split_first() else {
        return Err(bad("no dimensions"));
    };
    let mut items = Vec::with_capacity(len.min(raw.len()));
    for _ in 0..len {
        if !inner.is_empty() {
            items.push(binary_level(py, reg, kind, raw, inner, at)?);
            continue;
        }
        let n = be::<4>(raw, *at)
            .map(i32::from_be_bytes)
            .ok_or_else(|| bad("truncated element"))?;
        *at += 4;
        if n < 0 {
            items.push(py.None());
            continue;
        }
        let end = at.checked_add(n as usize).ok_or_else(|| bad("element length"))?;
        let bytes = raw.get(*at..end).ok_or_else(|| bad("truncated element"))?;
        *at = end;
        items.push(elem_binary(py, reg, kind, bytes)?);
    }
    Ok(PyList::new(py, items)?.into_any().unbind())
}

/// One element of a text array: its unescaped text, or None for an unquoted NULL.
pub(crate) enum Node {
    Item(Option<String>),
    List(Vec<Node>),
}

/// Parses the server's array output, e.g. `[0:1]={{1,NULL},{"a \"b\"",c}}`.
pub(crate) fn parse_text(s: &str) -> Option<Vec<Node>> {
    let s = if s.starts_with('[') {
        &s[s.find('=')? + 1..]
    } else {
        s
    };
    let mut chars = s.chars().peekable();
    let items = level(&mut chars)?;
    chars.next().is_none().then_some(items)
}

fn level(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<Vec<Node>> {
    if chars.next()? != '{' {
        return None;
    }
    let mut items = Vec::new();
    if chars.peek() == Some(&'}') {
        chars.next();
        return Some(items);
    }
    loop {
        match chars.peek()? {
            '{' => items.push(Node::List(level(chars)?)),
            '"' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => v.push(chars.next()?),
                        c => v.push(c),
                    }
                }
                items.push(Node::Item(Some(v)));
            }
            _ => {
                let mut v = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == '}' {
                        break;
                    }
                    v.push(if c == '\\' { chars.nth(1)? } else { c });
                    if c != '\\' {
                        chars.next();
                    }
                }
                let v = v.trim().to_owned();
                items.push(Node::Item((!v.eq_ignore_ascii_case("NULL")).then_some(v)));
            }
        }
        match chars.next()? {
            ',' => {}
            '}' => return Some(items),
            _ => return None,
        }
    }
}

pub(crate) fn decode_text(py: Python<'_>, reg: &TypeRegistry, kind: Kind, raw: &[u8]) -> PyResult<PyObject> {
    let s = std::str::from_utf8(raw).map_err(|_| malformed(py, "array", "invalid UTF-8"))?;
    let nodes = parse_text(s).ok_or_else(|| malformed(py, "array", s))?;
    to_list(py, reg, kind, nodes)
}

fn to_list(py: Python<'_>, reg: &TypeRegistry, kind: Kind, nodes: Vec<Node>) -> PyResult<PyObject> {
    let mut items = Vec::with_capacity(nodes.len());
    for n in nodes {
        items.push(match n {
            Node::List(inner) => to_list(py, reg, kind, inner)?,
            Node::Item(None) => py.None(),
            Node::Item(Some(v)) => elem_text(py, reg, kind, v.as_bytes())?,
        });
    }
    Ok(PyList::new(py, items)?.into_any().unbind())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(nodes: &[Node]) -> String {
        let parts: Vec<String> = nodes
            .iter()
            .map(|n| match n {
                Node::List(l) => format!("[{}]", show(l)),
                Node::Item(None) => "None".into(),
                Node::Item(Some(s)) => format!("{s:?}"),
            })
            .collect();
        parts.join(",")
    }

    #[test]
    fn text_arrays() {
        assert_eq!(show(&parse_text("{}").unwrap()), "");
        assert_eq!(show(&parse_text("{1,2}").unwrap()), r#""1","2""#);
        assert_eq!(show(&parse_text("[2:3]={1,2}").unwrap()), r#""1","2""#);
        assert_eq!(
            show(&parse_text("{{1,NULL},{3,4}}").unwrap()),
            r#"["1",None],["3","4"]"#
        );
        assert_eq!(
            show(&parse_text(r#"{a,"b,c",NuLL,"NULL","q\"q","\\"}"#).unwrap()),
            r#""a","b,c",None,"NULL","q\"q","\\""#
        );
        assert!(parse_text("{1,2").is_none());
        assert!(parse_text("{1,2}x").is_none());
        assert!(parse_text("{\"a}").is_none());
    }
}
