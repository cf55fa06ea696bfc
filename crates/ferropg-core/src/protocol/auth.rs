//! Answers to the server's authentication requests: cleartext, md5 and SCRAM-SHA-256.

use super::ProtocolError;
use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::{backend::Message, frontend};

/// What the client can prove itself with.
#[derive(Clone, Default)]
pub struct Credentials {
    pub user: String,
    pub password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

pub(super) struct Authenticator {
    credentials: Credentials,
    scram: Option<sasl::ScramSha256>,
    /// SCRAM must end with AuthenticationSASLFinal before AuthenticationOk.
    scram_finished: bool,
}

impl Authenticator {
    pub(super) fn new(credentials: Credentials) -> Self {
        Authenticator {
            credentials,
            scram: None,
            scram_finished: false,
        }
    }

    fn password(&self, method: &str) -> Result<&[u8], ProtocolError> {
        match &self.credentials.password {
            Some(p) => Ok(p.as_bytes()),
            None => Err(ProtocolError::Authentication(format!(
                "the server requested {method} authentication but no password was supplied"
            ))),
        }
    }

    pub(super) fn respond(&mut self, message: Message, out: &mut BytesMut) -> Result<(), ProtocolError> {
        match message {
            Message::AuthenticationCleartextPassword => {
                let password = self.password("password")?.to_vec();
                frontend::password_message(&password, out).map_err(ProtocolError::from_io)
            }
            Message::AuthenticationMd5Password(body) => {
                let password = self.password("md5")?;
                let hash = md5_hash(self.credentials.user.as_bytes(), password, body.salt());
                frontend::password_message(hash.as_bytes(), out).map_err(ProtocolError::from_io)
            }
            Message::AuthenticationSasl(body) => {
                let mut mechanisms = body.mechanisms();
                let mut offered = Vec::new();
                while let Some(m) = mechanisms.next().map_err(ProtocolError::from_io)? {
                    offered.push(m.to_owned());
                }
                if !offered.iter().any(|m| m == sasl::SCRAM_SHA_256) {
                    return Err(ProtocolError::Authentication(format!(
                        "the server offered SASL mechanisms {offered:?}; only SCRAM-SHA-256 is supported"
                    )));
                }
                let password = self.password("SCRAM-SHA-256")?;
                let scram = sasl::ScramSha256::new(password, sasl::ChannelBinding::unsupported());
                frontend::sasl_initial_response(sasl::SCRAM_SHA_256, scram.message(), out)
                    .map_err(ProtocolError::from_io)?;
                self.scram = Some(scram);
                Ok(())
            }
            Message::AuthenticationSaslContinue(body) => {
                let scram = self
                    .scram
                    .as_mut()
                    .ok_or_else(|| ProtocolError::malformed("SASLContinue without a SASL exchange"))?;
                scram
                    .update(body.data())
                    .map_err(|e| ProtocolError::Authentication(format!("SCRAM exchange failed: {e}")))?;
                frontend::sasl_response(scram.message(), out).map_err(ProtocolError::from_io)
            }
            Message::AuthenticationSaslFinal(body) => {
                let scram = self
                    .scram
                    .as_mut()
                    .ok_or_else(|| ProtocolError::malformed("SASLFinal without a SASL exchange"))?;
                scram.finish(body.data()).map_err(|e| {
                    ProtocolError::Authentication(format!("the server's SCRAM signature is invalid: {e}"))
                })?;
                self.scram_finished = true;
                Ok(())
            }
            Message::AuthenticationGss
            | Message::AuthenticationGssContinue(_)
            | Message::AuthenticationSspi
            | Message::AuthenticationKerberosV5
            | Message::AuthenticationScmCredential => Err(ProtocolError::Authentication(
                "the server requested an authentication method ferropg does not support \
                 (GSSAPI/SSPI/Kerberos/SCM); use password, md5 or scram-sha-256"
                    .into(),
            )),
            other => Err(ProtocolError::unexpected(&other, "during authentication")),
        }
    }

    /// AuthenticationOk arrived: a SCRAM exchange must have verified the server first.
    pub(super) fn finished(&self) -> Result<(), ProtocolError> {
        if self.scram.is_some() && !self.scram_finished {
            return Err(ProtocolError::Authentication(
                "the server ended SCRAM authentication without proving it knows the password".into(),
            ));
        }
        Ok(())
    }
}
