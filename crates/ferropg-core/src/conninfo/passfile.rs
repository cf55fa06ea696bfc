//! The password file (`~/.pgpass`, `passfile`, `PGPASSFILE`) as libpq reads it.
//!
//! Each line is `host:port:dbname:user:password`; `*` as a whole field matches
//! anything, `\` escapes `:` and `\`, lines starting with `#` are comments. The
//! first matching line wins. A file that group or others can read is ignored,
//! as libpq ignores it (with a warning we record instead of printing).
use std::path::{Path, PathBuf};

/// The entries of one password file, kept as raw lines and matched lazily.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passfile {
    pub path: PathBuf,
    lines: Vec<String>,
    /// Why the file was not used, when it exists but was skipped.
    pub skipped: Option<String>,
}

impl Passfile {
    /// Read `path`; a missing or unreadable file is an empty one, as in libpq.
    pub fn load(path: &Path) -> Passfile {
        let mut pf = Passfile {
            path: path.to_owned(),
            ..Passfile::default()
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return pf;
        };
        if !meta.is_file() {
            pf.skipped = Some(format!(
                "password file \"{}\" is not a plain file",
                path.display()
            ));
            return pf;
        }
        if insecure(&meta) {
            pf.skipped = Some(format!(
                "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                path.display()
            ));
            return pf;
        }
        if let Ok(bytes) = std::fs::read(path) {
            pf.lines = parse_lines(&String::from_utf8_lossy(&bytes));
        }
        pf
    }

    /// Entries given as text (tests, or a caller that read the file itself).
    pub fn from_text(path: &Path, text: &str) -> Passfile {
        Passfile {
            path: path.to_owned(),
            lines: parse_lines(text),
            skipped: None,
        }
    }

    /// The password of the first line matching all four fields.
    pub fn lookup(&self, host: &str, port: &str, dbname: &str, user: &str) -> Option<String> {
        self.lines.iter().find_map(|line| {
            let rest = match_field(line, host)?;
            let rest = match_field(rest, port)?;
            let rest = match_field(rest, dbname)?;
            let rest = match_field(rest, user)?;
            Some(unescape_password(rest))
        })
    }
}

#[cfg(unix)]
fn insecure(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 != 0
}

#[cfg(not(unix))]
fn insecure(_meta: &std::fs::Metadata) -> bool {
    false
}

fn parse_lines(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// libpq's `pwdfMatchesString`: does the line's next field equal `token`?
/// Returns the rest of the line after the field's `:`.
fn match_field<'a>(line: &'a str, token: &str) -> Option<&'a str> {
    if let Some(rest) = line.strip_prefix("*:") {
        return Some(rest);
    }
    let mut tok = token.chars();
    let mut it = line.char_indices();
    while let Some((i, c)) = it.next() {
        let (c, escaped) = if c == '\\' {
            match it.next() {
                Some((_, n)) => (n, true),
                None => return None,
            }
        } else {
            (c, false)
        };
        if c == ':' && !escaped {
            return tok.next().is_none().then(|| &line[i + 1..]);
        }
        if tok.next() != Some(c) {
            return None;
        }
    }
    None
}

/// The password field runs to the next unescaped `:` or the end of the line.
fn unescape_password(field: &str) -> String {
    let mut out = String::new();
    let mut it = field.chars();
    while let Some(c) = it.next() {
        match c {
            ':' => break,
            '\\' => match it.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}
