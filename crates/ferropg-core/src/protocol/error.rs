//! Protocol errors and the fields of ErrorResponse/NoticeResponse.

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::{ErrorFields as WireFields, Message};
use std::io;

/// Every field of an ErrorResponse or NoticeResponse, keyed by its one-byte type code
/// ('S' severity, 'C' SQLSTATE, 'M' message, 'D' detail, ...), in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorFields {
    pub fields: Vec<(u8, String)>,
}

impl ErrorFields {
    pub fn from_wire(mut iter: WireFields<'_>) -> Result<Self, ProtocolError> {
        let mut fields = Vec::new();
        while let Some(field) = iter.next().map_err(ProtocolError::from_io)? {
            let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
            fields.push((field.type_(), value));
        }
        Ok(ErrorFields { fields })
    }

    pub fn get(&self, code: u8) -> Option<&str> {
        self.fields
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_str())
    }

    pub fn sqlstate(&self) -> &str {
        self.get(b'C').unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.get(b'M').unwrap_or("")
    }

    /// The non-localized severity when the server sends it (9.6+), else the localized one.
    pub fn severity(&self) -> &str {
        self.get(b'V').or_else(|| self.get(b'S')).unwrap_or("ERROR")
    }
}

impl std::fmt::Display for ErrorFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:  {}", self.severity(), self.message())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The server sent bytes that do not form a valid message, or a message that makes
    /// no sense in the current state. The connection cannot be trusted any more.
    #[error("malformed server data: {0}")]
    Malformed(String),
    #[error("unexpected {message} from the server {context}")]
    Unexpected {
        message: &'static str,
        context: &'static str,
    },
    /// An ErrorResponse during startup/authentication (the connection fails).
    #[error("{0}")]
    Server(ErrorFields),
    #[error("{0}")]
    Authentication(String),
    /// A request that cannot be encoded (NUL in the query, too many parameters).
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the connection is closed")]
    Closed,
    #[error("the connection is not ready for requests yet")]
    NotReady,
}

impl ProtocolError {
    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        ProtocolError::Malformed(what.into())
    }

    pub(crate) fn from_io(err: io::Error) -> Self {
        ProtocolError::Malformed(err.to_string())
    }

    pub(crate) fn unexpected(message: &Message, context: &'static str) -> Self {
        ProtocolError::Unexpected {
            message: super::message_name(message),
            context,
        }
    }
}
