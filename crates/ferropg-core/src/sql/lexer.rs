//! PostgreSQL's lexical structure, as far as placing placeholders needs it.
//!
//! psycopg2 substitutes placeholders before the server lexes anything, so a
//! placeholder is one opaque token wherever it sits, even inside a string or
//! across what would otherwise close a quote. The scanner therefore handles
//! `%` first in every state, then PostgreSQL's rules (scan.l): '...' with ''
//! (and backslash escapes when standard_conforming_strings is off), E'...',
//! U&'...', B'...', X'...', N'...', "identifiers", $tag$ quotes $tag$,
//! -- comments, nested /* comments */ and `;`.
//!
//! Unterminated quotes and comments run to the end of the text; the server
//! reports them, the scanner never fails on them.

use memchr::{memchr, memchr2, memchr3};

use super::classify::{accepts_parameters, StmtTracker, Summary};
use super::paramstyle::{Builder, Placeholder};
use super::{SqlError, Statement};

/// Scans one SQL text into a [`Statement`].
pub(crate) struct Scanner<'a> {
    sql: &'a str,
    src: &'a [u8],
    has_params: bool,
    scs: bool,
    out: Builder<'a>,
    stmt: StmtTracker,
    summary: Summary,
    /// A placeholder sits in a quote or comment, or is glued to a neighbour.
    placeholder_not_token: bool,
    /// The text has a `$n` of its own outside quotes.
    own_dollar_param: bool,
}

/// Characters that continue an identifier (scan.l's ident_cont).
fn ident_cont(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Characters that start an identifier (scan.l's ident_start).
fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// Characters of a dollar-quote tag after its first (no `$`).
fn tag_cont(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Neighbours that would fuse with `$n` or a literal into another token.
fn glues(b: u8) -> bool {
    ident_cont(b) || b == b'\'' || b == b'"'
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(sql: &'a str, has_params: bool, scs: bool) -> Self {
        Scanner {
            sql,
            src: sql.as_bytes(),
            has_params,
            scs,
            out: Builder::new(sql),
            stmt: StmtTracker::default(),
            summary: Summary::default(),
            placeholder_not_token: false,
            own_dollar_param: false,
        }
    }

    pub(crate) fn run(mut self) -> Result<Statement, SqlError> {
        let mut pos = 0;
        while pos < self.src.len() {
            pos = self.step(pos)?;
        }
        self.stmt.finish(&mut self.summary);
        let (server_sql, template, holes, params, style) = if self.has_params {
            self.out.finish()?
        } else {
            let sql = self.sql.to_owned();
            (sql.clone(), sql, Vec::new(), Vec::new(), None)
        };
        let summary = self.summary;
        let keyword_ok = summary.keyword.as_deref().is_some_and(accepts_parameters);
        let bindable = summary.count == 1
            && !self.placeholder_not_token
            && !self.own_dollar_param
            && params.len() <= usize::from(u16::MAX)
            && (params.is_empty() || keyword_ok);
        Ok(Statement {
            server_sql,
            params,
            style,
            template,
            holes,
            statement_count: summary.count,
            keyword: summary.keyword,
            bindable,
            is_copy: summary.is_copy,
            copy_stdio: summary.copy_stdio,
        })
    }

    /// Scans one token (or skips whitespace/comment) at `pos`; returns the next position.
    fn step(&mut self, pos: usize) -> Result<usize, SqlError> {
        let src = self.src;
        let next = src.get(pos + 1).copied();
        match src[pos] {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => Ok(pos + 1),
            b'-' if next == Some(b'-') => self.line_comment(pos + 2),
            b'/' if next == Some(b'*') => self.block_comment(pos + 2),
            b'%' if self.has_params => self.placeholder_outside(pos),
            b'\'' => {
                self.stmt.other();
                self.string(pos + 1, !self.scs)
            }
            b'"' => {
                self.stmt.other();
                self.quoted_ident(pos + 1)
            }
            b'$' => self.dollar(pos),
            b';' => {
                if self.stmt.semicolon() {
                    self.stmt.finish(&mut self.summary);
                }
                Ok(pos + 1)
            }
            b'(' => {
                self.stmt.open_paren();
                Ok(pos + 1)
            }
            b')' => {
                self.stmt.close_paren();
                Ok(pos + 1)
            }
            b if ident_start(b) => self.word(pos),
            b if b.is_ascii_digit() => {
                // A number, with its exponent, fraction or junk: none of it matters here.
                self.stmt.other();
                let len = src[pos..]
                    .iter()
                    .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'.'))
                    .unwrap_or(src.len() - pos);
                Ok(pos + len)
            }
            _ => {
                self.stmt.other();
                Ok(pos + 1)
            }
        }
    }

    /// An unquoted word, or the prefix of E'', B'', X'', N'', U&'' and U&"".
    fn word(&mut self, pos: usize) -> Result<usize, SqlError> {
        let src = self.src;
        let end = src[pos..]
            .iter()
            .position(|&c| !ident_cont(c))
            .map_or(src.len(), |n| pos + n);
        let after = src.get(end).copied();
        let after2 = src.get(end + 1).copied();
        if end - pos == 1 {
            let quote = match (src[pos].to_ascii_lowercase(), after, after2) {
                (b'e', Some(b'\''), _) => Some((end + 1, true)),
                (b'b' | b'x', Some(b'\''), _) => Some((end + 1, false)),
                (b'n', Some(b'\''), _) => Some((end + 1, !self.scs)),
                (b'u', Some(b'&'), Some(b'\'')) => Some((end + 2, false)),
                (b'u', Some(b'&'), Some(b'"')) => {
                    self.stmt.other();
                    return self.quoted_ident(end + 2);
                }
                _ => None,
            };
            if let Some((body, backslash)) = quote {
                self.stmt.other();
                return self.string(body, backslash);
            }
        }
        self.stmt.word(&self.sql[pos..end]);
        Ok(end)
    }

    /// `$`: a `$n` parameter, a dollar quote, or a lone `$`.
    fn dollar(&mut self, pos: usize) -> Result<usize, SqlError> {
        let src = self.src;
        self.stmt.other();
        let rest = &src[pos + 1..];
        if rest.first().is_some_and(u8::is_ascii_digit) {
            self.own_dollar_param = true;
            let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            return Ok(pos + 1 + digits);
        }
        let tag_len = match rest.first() {
            Some(&b) if ident_start(b) => rest.iter().take_while(|&&c| tag_cont(c)).count(),
            _ => 0,
        };
        if rest.get(tag_len) != Some(&b'$') {
            return Ok(pos + 1);
        }
        let delim = &src[pos..pos + tag_len + 2];
        self.dollar_body(pos + delim.len(), delim)
    }

    fn dollar_body(&mut self, mut pos: usize, delim: &[u8]) -> Result<usize, SqlError> {
        while let Some(i) = self.find(pos, b'$', None) {
            if self.src[i] == b'%' {
                pos = self.placeholder_quoted(i)?;
            } else if self.src[i..].starts_with(delim) {
                return Ok(i + delim.len());
            } else {
                pos = i + 1;
            }
        }
        Ok(self.src.len())
    }

    /// The body of a '...' string; `backslash` makes `\` escape the next character.
    fn string(&mut self, mut pos: usize, backslash: bool) -> Result<usize, SqlError> {
        let escape = backslash.then_some(b'\\');
        while let Some(i) = self.find(pos, b'\'', escape) {
            pos = match self.src[i] {
                b'%' => self.placeholder_quoted(i)?,
                // psycopg2 formats before the server unescapes: `\%` keeps its `%`.
                b'\\' if self.has_params && self.src.get(i + 1) == Some(&b'%') => i + 1,
                b'\\' => i + 2,
                _ if self.src.get(i + 1) == Some(&b'\'') => i + 2,
                _ => return Ok(i + 1),
            };
        }
        Ok(self.src.len())
    }

    fn quoted_ident(&mut self, mut pos: usize) -> Result<usize, SqlError> {
        while let Some(i) = self.find(pos, b'"', None) {
            pos = match self.src[i] {
                b'%' => self.placeholder_quoted(i)?,
                _ if self.src.get(i + 1) == Some(&b'"') => i + 2,
                _ => return Ok(i + 1),
            };
        }
        Ok(self.src.len())
    }

    fn line_comment(&mut self, mut pos: usize) -> Result<usize, SqlError> {
        while let Some(i) = self.find(pos, b'\n', Some(b'\r')) {
            if self.src[i] != b'%' {
                return Ok(i);
            }
            pos = self.placeholder_quoted(i)?;
        }
        Ok(self.src.len())
    }

    /// A /* comment */ body; comments nest.
    fn block_comment(&mut self, mut pos: usize) -> Result<usize, SqlError> {
        let mut depth = 1usize;
        while let Some(i) = self.find(pos, b'/', Some(b'*')) {
            let next = self.src.get(i + 1).copied();
            pos = match (self.src[i], next) {
                (b'%', _) => self.placeholder_quoted(i)?,
                (b'/', Some(b'*')) => {
                    depth += 1;
                    i + 2
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i + 2);
                    }
                    i + 2
                }
                _ => i + 1,
            };
        }
        Ok(self.src.len())
    }

    /// The next of the given bytes (and of `%` when placeholders count) from `pos`.
    fn find(&self, pos: usize, a: u8, b: Option<u8>) -> Option<usize> {
        let hay = self.src.get(pos..)?;
        let pct = self.has_params.then_some(b'%');
        let found = match (b, pct) {
            (None, None) => memchr(a, hay),
            (None, Some(p)) | (Some(p), None) => memchr2(a, p, hay),
            (Some(x), Some(p)) => memchr3(a, x, p, hay),
        };
        found.map(|i| pos + i)
    }

    /// A `%` outside quotes: the placeholder is a token of its own.
    fn placeholder_outside(&mut self, pos: usize) -> Result<usize, SqlError> {
        let (kind, end) = self.out.percent(pos)?;
        match kind {
            // `%` is an operator character: a token like any other.
            Placeholder::Percent | Placeholder::Bad => self.stmt.other(),
            Placeholder::Param => {
                self.stmt.other();
                let before = pos.checked_sub(1).map(|i| self.src[i]);
                let after = self.src.get(end).copied();
                if before.is_some_and(glues) || after.is_some_and(glues) {
                    self.placeholder_not_token = true;
                }
            }
        }
        Ok(end)
    }

    /// A `%` inside a quote or comment: psycopg2 would substitute it there.
    fn placeholder_quoted(&mut self, pos: usize) -> Result<usize, SqlError> {
        let (kind, end) = self.out.percent(pos)?;
        if let Placeholder::Param = kind {
            self.placeholder_not_token = true;
        }
        Ok(end)
    }
}
