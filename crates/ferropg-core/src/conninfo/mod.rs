//! Connection parameters as libpq reads them.
//!
//! [`resolve`] merges, in libpq/psycopg2 order: the connection string (URI or
//! key=value), then psycopg2-style keyword arguments, then `PG*` environment
//! variables for what is still unset, then built-in defaults; finally the
//! password file supplies a password per host when none was given. The
//! environment is passed in ([`Env`]) so the outcome is a pure function.
mod error;
mod keywords;
mod parse;
mod passfile;
mod quote;
mod resolve;
mod uri;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use error::{ConnInfoError, ErrorKind};
pub use keywords::{Keyword, KEYWORDS};
pub use parse::{parse_dsn, RawOptions};
pub use passfile::Passfile;
pub use quote::{join as join_dsn, quote_value};
pub use resolve::resolve;
pub use uri::{decode as percent_decode, encode as percent_encode};

/// Where Debian's libpq looks for the server's socket when no host is given.
pub const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";
pub const DEFAULT_PORT: u16 = 5432;

/// One server to try.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A host name or IP address; `hostaddr`, when given, is where to connect
    /// while `host` still names the server (TLS checks, passfile lookup).
    Tcp {
        host: String,
        hostaddr: Option<IpAddr>,
        port: u16,
    },
    /// A directory holding the server's socket (`@name` is Linux's abstract namespace).
    Unix { dir: String, port: u16 },
}

impl Host {
    /// A host as libpq reads one entry of `host`: a path means a socket directory.
    pub fn new(host: &str, port: u16) -> Host {
        if is_unix_socket_path(host) {
            Host::Unix {
                dir: host.to_owned(),
                port,
            }
        } else {
            Host::Tcp {
                host: host.to_owned(),
                hostaddr: None,
                port,
            }
        }
    }

    /// The host name/IP, or the socket directory.
    pub fn name(&self) -> &str {
        match self {
            Host::Tcp { host, .. } => host,
            Host::Unix { dir, .. } => dir,
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            Host::Tcp { port, .. } | Host::Unix { port, .. } => *port,
        }
    }

    pub fn is_unix(&self) -> bool {
        matches!(self, Host::Unix { .. })
    }

    /// The socket file for a Unix host: `<dir>/.s.PGSQL.<port>`.
    pub fn socket_path(&self) -> Option<String> {
        match self {
            Host::Unix { dir, port } => Some(format!("{}/.s.PGSQL.{port}", dir.trim_end_matches('/'))),
            Host::Tcp { .. } => None,
        }
    }
}

fn is_unix_socket_path(host: &str) -> bool {
    host.starts_with('/') || host.starts_with('@')
}

macro_rules! keyword_enum {
    ($(#[$m:meta])* $name:ident, $option:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parse libpq's spelling; the error names the option and the value.
            pub fn parse(value: &str) -> Result<Self, ConnInfoError> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ConnInfoError::InvalidValue { option: $option, value: value.to_owned() }),
                }
            }
        }
    };
}

keyword_enum!(
    /// `sslmode`: how hard to insist on TLS (TCP hosts only; sockets never use it).
    SslMode, "sslmode" {
        Disable = "disable", Allow = "allow", Prefer = "prefer",
        Require = "require", VerifyCa = "verify-ca", VerifyFull = "verify-full",
    }
);
keyword_enum!(
    /// `target_session_attrs`: which kind of server among `hosts` is acceptable.
    TargetSessionAttrs, "target_session_attrs" {
        Any = "any", ReadWrite = "read-write", ReadOnly = "read-only",
        Primary = "primary", Standby = "standby", PreferStandby = "prefer-standby",
    }
);
keyword_enum!(
    /// `load_balance_hosts`: try `hosts` in order, or shuffled.
    LoadBalanceHosts, "load_balance_hosts" { Disable = "disable", Random = "random" }
);
keyword_enum!(
    /// `channel_binding`: whether SCRAM must bind to the TLS channel.
    ChannelBinding, "channel_binding" { Disable = "disable", Prefer = "prefer", Require = "require" }
);

/// The process environment as libpq consults it, injectable for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// Environment variables (only the `PG*` ones are read).
    pub vars: HashMap<String, String>,
    /// The home directory, where `.pgpass` lives.
    pub home: Option<PathBuf>,
    /// The operating-system user name: the default `user`.
    pub os_user: Option<String>,
}

impl Env {
    /// The real environment: variables and `$HOME`. The OS user is left for the
    /// caller to fill (it needs `getpwuid`, which this pure crate cannot call);
    /// `$USER`/`$LOGNAME` stand in until then.
    pub fn from_process() -> Env {
        let vars: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("PG")).collect();
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        let os_user = ["USER", "LOGNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
        Env { vars, home, os_user }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// Fully resolved connection parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// Servers to try, in the order given (never empty).
    pub hosts: Vec<Host>,
    pub user: String,
    pub dbname: String,
    /// The password given by the caller or `PGPASSWORD` (the passfile is separate).
    pub password: Option<String>,
    /// The password file in use, when no password was given.
    pub passfile: Option<Passfile>,
    pub sslmode: SslMode,
    pub sslrootcert: Option<String>,
    pub sslcert: Option<String>,
    pub sslkey: Option<String>,
    pub channel_binding: ChannelBinding,
    /// Per-host connect timeout; `None` waits indefinitely.
    pub connect_timeout: Option<Duration>,
    pub application_name: Option<String>,
    pub options: Option<String>,
    pub target_session_attrs: TargetSessionAttrs,
    pub load_balance_hosts: LoadBalanceHosts,
    pub client_encoding: Option<String>,
    /// Every option after the merge (environment included), for the ones without a field.
    pub raw: RawOptions,
    masked_dsn: String,
}

impl ConnInfo {
    /// The StartupMessage parameters, in the order libpq sends them.
    pub fn startup_params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![("user", self.user.clone()), ("database", self.dbname.clone())];
        let app = self
            .application_name
            .clone()
            .or_else(|| {
                self.raw
                    .get(keywords::FALLBACK_APPLICATION_NAME)
                    .map(str::to_owned)
            })
            .filter(|a| !a.is_empty());
        if let Some(app) = app {
            params.push(("application_name", app));
        }
        if let Some(opts) = self.options.as_ref().filter(|o| !o.is_empty()) {
            params.push(("options", opts.clone()));
        }
        // "auto" asks libpq to follow the locale; we speak UTF-8 whatever the locale.
        let encoding = match self.client_encoding.as_deref() {
            None | Some("auto") => "UTF8".to_owned(),
            Some(e) => e.to_owned(),
        };
        params.push(("client_encoding", encoding));
        params
    }

    /// The password to send to `host`: the given one, else the passfile's entry.
    pub fn password_for(&self, host: &Host) -> Option<String> {
        if let Some(p) = self.password.as_ref().filter(|p| !p.is_empty()) {
            return Some(p.clone());
        }
        let key = match host {
            Host::Unix { dir, .. } if dir == DEFAULT_SOCKET_DIR => "localhost",
            h => h.name(),
        };
        let pf = self.passfile.as_ref()?;
        pf.lookup(key, &host.port().to_string(), &self.dbname, &self.user)
    }

    /// psycopg2's `connection.dsn`: the string it connected with, any password as `xxx`.
    pub fn masked_dsn(&self) -> &str {
        &self.masked_dsn
    }
}
