//! psycopg2's placeholders: `%s`, `%(name)s`, `%%`.
//!
//! psycopg2 scans the whole text for `%` (strings and comments included) in
//! two steps: `_mogrify` (mixing and unclosed `%(` raise at once) then
//! `Bytes_Format` (any other malformed placeholder). [`Builder`] mirrors that
//! order: the first two stop the scan, the others are kept and reported at the end.

use std::collections::HashMap;
use std::fmt::Write;

use super::{Literals, ParamRef, ParamStyle, SqlError, Statement};

/// Where a placeholder was cut out of the literal template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hole {
    /// Byte offset in the template.
    at: usize,
    /// Index into `Statement::params`.
    param: usize,
}

/// What one `%...` turned out to be.
pub(crate) enum Placeholder {
    /// `%%`: a literal `%`.
    Percent,
    /// `%s` or `%(name)s`, a real parameter.
    Param,
    /// Malformed, error recorded; scanning goes on to find a mixing error.
    Bad,
}

/// Accumulates the server SQL, the literal template and the parameter list.
pub(crate) struct Builder<'a> {
    sql: &'a str,
    flushed: usize,
    server: String,
    template: String,
    holes: Vec<Hole>,
    params: Vec<ParamRef>,
    style: Option<ParamStyle>,
    deferred: Option<SqlError>,
    /// The named params' names, as slices of the SQL text.
    names: Vec<&'a str>,
    /// Name -> param index; built only when there are many names.
    index: Option<HashMap<&'a str, usize>>,
}

/// Past this many named parameters, look names up in a map, not a scan.
const LINEAR_NAMES: usize = 16;

impl<'a> Builder<'a> {
    pub(crate) fn new(sql: &'a str) -> Self {
        Builder {
            sql,
            flushed: 0,
            server: String::with_capacity(sql.len() + 8),
            template: String::with_capacity(sql.len()),
            holes: Vec::new(),
            params: Vec::new(),
            style: None,
            deferred: None,
            names: Vec::new(),
            index: None,
        }
    }

    /// Handles the `%` at `pos`; returns the kind and where scanning resumes.
    pub(crate) fn percent(&mut self, pos: usize) -> Result<(Placeholder, usize), SqlError> {
        let bytes = self.sql.as_bytes();
        match bytes.get(pos + 1) {
            Some(b'%') => {
                self.flush(pos);
                self.server.push('%');
                self.template.push('%');
                self.flushed = pos + 2;
                Ok((Placeholder::Percent, pos + 2))
            }
            Some(b'(') => self.named(pos),
            Some(b's') => {
                self.set_style(ParamStyle::Positional, pos, pos + 2)?;
                let index = self.params.len();
                self.params.push(ParamRef::Positional(index));
                self.emit(pos, pos + 2, index);
                Ok((Placeholder::Param, pos + 2))
            }
            None => {
                self.set_style(ParamStyle::Positional, pos, pos + 1)?;
                self.defer(SqlError::IncompletePlaceholder {
                    placeholder: "%".into(),
                    pos,
                });
                Ok((Placeholder::Bad, pos + 1))
            }
            Some(_) => {
                // psycopg2 takes any other `%x` as positional, then rejects `x`;
                // like it, resume right after the `%`.
                let ch = self.sql[pos + 1..].chars().next().unwrap_or('\u{fffd}');
                let end = pos + 1 + ch.len_utf8();
                self.set_style(ParamStyle::Positional, pos, end)?;
                self.defer(SqlError::UnsupportedFormat {
                    ch,
                    index: pos + 1,
                    placeholder: self.sql[pos..end].to_owned(),
                    pos,
                });
                Ok((Placeholder::Bad, pos + 1))
            }
        }
    }

    /// `%(name)s` at `pos`; the name runs to the first `)`, and `%` ends it unclosed.
    fn named(&mut self, pos: usize) -> Result<(Placeholder, usize), SqlError> {
        let bytes = self.sql.as_bytes();
        let close = memchr::memchr2(b')', b'%', &bytes[pos + 2..]).map(|i| pos + 2 + i);
        let close = match close {
            Some(c) if bytes[c] == b')' => c,
            other => {
                let end = other.unwrap_or(bytes.len());
                return Err(SqlError::IncompleteName {
                    placeholder: self.sql[pos..end].to_owned(),
                    pos,
                });
            }
        };
        self.set_style(ParamStyle::Named, pos, close + 1)?;
        let name = &self.sql[pos + 2..close];
        let Some(ch) = self.sql[close + 1..].chars().next() else {
            self.defer(SqlError::IncompletePlaceholder {
                placeholder: self.sql[pos..].to_owned(),
                pos,
            });
            return Ok((Placeholder::Bad, close + 1));
        };
        let end = close + 1 + ch.len_utf8();
        if ch != 's' {
            self.defer(SqlError::UnsupportedFormat {
                ch,
                index: close + 1,
                placeholder: self.sql[pos..end].to_owned(),
                pos,
            });
            return Ok((Placeholder::Bad, close + 1));
        }
        if name.contains('(') {
            self.defer(SqlError::InvalidName {
                placeholder: self.sql[pos..end].to_owned(),
                pos,
            });
            return Ok((Placeholder::Bad, end));
        }
        let index = self.name_index(name);
        self.emit(pos, end, index);
        Ok((Placeholder::Param, end))
    }

    /// The param index for `name`, adding it on first use.
    fn name_index(&mut self, name: &'a str) -> usize {
        let found = match &self.index {
            Some(map) => map.get(name).copied(),
            None => self.names.iter().position(|n| *n == name),
        };
        if let Some(i) = found {
            return i;
        }
        // Mixing is refused earlier, so param indices and name indices agree.
        let i = self.params.len();
        self.params.push(ParamRef::Named(name.into()));
        self.names.push(name);
        if let Some(map) = &mut self.index {
            map.insert(name, i);
        } else if self.names.len() > LINEAR_NAMES {
            let map = self.names.iter().enumerate().map(|(i, n)| (*n, i));
            self.index = Some(map.collect());
        }
        i
    }

    fn set_style(&mut self, found: ParamStyle, pos: usize, end: usize) -> Result<(), SqlError> {
        match self.style {
            None => {
                self.style = Some(found);
                Ok(())
            }
            Some(first) if first == found => Ok(()),
            Some(first) => Err(SqlError::MixedStyles {
                placeholder: self.sql[pos..end].to_owned(),
                pos,
                found,
                first,
            }),
        }
    }

    fn defer(&mut self, err: SqlError) {
        self.deferred.get_or_insert(err);
    }

    /// Copies the text up to `pos` into both outputs.
    fn flush(&mut self, pos: usize) {
        let text = &self.sql[self.flushed..pos];
        self.server.push_str(text);
        self.template.push_str(text);
    }

    fn emit(&mut self, pos: usize, end: usize, param: usize) {
        self.flush(pos);
        // Writing to a String cannot fail.
        let _ = write!(self.server, "${}", param + 1);
        self.holes.push(Hole {
            at: self.template.len(),
            param,
        });
        self.flushed = end;
    }

    /// The finished pieces: (server sql, template, holes, params, style), or
    /// the first malformed placeholder.
    #[allow(clippy::type_complexity)]
    pub(crate) fn finish(
        mut self,
    ) -> Result<(String, String, Vec<Hole>, Vec<ParamRef>, Option<ParamStyle>), SqlError> {
        if let Some(err) = self.deferred {
            return Err(err);
        }
        self.flush(self.sql.len());
        Ok((self.server, self.template, self.holes, self.params, self.style))
    }
}

/// Fills the template with literals given in `params` order.
pub(crate) fn fill<S: AsRef<str>>(stmt: &Statement, literals: &[S]) -> Result<String, SqlError> {
    if stmt.holes.is_empty() {
        return Ok(stmt.template.clone());
    }
    if literals.len() != stmt.params.len() {
        return Err(SqlError::CountMismatch {
            placeholders: stmt.holes.len(),
            given: literals.len(),
        });
    }
    let extra: usize = stmt.holes.iter().map(|h| literals[h.param].as_ref().len()).sum();
    let mut out = String::with_capacity(stmt.template.len() + extra);
    let mut done = 0;
    for hole in &stmt.holes {
        out.push_str(&stmt.template[done..hole.at]);
        out.push_str(literals[hole.param].as_ref());
        done = hole.at;
    }
    out.push_str(&stmt.template[done..]);
    Ok(out)
}

/// Fills the template from literals in the caller's own style.
pub(crate) fn fill_from(stmt: &Statement, literals: &Literals<'_>) -> Result<String, SqlError> {
    match (literals, stmt.style) {
        (_, None) => Ok(stmt.template.clone()),
        (Literals::Positional(values), Some(ParamStyle::Positional)) => fill(stmt, values),
        (Literals::Named(lookup), Some(ParamStyle::Named)) => {
            let mut values = Vec::with_capacity(stmt.params.len());
            for p in &stmt.params {
                // A named statement records only named params.
                let ParamRef::Named(name) = p else {
                    return Err(SqlError::StyleMismatch {
                        expected: ParamStyle::Named,
                        given: ParamStyle::Positional,
                    });
                };
                match lookup(name) {
                    Some(v) => values.push(v),
                    None => {
                        return Err(SqlError::MissingNamed {
                            name: name.to_string(),
                        })
                    }
                }
            }
            fill(stmt, &values)
        }
        (Literals::Positional(_), Some(expected)) => Err(SqlError::StyleMismatch {
            expected,
            given: ParamStyle::Positional,
        }),
        (Literals::Named(_), Some(expected)) => Err(SqlError::StyleMismatch {
            expected,
            given: ParamStyle::Named,
        }),
    }
}
