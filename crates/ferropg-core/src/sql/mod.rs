//! SQL text handling for the psycopg2-compatible face.
//!
//! psycopg2 formats parameters into the SQL text on the client with its own
//! `%`-formatting (`%s`, `%(name)s`, `%%`), blind to SQL syntax. ferropg binds
//! parameters on the server instead whenever that gives the same result, so it
//! needs to know where each placeholder sits in PostgreSQL's lexical structure.
//!
//! One pass over the text ([`Statement::parse`]) yields everything the driver
//! needs and caches per SQL text:
//! - the server form of the SQL with `$1..$n` ([`Statement::server_sql`]) and
//!   the parameter each `$n` refers to ([`Statement::params`]);
//! - a literal template for psycopg2's client-side path
//!   ([`Statement::interpolate`]), used when the server cannot bind;
//! - the classification: statement count, first keyword, whether the text can
//!   go to the server as one Parse/Bind, whether it holds a COPY.
//!
//! [`quote_string`], [`quote_bytea`] and [`quote_identifier`] produce literals
//! byte-for-byte as psycopg2 2.9 does.

mod classify;
mod lexer;
mod paramstyle;
mod quote;

#[cfg(test)]
mod tests;

pub use classify::accepts_parameters;
pub use quote::{quote_bytea, quote_identifier, quote_string};

use std::fmt;

/// Which placeholder style a statement uses; psycopg2 forbids mixing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamStyle {
    /// `%s`: values come from a sequence, in order.
    Positional,
    /// `%(name)s`: values come from a mapping, by name.
    Named,
}

impl fmt::Display for ParamStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamStyle::Positional => "positional (%s)",
            ParamStyle::Named => "named (%(name)s)",
        })
    }
}

/// What the server parameter `$n` (at index `n - 1` of [`Statement::params`]) takes its value from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ParamRef {
    /// The item at this index of the caller's parameter sequence.
    Positional(usize),
    /// The mapping's value under this key; a name used twice is one parameter.
    Named(Box<str>),
}

/// Everything that can be wrong with a statement's placeholders or a literal.
///
/// Positions are byte offsets into the SQL text. The wording of the first four
/// starts like psycopg2's message for the same mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// `%` followed by something other than `s`, `%` or `(name)s`.
    #[error(
        "unsupported format character {ch:?} ({code:#x}) at index {index}: \
         placeholder {placeholder:?} at byte {pos}",
        code = u32::from(*ch)
    )]
    UnsupportedFormat {
        ch: char,
        index: usize,
        placeholder: String,
        pos: usize,
    },
    /// A `%` (or `%(name)`) at the very end of the text.
    #[error(
        "incomplete placeholder {placeholder:?} at byte {pos}: the text ends before the format character"
    )]
    IncompletePlaceholder { placeholder: String, pos: usize },
    /// `%(` with no `)` before the next `%` or the end.
    #[error("incomplete placeholder: '%(' without ')' in {placeholder:?} at byte {pos}")]
    IncompleteName { placeholder: String, pos: usize },
    /// `%s` and `%(name)s` in one statement.
    #[error("argument formats can't be mixed: placeholder {placeholder:?} at byte {pos} is {found} but earlier ones are {first}")]
    MixedStyles {
        placeholder: String,
        pos: usize,
        found: ParamStyle,
        first: ParamStyle,
    },
    /// A name with `(` in it: psycopg2 looks up a different key than it formats.
    #[error("placeholder {placeholder:?} at byte {pos}: a parameter name cannot contain '('")]
    InvalidName { placeholder: String, pos: usize },
    /// Interpolation found no literal for a named placeholder.
    #[error("no value for parameter %({name})s")]
    MissingNamed { name: String },
    /// Interpolation got the wrong number of positional literals.
    #[error("the statement has {placeholders} placeholders but {given} parameters were given")]
    CountMismatch { placeholders: usize, given: usize },
    /// Interpolation got positional literals for `%(name)s` placeholders or the reverse.
    #[error("the statement uses {expected} placeholders but {given} parameters were given")]
    StyleMismatch { expected: ParamStyle, given: ParamStyle },
    /// A string value with a NUL character (psycopg2's exact message).
    #[error("A string literal cannot contain NUL (0x00) characters.")]
    NulInString,
    /// An identifier with a NUL character.
    #[error("an identifier cannot contain NUL (0x00) characters: {name:?}")]
    NulInIdentifier { name: String },
}

/// One SQL text, analysed once: server form, literal template, classification.
///
/// Immutable after [`Statement::parse`]; share it behind an `Arc` in a cache.
/// The analysis depends on `standard_conforming_strings` (it decides whether a
/// backslash escapes a quote in `'...'`), so that setting belongs in the cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub(crate) server_sql: String,
    pub(crate) params: Vec<ParamRef>,
    pub(crate) style: Option<ParamStyle>,
    pub(crate) template: String,
    pub(crate) holes: Vec<paramstyle::Hole>,
    pub(crate) statement_count: usize,
    pub(crate) keyword: Option<String>,
    pub(crate) bindable: bool,
    pub(crate) is_copy: bool,
    pub(crate) copy_stdio: bool,
}

impl Statement {
    /// Analyses `sql` in one pass.
    ///
    /// `has_params` is false when the caller passed no parameters (`None` in
    /// Python): psycopg2 then does no `%` processing at all, so neither do we,
    /// and `server_sql` is `sql` unchanged. With `has_params`, placeholder
    /// errors are reported here, in psycopg2's order (mixing and unclosed
    /// names first, then the first malformed placeholder).
    pub fn parse(
        sql: &str,
        has_params: bool,
        standard_conforming_strings: bool,
    ) -> Result<Statement, SqlError> {
        lexer::Scanner::new(sql, has_params, standard_conforming_strings).run()
    }

    /// The SQL to send in a Parse message: placeholders as `$1..$n`, `%%` as `%`.
    pub fn server_sql(&self) -> &str {
        &self.server_sql
    }

    /// The parameter behind each `$n`, in `$n` order.
    pub fn params(&self) -> &[ParamRef] {
        &self.params
    }

    /// The placeholder style, or `None` when the text has no placeholder.
    pub fn param_style(&self) -> Option<ParamStyle> {
        self.style
    }

    /// How many placeholders the text holds (a named one used twice counts twice).
    pub fn placeholder_count(&self) -> usize {
        self.holes.len()
    }

    /// How many non-empty statements the text holds (`;` outside quotes,
    /// parentheses and `BEGIN ATOMIC ... END` bodies separates them, as psql does).
    pub fn statement_count(&self) -> usize {
        self.statement_count
    }

    /// The first keyword of the first statement, ASCII-uppercased; leading
    /// `(` are skipped, so `(SELECT 1)` gives `SELECT`. `None` if the first
    /// statement does not start with a word.
    pub fn keyword(&self) -> Option<&str> {
        self.keyword.as_deref()
    }

    /// Whether the text can go to the server as one Parse/Bind with
    /// `params().len()` parameters and give what psycopg2's literal path gives:
    /// exactly one statement; if it has placeholders, its keyword accepts
    /// parameters ([`accepts_parameters`]), every placeholder stands alone as
    /// a token outside strings, identifiers and comments, and the text holds
    /// no `$n` of its own.
    pub fn is_bindable(&self) -> bool {
        self.bindable
    }

    /// Whether any statement in the text is a COPY.
    pub fn is_copy(&self) -> bool {
        self.is_copy
    }

    /// Whether a COPY statement names STDIN or STDOUT (the COPY sub-protocol).
    pub fn copy_uses_stdio(&self) -> bool {
        self.copy_stdio
    }

    /// psycopg2's literal path: every placeholder (inside quotes too) replaced
    /// by its literal, `%%` by `%`. `literals[i]` is the already-quoted literal
    /// for `params()[i]`. With no placeholder at all any number of literals is
    /// accepted and ignored, as psycopg2 ignores surplus parameters then.
    pub fn interpolate<S: AsRef<str>>(&self, literals: &[S]) -> Result<String, SqlError> {
        paramstyle::fill(self, literals)
    }
}

/// The literals for [`interpolate`], in the caller's parameter style.
pub enum Literals<'a> {
    /// One quoted literal per `%s`, in order.
    Positional(&'a [&'a str]),
    /// The quoted literal for a name, or `None` if the mapping lacks it.
    Named(&'a dyn Fn(&str) -> Option<&'a str>),
}

/// Classifies `sql` (see [`Statement::parse`]).
pub fn analyze(
    sql: &str,
    has_params: bool,
    standard_conforming_strings: bool,
) -> Result<Statement, SqlError> {
    Statement::parse(sql, has_params, standard_conforming_strings)
}

/// Converts a statement that has parameters (see [`Statement::server_sql`]).
pub fn convert(sql: &str, standard_conforming_strings: bool) -> Result<Statement, SqlError> {
    Statement::parse(sql, true, standard_conforming_strings)
}

/// psycopg2's client-side formatting of `sql` with already-quoted literals.
pub fn interpolate(sql: &str, literals: &Literals<'_>) -> Result<String, SqlError> {
    // Classification does not change the literal form, so the setting is moot here.
    let stmt = Statement::parse(sql, true, true)?;
    paramstyle::fill_from(&stmt, literals)
}
