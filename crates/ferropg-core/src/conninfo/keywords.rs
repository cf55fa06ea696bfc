//! The connection keywords libpq knows, in libpq's own order.
//!
//! The order matters: psycopg2 rebuilds a password-masked `dsn` by walking
//! `PQconninfoParse`'s options, so our masked form lists keywords in this order
//! too. The list is libpq 17's (what psycopg2-binary bundles), a superset of
//! libpq 15's.

/// One connection keyword and the environment variable that supplies its default.
#[derive(Debug, PartialEq, Eq)]
pub struct Keyword {
    pub name: &'static str,
    pub env: Option<&'static str>,
}

const fn kw(name: &'static str, env: Option<&'static str>) -> Keyword {
    Keyword { name, env }
}

pub static KEYWORDS: [Keyword; 41] = [
    kw("service", Some("PGSERVICE")),
    kw("user", Some("PGUSER")),
    kw("password", Some("PGPASSWORD")),
    kw("passfile", Some("PGPASSFILE")),
    kw("channel_binding", Some("PGCHANNELBINDING")),
    kw("connect_timeout", Some("PGCONNECT_TIMEOUT")),
    kw("dbname", Some("PGDATABASE")),
    kw("host", Some("PGHOST")),
    kw("hostaddr", Some("PGHOSTADDR")),
    kw("port", Some("PGPORT")),
    kw("client_encoding", Some("PGCLIENTENCODING")),
    kw("options", Some("PGOPTIONS")),
    kw("application_name", Some("PGAPPNAME")),
    kw("fallback_application_name", None),
    kw("keepalives", None),
    kw("keepalives_idle", None),
    kw("keepalives_interval", None),
    kw("keepalives_count", None),
    kw("tcp_user_timeout", None),
    kw("sslmode", Some("PGSSLMODE")),
    kw("sslnegotiation", Some("PGSSLNEGOTIATION")),
    kw("sslcompression", Some("PGSSLCOMPRESSION")),
    kw("sslcert", Some("PGSSLCERT")),
    kw("sslkey", Some("PGSSLKEY")),
    kw("sslcertmode", Some("PGSSLCERTMODE")),
    kw("sslpassword", None),
    kw("sslrootcert", Some("PGSSLROOTCERT")),
    kw("sslcrl", Some("PGSSLCRL")),
    kw("sslcrldir", Some("PGSSLCRLDIR")),
    kw("sslsni", Some("PGSSLSNI")),
    kw("requirepeer", Some("PGREQUIREPEER")),
    kw("require_auth", Some("PGREQUIREAUTH")),
    kw("ssl_min_protocol_version", Some("PGSSLMINPROTOCOLVERSION")),
    kw("ssl_max_protocol_version", Some("PGSSLMAXPROTOCOLVERSION")),
    kw("gssencmode", Some("PGGSSENCMODE")),
    kw("krbsrvname", Some("PGKRBSRVNAME")),
    kw("gsslib", Some("PGGSSLIB")),
    kw("gssdelegation", Some("PGGSSDELEGATION")),
    kw("replication", None),
    kw("target_session_attrs", Some("PGTARGETSESSIONATTRS")),
    kw("load_balance_hosts", Some("PGLOADBALANCEHOSTS")),
];

/// Position of `name` in [`KEYWORDS`], if libpq knows it.
pub fn index_of(name: &str) -> Option<usize> {
    KEYWORDS.iter().position(|k| k.name == name)
}

// Positions of the keywords this crate acts on (checked by a test below).
pub(crate) const SERVICE: usize = 0;
pub(crate) const USER: usize = 1;
pub(crate) const PASSWORD: usize = 2;
pub(crate) const PASSFILE: usize = 3;
pub(crate) const CHANNEL_BINDING: usize = 4;
pub(crate) const CONNECT_TIMEOUT: usize = 5;
pub(crate) const DBNAME: usize = 6;
pub(crate) const HOST: usize = 7;
pub(crate) const HOSTADDR: usize = 8;
pub(crate) const PORT: usize = 9;
pub(crate) const CLIENT_ENCODING: usize = 10;
pub(crate) const OPTIONS: usize = 11;
pub(crate) const APPLICATION_NAME: usize = 12;
pub(crate) const FALLBACK_APPLICATION_NAME: usize = 13;
pub(crate) const SSLMODE: usize = 19;
pub(crate) const SSLCERT: usize = 22;
pub(crate) const SSLKEY: usize = 23;
pub(crate) const SSLROOTCERT: usize = 26;
pub(crate) const GSSENCMODE: usize = 34;
pub(crate) const TARGET_SESSION_ATTRS: usize = 39;
pub(crate) const LOAD_BALANCE_HOSTS: usize = 40;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_positions_match_the_table() {
        let named = [
            (SERVICE, "service"),
            (USER, "user"),
            (PASSWORD, "password"),
            (PASSFILE, "passfile"),
            (CHANNEL_BINDING, "channel_binding"),
            (CONNECT_TIMEOUT, "connect_timeout"),
            (DBNAME, "dbname"),
            (HOST, "host"),
            (HOSTADDR, "hostaddr"),
            (PORT, "port"),
            (CLIENT_ENCODING, "client_encoding"),
            (OPTIONS, "options"),
            (APPLICATION_NAME, "application_name"),
            (FALLBACK_APPLICATION_NAME, "fallback_application_name"),
            (SSLMODE, "sslmode"),
            (SSLCERT, "sslcert"),
            (SSLKEY, "sslkey"),
            (SSLROOTCERT, "sslrootcert"),
            (GSSENCMODE, "gssencmode"),
            (TARGET_SESSION_ATTRS, "target_session_attrs"),
            (LOAD_BALANCE_HOSTS, "load_balance_hosts"),
        ];
        for (i, name) in named {
            assert_eq!(KEYWORDS[i].name, name);
            assert_eq!(index_of(name), Some(i));
        }
    }

    #[test]
    fn unknown_and_removed_keywords_are_absent() {
        for name in ["tty", "authtype", "requiressl", "database", ""] {
            assert_eq!(index_of(name), None, "{name}");
        }
    }
}
