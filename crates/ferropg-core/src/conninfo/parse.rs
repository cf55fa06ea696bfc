//! `PQconninfoParse`: a connection string (URI or key=value) into raw options.
//!
//! Only syntax is checked here, as libpq does; values are judged in `resolve`.
use super::error::ConnInfoError;
use super::keywords::{index_of, KEYWORDS};

/// Raw option values by keyword position; `Some("")` (given empty) differs from
/// `None` (not given): only `None` lets an environment variable fill it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawOptions {
    vals: Vec<Option<String>>,
}

impl RawOptions {
    pub fn new() -> Self {
        RawOptions {
            vals: vec![None; KEYWORDS.len()],
        }
    }

    pub fn get(&self, index: usize) -> Option<&str> {
        self.vals.get(index).and_then(|v| v.as_deref())
    }

    pub(crate) fn set_index(&mut self, index: usize, value: Option<String>) {
        self.vals[index] = value;
    }

    /// Store `value` under keyword `name`, as libpq's `conninfo_storeval`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConnInfoError> {
        // libpq still honours the pre-7.4 spelling.
        let (name, value) = if name == "requiressl" {
            let mode = if value.starts_with('1') {
                "require"
            } else {
                "prefer"
            };
            ("sslmode", mode)
        } else {
            (name, value)
        };
        let index = index_of(name).ok_or_else(|| ConnInfoError::InvalidOption(name.into()))?;
        self.vals[index] = Some(value.to_owned());
        Ok(())
    }

    /// The options that were given, in libpq's keyword order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        KEYWORDS
            .iter()
            .zip(&self.vals)
            .filter_map(|(k, v)| v.as_deref().map(|v| (k.name, v)))
    }
}

/// Parse a connection string exactly as `PQconninfoParse` would.
pub fn parse_dsn(dsn: &str) -> Result<RawOptions, ConnInfoError> {
    if dsn.contains('\0') {
        return Err(ConnInfoError::NulCharacter);
    }
    match uri_prefix_len(dsn) {
        Some(n) => super::uri::parse_uri(dsn, n),
        None => parse_keyword_value(dsn),
    }
}

pub(crate) fn uri_prefix_len(dsn: &str) -> Option<usize> {
    ["postgresql://", "postgres://"]
        .iter()
        .find(|p| dsn.starts_with(*p))
        .map(|p| p.len())
}

/// C's `isspace` in the C locale (Rust's ASCII whitespace lacks \v).
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn parse_keyword_value(s: &str) -> Result<RawOptions, ConnInfoError> {
    let b = s.as_bytes();
    let mut opts = RawOptions::new();
    let mut i = 0;
    while i < b.len() {
        if is_c_space(b[i]) {
            i += 1;
            continue;
        }
        let name_start = i;
        while i < b.len() && b[i] != b'=' && !is_c_space(b[i]) {
            i += 1;
        }
        let name = &s[name_start..i];
        while i < b.len() && is_c_space(b[i]) {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return Err(ConnInfoError::MissingEquals(name.into()));
        }
        i += 1;
        while i < b.len() && is_c_space(b[i]) {
            i += 1;
        }
        let (value, next) = read_value(s, i)?;
        i = next;
        opts.set(name, &value)?;
    }
    Ok(opts)
}

/// One value starting at byte `i`: bare (ends at whitespace) or single-quoted;
/// a backslash takes the next character literally in both.
fn read_value(s: &str, mut i: usize) -> Result<(String, usize), ConnInfoError> {
    let b = s.as_bytes();
    let quoted = b.get(i) == Some(&b'\'');
    if quoted {
        i += 1;
    }
    let mut out = Vec::new();
    loop {
        match b.get(i) {
            None if quoted => return Err(ConnInfoError::UnterminatedQuote),
            None => break,
            Some(b'\\') => {
                if let Some(&c) = b.get(i + 1) {
                    out.push(c);
                    i += 2;
                } else {
                    i += 1;
                }
            }
            Some(b'\'') if quoted => {
                i += 1;
                break;
            }
            Some(&c) if !quoted && is_c_space(c) => {
                i += 1;
                break;
            }
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
    // Only ASCII bytes were dropped, so whole UTF-8 sequences remain.
    let value = String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok((value, i))
}
