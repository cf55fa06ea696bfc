//! The sans-IO wire-protocol session: bytes in, events out; requests in, bytes out.
//!
//! [`Session`] owns no socket. The binding appends what it received to an input buffer
//! and calls [`Session::next_event`] until it returns `None`; it sends whatever
//! [`Session::output`] holds. Authentication is answered inside the session;
//! ParameterStatus, NoticeResponse and NotificationResponse are surfaced as events in
//! every state, so the binding never has to special-case them.

mod auth;
mod data_row;
mod error;
mod request;
mod tag;

pub use auth::Credentials;
pub use data_row::{DataRow, Values};
pub use error::{ErrorFields, ProtocolError};
pub use postgres_protocol::message::backend::{DataRowBody, Message, RowDescriptionBody};
pub use request::{bind_params, encode_cancel_request, Param};
pub use tag::{parse_command_tag, TagCounts};

use bytes::BytesMut;
use postgres_protocol::message::{backend, frontend};

/// PostgreSQL caps a single message at 1 GiB; anything longer is a corrupt stream.
const MAX_MESSAGE_LEN: usize = 1 << 30;

/// The transaction status carried by ReadyForQuery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionStatus {
    Idle,
    InTransaction,
    InError,
}

impl TransactionStatus {
    fn from_byte(b: u8) -> Result<Self, ProtocolError> {
        match b {
            b'I' => Ok(Self::Idle),
            b'T' => Ok(Self::InTransaction),
            b'E' => Ok(Self::InError),
            other => Err(ProtocolError::malformed(format!(
                "ReadyForQuery with unknown transaction status {:?}",
                other as char
            ))),
        }
    }
}

/// What the binding must act on.
pub enum Event {
    /// A message answering the request at the head of the queue
    /// (RowDescription, DataRow, CommandComplete, ErrorResponse, ...).
    Response(Message),
    /// The request at the head of the queue is complete.
    ReadyForQuery(TransactionStatus),
    /// Startup finished: authenticated and ready for the first request.
    Connected,
    ParameterStatus {
        name: String,
        value: String,
    },
    Notice(ErrorFields),
    Notification {
        pid: i32,
        channel: String,
        payload: String,
    },
    /// An ErrorResponse while no request is in flight (e.g. FATAL on termination).
    UnsolicitedError(ErrorFields),
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    Authenticating,
    /// Authenticated; waiting for BackendKeyData/ParameterStatus/ReadyForQuery.
    Starting,
    Ready,
    Closed,
}

/// One connection's protocol state.
pub struct Session {
    phase: Phase,
    auth: auth::Authenticator,
    out: BytesMut,
    /// ReadyForQuery messages still owed by the server: one per Sync or Query sent.
    pending_syncs: usize,
    backend_key: Option<(i32, i32)>,
    transaction_status: TransactionStatus,
}

impl Session {
    /// Start a session: the StartupMessage is queued in [`Session::output`].
    /// Fails only for a parameter holding a NUL character.
    pub fn new(
        startup_params: &[(String, String)],
        credentials: Credentials,
    ) -> Result<Session, ProtocolError> {
        let mut out = BytesMut::with_capacity(512);
        let params = startup_params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        frontend::startup_message(params, &mut out).map_err(|_| {
            ProtocolError::InvalidRequest("a startup parameter contains a NUL (0x00) character".into())
        })?;
        Ok(Session {
            phase: Phase::Authenticating,
            auth: auth::Authenticator::new(credentials),
            out,
            pending_syncs: 0,
            backend_key: None,
            transaction_status: TransactionStatus::Idle,
        })
    }

    /// Bytes waiting to be sent. The binding drains what the socket accepted.
    pub fn output(&mut self) -> &mut BytesMut {
        &mut self.out
    }

    /// The buffer requests are written into, counting the ReadyForQuery each one owes.
    /// Call [`Session::expect_ready`] once per Sync or Query written.
    pub fn request_buffer(&mut self) -> Result<&mut BytesMut, ProtocolError> {
        match self.phase {
            Phase::Ready => Ok(&mut self.out),
            Phase::Closed => Err(ProtocolError::Closed),
            _ => Err(ProtocolError::NotReady),
        }
    }

    pub fn expect_ready(&mut self) {
        self.pending_syncs += 1;
    }

    pub fn is_busy(&self) -> bool {
        self.pending_syncs > 0
    }

    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    pub fn backend_key(&self) -> Option<(i32, i32)> {
        self.backend_key
    }

    pub fn transaction_status(&self) -> TransactionStatus {
        self.transaction_status
    }

    /// Queue Terminate; the session accepts no further requests.
    pub fn terminate(&mut self) {
        if self.phase != Phase::Closed {
            frontend::terminate(&mut self.out);
            self.phase = Phase::Closed;
        }
    }

    /// The wire length (type byte included) of the DataRow at the start of `input`, when
    /// it is complete and answers a request: the caller reads it in place with
    /// `DataRow::parse(&input[5..n])` and discards `n` bytes. A DataRow changes no session
    /// state, so skipping `next_event` for it is exact. Anything else (another message,
    /// a partial or malformed frame, a row nobody asked for) is left to `next_event`.
    pub fn data_row_len(&self, input: &[u8]) -> Option<usize> {
        if self.phase != Phase::Ready || self.pending_syncs == 0 {
            return None;
        }
        let [b'D', l0, l1, l2, l3, ..] = *input else {
            return None;
        };
        let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
        ((4..=MAX_MESSAGE_LEN).contains(&len) && input.len() > len).then_some(len + 1)
    }

    /// Parse the next complete message from `input` and advance the state machine.
    /// `Ok(None)` means more bytes are needed. After an error the session is closed.
    pub fn next_event(&mut self, input: &mut BytesMut) -> Result<Option<Event>, ProtocolError> {
        let result = self.step(input);
        if result.is_err() {
            self.phase = Phase::Closed;
        }
        result
    }

    fn step(&mut self, input: &mut BytesMut) -> Result<Option<Event>, ProtocolError> {
        loop {
            let Some(message) = parse_message(input)? else {
                return Ok(None);
            };
            if let Some(event) = self.handle(message)? {
                return Ok(Some(event));
            }
        }
    }

    fn handle(&mut self, message: Message) -> Result<Option<Event>, ProtocolError> {
        // Asynchronous messages may arrive in any phase.
        match message {
            Message::ParameterStatus(body) => {
                let name = body.name().map_err(ProtocolError::from_io)?.to_owned();
                let value = body.value().map_err(ProtocolError::from_io)?.to_owned();
                return Ok(Some(Event::ParameterStatus { name, value }));
            }
            Message::NoticeResponse(body) => {
                return Ok(Some(Event::Notice(ErrorFields::from_wire(body.fields())?)));
            }
            Message::NotificationResponse(body) => {
                return Ok(Some(Event::Notification {
                    pid: body.process_id(),
                    channel: body.channel().map_err(ProtocolError::from_io)?.to_owned(),
                    payload: body.message().map_err(ProtocolError::from_io)?.to_owned(),
                }));
            }
            _ => {}
        }
        match self.phase {
            Phase::Authenticating => self.handle_auth(message),
            Phase::Starting => self.handle_starting(message),
            Phase::Ready => self.handle_ready(message),
            Phase::Closed => Err(ProtocolError::Closed),
        }
    }

    fn handle_auth(&mut self, message: Message) -> Result<Option<Event>, ProtocolError> {
        match message {
            Message::ErrorResponse(body) => {
                Err(ProtocolError::Server(ErrorFields::from_wire(body.fields())?))
            }
            Message::AuthenticationOk => {
                self.auth.finished()?;
                self.phase = Phase::Starting;
                Ok(None)
            }
            other => {
                self.auth.respond(other, &mut self.out)?;
                Ok(None)
            }
        }
    }

    fn handle_starting(&mut self, message: Message) -> Result<Option<Event>, ProtocolError> {
        match message {
            Message::BackendKeyData(body) => {
                self.backend_key = Some((body.process_id(), body.secret_key()));
                Ok(None)
            }
            Message::ReadyForQuery(body) => {
                self.transaction_status = TransactionStatus::from_byte(body.status())?;
                self.phase = Phase::Ready;
                Ok(Some(Event::Connected))
            }
            Message::ErrorResponse(body) => {
                Err(ProtocolError::Server(ErrorFields::from_wire(body.fields())?))
            }
            other => Err(ProtocolError::unexpected(&other, "during startup")),
        }
    }

    fn handle_ready(&mut self, message: Message) -> Result<Option<Event>, ProtocolError> {
        if self.pending_syncs == 0 {
            return match message {
                Message::ErrorResponse(body) => Ok(Some(Event::UnsolicitedError(ErrorFields::from_wire(
                    body.fields(),
                )?))),
                other => Err(ProtocolError::unexpected(&other, "while no request was sent")),
            };
        }
        match message {
            Message::ReadyForQuery(body) => {
                let status = TransactionStatus::from_byte(body.status())?;
                self.transaction_status = status;
                self.pending_syncs -= 1;
                Ok(Some(Event::ReadyForQuery(status)))
            }
            Message::AuthenticationOk
            | Message::AuthenticationCleartextPassword
            | Message::AuthenticationMd5Password(_)
            | Message::AuthenticationSasl(_)
            | Message::AuthenticationSaslContinue(_)
            | Message::AuthenticationSaslFinal(_)
            | Message::AuthenticationGss
            | Message::AuthenticationGssContinue(_)
            | Message::AuthenticationKerberosV5
            | Message::AuthenticationScmCredential
            | Message::AuthenticationSspi
            | Message::BackendKeyData(_) => Err(ProtocolError::unexpected(&message, "after startup")),
            other => Ok(Some(Event::Response(other))),
        }
    }
}

/// Split one complete message off `input`, refusing absurd lengths before allocating.
fn parse_message(input: &mut BytesMut) -> Result<Option<Message>, ProtocolError> {
    if input.len() >= 5 {
        let len = u32::from_be_bytes([input[1], input[2], input[3], input[4]]) as usize;
        if !(4..=MAX_MESSAGE_LEN).contains(&len) {
            return Err(ProtocolError::malformed(format!(
                "message {:?} declares an invalid length {len}",
                input[0] as char
            )));
        }
    }
    backend::Message::parse(input).map_err(ProtocolError::from_io)
}

/// A short name for a backend message, for error texts.
pub fn message_name(message: &Message) -> &'static str {
    match message {
        Message::AuthenticationCleartextPassword
        | Message::AuthenticationGss
        | Message::AuthenticationKerberosV5
        | Message::AuthenticationMd5Password(_)
        | Message::AuthenticationOk
        | Message::AuthenticationScmCredential
        | Message::AuthenticationSspi
        | Message::AuthenticationGssContinue(_)
        | Message::AuthenticationSasl(_)
        | Message::AuthenticationSaslContinue(_)
        | Message::AuthenticationSaslFinal(_) => "Authentication",
        Message::BackendKeyData(_) => "BackendKeyData",
        Message::BindComplete => "BindComplete",
        Message::CloseComplete => "CloseComplete",
        Message::CommandComplete(_) => "CommandComplete",
        Message::CopyData(_) => "CopyData",
        Message::CopyDone => "CopyDone",
        Message::CopyInResponse(_) => "CopyInResponse",
        Message::CopyOutResponse(_) => "CopyOutResponse",
        Message::DataRow(_) => "DataRow",
        Message::EmptyQueryResponse => "EmptyQueryResponse",
        Message::ErrorResponse(_) => "ErrorResponse",
        Message::NoData => "NoData",
        Message::NoticeResponse(_) => "NoticeResponse",
        Message::NotificationResponse(_) => "NotificationResponse",
        Message::ParameterDescription(_) => "ParameterDescription",
        Message::ParameterStatus(_) => "ParameterStatus",
        Message::ParseComplete => "ParseComplete",
        Message::PortalSuspended => "PortalSuspended",
        Message::ReadyForQuery(_) => "ReadyForQuery",
        Message::RowDescription(_) => "RowDescription",
        _ => "unknown message",
    }
}
