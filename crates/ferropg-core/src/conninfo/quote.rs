//! Writing key=value connection strings back, as psycopg2's `make_dsn` does.

/// One value in key=value syntax: psycopg2's `_param_escape`. Backslashes and
/// quotes are escaped; the value is quoted when empty or holding whitespace.
pub fn quote_value(v: &str) -> String {
    if v.is_empty() {
        return "''".to_owned();
    }
    let mut out = String::with_capacity(v.len() + 2);
    for c in v.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    // Python's `\s` (what psycopg2 tests) is Unicode whitespace; it also covers
    // every byte libpq's `isspace` stops at.
    if v.chars().any(|c| c.is_whitespace() || py_space(c)) {
        out.insert(0, '\'');
        out.push('\'');
    }
    out
}

/// Characters Python's `str.isspace` counts that Rust's `is_whitespace` does not.
fn py_space(c: char) -> bool {
    matches!(c, '\x1c'..='\x1f')
}

/// `k=v k=v`, each value quoted as needed.
pub fn join<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", quote_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}
