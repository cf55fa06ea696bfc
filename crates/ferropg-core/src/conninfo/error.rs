//! Everything that can be wrong with connection parameters, in libpq's words.
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConnInfoError {
    // -- the text itself is malformed (psycopg2: ProgrammingError "invalid dsn: ...")
    #[error("missing \"=\" after \"{0}\" in connection info string")]
    MissingEquals(String),
    #[error("invalid connection option \"{0}\"")]
    InvalidOption(String),
    #[error("unterminated quoted string in connection info string")]
    UnterminatedQuote,
    #[error("connection info string contains a NUL character")]
    NulCharacter,
    #[error("invalid percent-encoded token: \"{0}\"")]
    InvalidPercentToken(String),
    #[error("forbidden value %00 in percent-encoded value: \"{0}\"")]
    PercentNul(String),
    #[error("percent-encoded value is not valid UTF-8: \"{0}\"")]
    PercentNotUtf8(String),
    #[error("missing key/value separator \"=\" in URI query parameter: \"{0}\"")]
    UriMissingSeparator(String),
    #[error("extra key/value separator \"=\" in URI query parameter: \"{0}\"")]
    UriExtraSeparator(String),
    #[error("invalid URI query parameter: \"{0}\"")]
    UriInvalidParameter(String),
    #[error("end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"{0}\"")]
    UriUnclosedBracket(String),
    #[error("IPv6 host address may not be empty in URI: \"{0}\"")]
    UriEmptyIpv6(String),
    #[error("unexpected character \"{ch}\" at position {pos} in URI (expected \":\" or \"/\"): \"{uri}\"")]
    UriUnexpectedChar { ch: char, pos: usize, uri: String },

    // -- the caller's arguments contradict each other (psycopg2: TypeError)
    #[error("you can't specify both 'database' and 'dbname' arguments")]
    DatabaseAndDbname,

    // -- a value is unusable (psycopg2: OperationalError from connect)
    #[error("invalid port number: \"{0}\"")]
    InvalidPort(String),
    #[error("could not match {ports} port numbers to {hosts} hosts")]
    PortCount { ports: usize, hosts: usize },
    #[error("could not match {names} host names to {addrs} hostaddr values")]
    HostaddrCount { names: usize, addrs: usize },
    #[error("could not parse network address \"{0}\"")]
    InvalidHostaddr(String),
    #[error("invalid {option} value: \"{value}\"")]
    InvalidValue { option: &'static str, value: String },
    #[error("invalid integer value \"{value}\" for connection option \"{option}\"")]
    InvalidInteger { option: &'static str, value: String },
    #[error("gssencmode value \"require\" cannot be honoured: ferropg has no GSSAPI support")]
    GssEncRequired,
    #[error("service \"{0}\" requested, but ferropg does not read pg_service.conf files")]
    ServiceUnsupported(String),
    #[error("could not determine the local user name: set user or PGUSER")]
    UnknownLocalUser,
}

/// Which family an error belongs to; the binding maps each to psycopg2's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The connection string cannot be parsed (psycopg2 raises ProgrammingError).
    Syntax,
    /// The call's arguments are inconsistent (psycopg2 raises TypeError).
    Argument,
    /// A parsed value cannot be used (libpq fails the connection: OperationalError).
    Value,
}

impl ConnInfoError {
    pub fn kind(&self) -> ErrorKind {
        use ConnInfoError::*;
        match self {
            MissingEquals(_)
            | InvalidOption(_)
            | UnterminatedQuote
            | NulCharacter
            | InvalidPercentToken(_)
            | PercentNul(_)
            | PercentNotUtf8(_)
            | UriMissingSeparator(_)
            | UriExtraSeparator(_)
            | UriInvalidParameter(_)
            | UriUnclosedBracket(_)
            | UriEmptyIpv6(_)
            | UriUnexpectedChar { .. } => ErrorKind::Syntax,
            DatabaseAndDbname => ErrorKind::Argument,
            _ => ErrorKind::Value,
        }
    }
}
