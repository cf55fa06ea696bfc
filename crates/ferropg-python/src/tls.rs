//! rustls client configuration for libpq's `sslmode`, `sslrootcert`, `sslcert`, `sslkey`.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The TLS settings of one connection attempt (from the resolved conninfo).
pub struct TlsSettings<'a> {
    pub sslmode: &'a str,
    pub sslrootcert: Option<&'a str>,
    pub sslcert: Option<&'a str>,
    pub sslkey: Option<&'a str>,
    pub host: &'a str,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn home_file(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".postgresql").join(name);
    path.exists().then_some(path)
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(path)
        .map_err(|e| format!("could not read certificate file \"{}\": {e}", path.display()))?;
    let certs: Result<Vec<_>, _> = rustls_pemfile::certs(&mut data.as_slice()).collect();
    let certs = certs.map_err(|e| format!("could not parse certificate file \"{}\": {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate found in \"{}\"", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let data = std::fs::read(path)
        .map_err(|e| format!("could not read private key file \"{}\": {e}", path.display()))?;
    rustls_pemfile::private_key(&mut data.as_slice())
        .map_err(|e| format!("could not parse private key file \"{}\": {e}", path.display()))?
        .ok_or_else(|| format!("no private key found in \"{}\"", path.display()))
}

fn root_store(settings: &TlsSettings<'_>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if settings.sslrootcert == Some("system") {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(store);
    }
    let path = match settings.sslrootcert {
        Some(p) => PathBuf::from(p),
        None => home_file("root.crt").ok_or_else(|| {
            format!(
                "sslmode={} needs a root certificate: set sslrootcert (or create ~/.postgresql/root.crt)",
                settings.sslmode
            )
        })?,
    };
    for cert in read_certs(&path)? {
        store
            .add(cert)
            .map_err(|e| format!("invalid root certificate in \"{}\": {e}", path.display()))?;
    }
    Ok(store)
}

/// Build the rustls connection for one attempt, or explain what is wrong.
pub fn client_connection(settings: &TlsSettings<'_>) -> Result<ClientConnection, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match settings.sslmode {
        "verify-full" => builder.with_root_certificates(root_store(settings)?),
        "verify-ca" => {
            let inner =
                WebPkiServerVerifier::builder_with_provider(Arc::new(root_store(settings)?), provider())
                    .build()
                    .map_err(|e| e.to_string())?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
        }
        // require / prefer / allow: encrypted, but the server is not authenticated (as libpq).
        _ => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServer(provider()))),
    };
    let cert = settings
        .sslcert
        .map(PathBuf::from)
        .or_else(|| home_file("postgresql.crt"));
    let key = settings
        .sslkey
        .map(PathBuf::from)
        .or_else(|| home_file("postgresql.key"));
    let config = match (cert, key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(read_certs(&cert)?, read_key(&key)?)
            .map_err(|e| format!("invalid client certificate or key: {e}"))?,
        (Some(cert), None) => {
            return Err(format!(
                "certificate present, but not private key file (sslcert=\"{}\")",
                cert.display()
            ))
        }
        _ => builder.with_no_client_auth(),
    };
    let name = ServerName::try_from(settings.host.to_owned())
        .map_err(|e| format!("invalid server name \"{}\" for TLS: {e}", settings.host))?;
    ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())
}

/// verify-ca: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error};
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(CertificateError::NotValidForName))
            | Err(Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// require/prefer/allow: any certificate, but the handshake signatures must still verify.
#[derive(Debug)]
struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
