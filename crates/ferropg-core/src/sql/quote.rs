//! Literals in psycopg2 2.9's exact form.
//!
//! psycopg2 decides the `E''` prefix once, at connect time: a connection that
//! starts with standard_conforming_strings off quotes every string as `E'...'`
//! with backslashes doubled (libpq's PQescapeStringConn doubles them whenever
//! the setting is off). These helpers take the setting as it is when called;
//! the one psycopg2 form they do not reproduce is a session that switched the
//! setting off after connecting, where psycopg2 doubles backslashes without
//! the `E` (the server reads both the same).

use super::SqlError;

/// Quotes a string value: `'it''s'`, or `E'back\\slash'` when
/// standard_conforming_strings is off. A NUL character is an error, with
/// psycopg2's message.
pub fn quote_string(s: &str, standard_conforming_strings: bool) -> Result<String, SqlError> {
    if s.contains('\0') {
        return Err(SqlError::NulInString);
    }
    let mut out = String::with_capacity(s.len() + 3);
    if !standard_conforming_strings {
        out.push('E');
    }
    out.push('\'');
    let mut rest = s;
    // Copy runs between the characters that need doubling.
    loop {
        let special = if standard_conforming_strings {
            memchr::memchr(b'\'', rest.as_bytes())
        } else {
            memchr::memchr2(b'\'', b'\\', rest.as_bytes())
        };
        let Some(i) = special else { break };
        out.push_str(&rest[..=i]);
        out.push_str(&rest[i..=i]);
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('\'');
    Ok(out)
}

/// Quotes a bytea value in hex form: `'\x0001ff'::bytea`, or
/// `E'\\x0001ff'::bytea` when standard_conforming_strings is off.
pub fn quote_bytea(bytes: &[u8], standard_conforming_strings: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2 + 14);
    out.push_str(if standard_conforming_strings {
        "'\\x"
    } else {
        "E'\\\\x"
    });
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out.push_str("'::bytea");
    out
}

/// Quotes an identifier, always (as psycopg2's `quote_ident`): `"we""ird"`.
///
/// psycopg2 silently cuts a name at a NUL character; this refuses it instead.
pub fn quote_identifier(name: &str) -> Result<String, SqlError> {
    if name.contains('\0') {
        return Err(SqlError::NulInIdentifier {
            name: name.replace('\0', "\\0"),
        });
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for (i, part) in name.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
    Ok(out)
}
