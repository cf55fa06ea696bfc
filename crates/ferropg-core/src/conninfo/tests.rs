//! Unit tests, one rule each. Expected values were checked against libpq 15's
//! `PQconninfoParse` and psycopg2 2.9's `make_dsn`/`connection.dsn`.
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::*;

fn env(vars: &[(&str, &str)]) -> Env {
    Env {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        home: None,
        os_user: Some("osuser".into()),
    }
}

fn raw(dsn: &str) -> Vec<(&'static str, String)> {
    parse_dsn(dsn)
        .unwrap()
        .iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
}

fn err(dsn: &str) -> String {
    parse_dsn(dsn).unwrap_err().to_string()
}

fn info(dsn: &str) -> ConnInfo {
    resolve(Some(dsn), &[], &env(&[])).unwrap()
}

fn info_err(dsn: &str) -> String {
    resolve(Some(dsn), &[], &env(&[])).unwrap_err().to_string()
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn keyword_value_quoting_and_escapes() {
    assert_eq!(raw("host='a b' port=1"), [("host", s("a b")), ("port", s("1"))]);
    assert_eq!(raw(r"host='a\'b'"), [("host", s("a'b"))]);
    assert_eq!(raw(r"host=a\ b"), [("host", s("a b"))]);
    assert_eq!(raw(r"host=a\"), [("host", s("a"))]);
    assert_eq!(
        raw("host = a \t dbname =\x0bb"),
        [("dbname", s("b")), ("host", s("a"))]
    );
    assert_eq!(raw("host='x'port=1"), [("host", s("x")), ("port", s("1"))]);
    assert_eq!(raw("dbname=''"), [("dbname", s(""))]);
    assert_eq!(raw("host=a host=b"), [("host", s("b"))]);
}

#[test]
fn keyword_value_errors_use_libpq_words() {
    assert_eq!(err("foo"), r#"missing "=" after "foo" in connection info string"#);
    assert_eq!(
        err("host=a port"),
        r#"missing "=" after "port" in connection info string"#
    );
    assert_eq!(err("foo=bar"), r#"invalid connection option "foo""#);
    assert_eq!(err("=x"), r#"invalid connection option """#);
    assert_eq!(
        err("host='a"),
        "unterminated quoted string in connection info string"
    );
    assert_eq!(
        err(r"host='a\"),
        "unterminated quoted string in connection info string"
    );
    assert_eq!(err("tty=x"), r#"invalid connection option "tty""#);
    assert_eq!(err("host=a\0"), "connection info string contains a NUL character");
}

#[test]
fn empty_string_is_all_defaults() {
    assert!(raw("").is_empty());
    assert!(raw("   ").is_empty());
    assert!(raw("postgresql://").is_empty());
    let ci = info("");
    assert_eq!(ci.hosts, [Host::new("/var/run/postgresql", 5432)]);
    assert_eq!((ci.user.as_str(), ci.dbname.as_str()), ("osuser", "osuser"));
    assert_eq!(ci.sslmode, SslMode::Prefer);
    assert_eq!(ci.target_session_attrs, TargetSessionAttrs::Any);
    assert_eq!(ci.load_balance_hosts, LoadBalanceHosts::Disable);
    assert_eq!(ci.connect_timeout, None);
}

#[test]
fn every_libpq_keyword_is_accepted() {
    for k in KEYWORDS.iter() {
        assert_eq!(raw(&format!("{}=1", k.name)), [(k.name, s("1"))]);
    }
    assert_eq!(raw("requiressl=1"), [("sslmode", s("require"))]);
    assert_eq!(raw("requiressl=0"), [("sslmode", s("prefer"))]);
    // Accepted and carried, though nothing here acts on them.
    let ci = info("keepalives=1 keepalives_idle=30 gssencmode=disable sslcompression=0");
    assert_eq!(
        ci.raw.get(keywords::index_of("keepalives_idle").unwrap()),
        Some("30")
    );
}

#[test]
fn uri_userinfo_hosts_path_query() {
    assert_eq!(
        raw("postgres://u:p%40@h1:5432,h2:5433/db?sslmode=require&application_name=x%20y"),
        [
            ("user", s("u")),
            ("password", s("p@")),
            ("dbname", s("db")),
            ("host", s("h1,h2")),
            ("port", s("5432,5433")),
            ("application_name", s("x y")),
            ("sslmode", s("require")),
        ]
    );
    assert_eq!(
        raw("postgresql://[::1]:5433/db"),
        [("dbname", s("db")), ("host", s("::1")), ("port", s("5433"))]
    );
    assert_eq!(
        raw("postgresql://%2Fvar%2Frun%2Fpostgresql/db"),
        [("dbname", s("db")), ("host", s("/var/run/postgresql"))]
    );
    assert_eq!(
        raw("postgresql:///db?host=/unix/dir"),
        [("dbname", s("db")), ("host", s("/unix/dir"))]
    );
    assert_eq!(
        raw("postgresql://h1,h2:1/db"),
        [("dbname", s("db")), ("host", s("h1,h2")), ("port", s(",1"))]
    );
    assert_eq!(raw("postgresql://u@"), [("user", s("u"))]);
    assert_eq!(raw("postgresql://u:@h"), [("user", s("u")), ("host", s("h"))]);
    assert_eq!(
        raw("postgresql://h:/db?"),
        [("dbname", s("db")), ("host", s("h"))]
    );
    assert_eq!(
        raw("postgresql://h/d%2Fb?dbname=x"),
        [("dbname", s("x")), ("host", s("h"))]
    );
    assert_eq!(
        raw("postgres://h?ssl=true"),
        [("host", s("h")), ("sslmode", s("require"))]
    );
    assert_eq!(
        raw("postgresql://h/%C3%A9"),
        [("dbname", s("é")), ("host", s("h"))]
    );
}

#[test]
fn uri_errors_use_libpq_words() {
    assert_eq!(
        err("postgresql://h/db?foo=bar"),
        r#"invalid URI query parameter: "foo""#
    );
    assert_eq!(
        err("postgresql://h/%zz"),
        r#"invalid percent-encoded token: "%zz""#
    );
    assert_eq!(
        err("postgresql://h/a%2"),
        r#"invalid percent-encoded token: "a%2""#
    );
    assert_eq!(
        err("postgresql://h/%00"),
        r#"forbidden value %00 in percent-encoded value: "%00""#
    );
    assert_eq!(
        err("postgresql://h/db?x"),
        r#"missing key/value separator "=" in URI query parameter: "x""#
    );
    assert_eq!(
        err("postgresql://h/db?&a=b"),
        r#"missing key/value separator "=" in URI query parameter: """#
    );
    assert_eq!(
        err("postgresql://h/db?a=b=c"),
        r#"extra key/value separator "=" in URI query parameter: "a""#
    );
    assert_eq!(
        err("postgresql://[::1/db"),
        r#"end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://[::1/db""#
    );
    assert_eq!(
        err("postgresql://[]/db"),
        r#"IPv6 host address may not be empty in URI: "postgresql://[]/db""#
    );
    assert_eq!(
        err("postgresql://[::1]x/db"),
        r#"unexpected character "x" at position 19 in URI (expected ":" or "/"): "postgresql://[::1]x/db""#
    );
}

#[test]
fn uri_errors_never_show_the_password() {
    assert_eq!(
        err("postgresql://u:secret@[::1/db"),
        r#"end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://u:xxx@[::1/db""#
    );
    assert!(!err("postgresql://u:se%zzcret@h").contains("cret"));
    assert!(!err("postgresql://h?password=se%zzcret").contains("cret"));
}

#[test]
fn percent_encoding_round_trips() {
    for v in ["/var/run/postgresql", "a b&c=d?e", "é€", ""] {
        assert_eq!(percent_decode(&percent_encode(v), false).unwrap(), v);
    }
    assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
    assert_eq!(
        percent_decode("%ff", false).unwrap_err().to_string(),
        r#"percent-encoded value is not valid UTF-8: "%ff""#
    );
}

#[test]
fn several_hosts_and_ports() {
    let ci = info("host=a,b port=1,2");
    assert_eq!(ci.hosts, [Host::new("a", 1), Host::new("b", 2)]);
    let ci = info("host=a,/tmp,b port=7");
    assert_eq!(
        ci.hosts,
        [Host::new("a", 7), Host::new("/tmp", 7), Host::new("b", 7)]
    );
    assert!(ci.hosts[1].is_unix());
    let ci = info("host=a,,b port=1,,3");
    assert_eq!(
        ci.hosts,
        [
            Host::new("a", 1),
            Host::new("/var/run/postgresql", 5432),
            Host::new("b", 3)
        ]
    );
    let ci = info("postgresql://[::1]:5433,h2/db");
    assert_eq!(ci.hosts, [Host::new("::1", 5433), Host::new("h2", 5432)]);
    assert_eq!(
        info_err("host=a,b,c port=1,2"),
        "could not match 2 port numbers to 3 hosts"
    );
    assert_eq!(
        info_err("host=a port=1,2"),
        "could not match 2 port numbers to 1 hosts"
    );
}

#[test]
fn unix_sockets_and_hostaddr() {
    let h = Host::new("/tmp", 5433);
    assert_eq!(h.socket_path().as_deref(), Some("/tmp/.s.PGSQL.5433"));
    assert!(Host::new("@abstract", 1).is_unix());
    assert_eq!(Host::new("localhost", 1).socket_path(), None);
    let ci = info("host=db.example hostaddr=10.0.0.1");
    assert_eq!(
        ci.hosts,
        [Host::Tcp {
            host: s("db.example"),
            hostaddr: Some("10.0.0.1".parse().unwrap()),
            port: 5432
        }]
    );
    let ci = info("hostaddr=::1,10.0.0.2 port=1,2");
    assert_eq!(ci.hosts[0].name(), "::1");
    assert_eq!(ci.hosts[1].port(), 2);
    assert_eq!(
        info_err("hostaddr=nope"),
        r#"could not parse network address "nope""#
    );
    assert_eq!(
        info_err("host=a,b hostaddr=10.0.0.1"),
        "could not match 2 host names to 1 hostaddr values"
    );
}

#[test]
fn value_validation() {
    assert_eq!(info_err("port=abc"), r#"invalid port number: "abc""#);
    assert_eq!(info_err("port=0"), r#"invalid port number: "0""#);
    assert_eq!(info_err("port=65536"), r#"invalid port number: "65536""#);
    assert_eq!(info("port=' 6543 '").hosts[0].port(), 6543);
    assert_eq!(info_err("sslmode=x"), r#"invalid sslmode value: "x""#);
    assert_eq!(info_err("sslmode=''"), r#"invalid sslmode value: """#);
    assert_eq!(
        info_err("target_session_attrs=master"),
        r#"invalid target_session_attrs value: "master""#
    );
    assert_eq!(
        info_err("load_balance_hosts=yes"),
        r#"invalid load_balance_hosts value: "yes""#
    );
    assert_eq!(
        info_err("channel_binding=maybe"),
        r#"invalid channel_binding value: "maybe""#
    );
    assert_eq!(
        info_err("connect_timeout=x"),
        r#"invalid integer value "x" for connection option "connect_timeout""#
    );
    assert_eq!(
        info_err("connect_timeout=99999999999"),
        r#"invalid integer value "99999999999" for connection option "connect_timeout""#
    );
    assert_eq!(
        info_err("gssencmode=require"),
        r#"gssencmode value "require" cannot be honoured: ferropg has no GSSAPI support"#
    );
    assert_eq!(
        info_err("service=x"),
        r#"service "x" requested, but ferropg does not read pg_service.conf files"#
    );
    for (text, mode) in [
        ("verify-full", SslMode::VerifyFull),
        ("allow", SslMode::Allow),
        ("disable", SslMode::Disable),
    ] {
        assert_eq!(info(&format!("sslmode={text}")).sslmode, mode);
        assert_eq!(mode.as_str(), text);
    }
    let tsa = info("target_session_attrs=prefer-standby").target_session_attrs;
    assert_eq!(tsa, TargetSessionAttrs::PreferStandby);
    assert_eq!(
        info("load_balance_hosts=random").load_balance_hosts,
        LoadBalanceHosts::Random
    );
}

#[test]
fn connect_timeout_rules() {
    assert_eq!(
        info("connect_timeout=10").connect_timeout,
        Some(Duration::from_secs(10))
    );
    assert_eq!(
        info("connect_timeout=1").connect_timeout,
        Some(Duration::from_secs(2))
    );
    assert_eq!(info("connect_timeout=0").connect_timeout, None);
    assert_eq!(info("connect_timeout=-5").connect_timeout, None);
    assert_eq!(info("connect_timeout=''").connect_timeout, None);
}

#[test]
fn keywords_override_dsn_and_env_fills_the_rest() {
    let e = env(&[
        ("PGHOST", "envhost"),
        ("PGPORT", "6000"),
        ("PGUSER", "envuser"),
        ("PGAPPNAME", "envapp"),
    ]);
    let ci = resolve(
        Some("host=dsnhost user=dsnuser"),
        &[("user", Some("kwuser")), ("port", None)],
        &e,
    )
    .unwrap();
    assert_eq!(ci.hosts, [Host::new("dsnhost", 6000)]);
    assert_eq!(ci.user, "kwuser");
    assert_eq!(ci.dbname, "kwuser");
    assert_eq!(ci.application_name.as_deref(), Some("envapp"));
    // An explicit empty value is "given": it blocks the environment.
    let ci = resolve(Some("host=''"), &[], &e).unwrap();
    assert_eq!(ci.hosts, [Host::new("/var/run/postgresql", 6000)]);
    let ci = resolve(None, &[("database", Some("d"))], &e).unwrap();
    assert_eq!(ci.dbname, "d");
    let e2 = resolve(None, &[("database", Some("d")), ("dbname", None)], &e).unwrap_err();
    assert_eq!(e2, ConnInfoError::DatabaseAndDbname);
    assert_eq!(e2.kind(), ErrorKind::Argument);
    let bad = resolve(None, &[("foo", Some("1"))], &e).unwrap_err();
    assert_eq!(
        (bad.to_string(), bad.kind()),
        (s(r#"invalid connection option "foo""#), ErrorKind::Syntax)
    );
}

#[test]
fn every_documented_env_var_is_read() {
    let vars = [
        ("PGHOST", "h"),
        ("PGPORT", "1"),
        ("PGDATABASE", "d"),
        ("PGUSER", "u"),
        ("PGPASSWORD", "pw"),
        ("PGSSLMODE", "require"),
        ("PGSSLROOTCERT", "ca"),
        ("PGSSLCERT", "c"),
        ("PGSSLKEY", "k"),
        ("PGAPPNAME", "a"),
        ("PGCONNECT_TIMEOUT", "5"),
        ("PGOPTIONS", "-c x=1"),
        ("PGTARGETSESSIONATTRS", "standby"),
        ("PGLOADBALANCEHOSTS", "random"),
        ("PGCLIENTENCODING", "LATIN1"),
        ("PGPASSFILE", "/nonexistent/pgpass"),
    ];
    let ci = resolve(None, &[], &env(&vars)).unwrap();
    assert_eq!(ci.hosts, [Host::new("h", 1)]);
    assert_eq!(
        (ci.dbname.as_str(), ci.user.as_str(), ci.password.as_deref()),
        ("d", "u", Some("pw"))
    );
    assert_eq!(ci.sslmode, SslMode::Require);
    assert_eq!(
        (
            ci.sslrootcert.as_deref(),
            ci.sslcert.as_deref(),
            ci.sslkey.as_deref()
        ),
        (Some("ca"), Some("c"), Some("k"))
    );
    assert_eq!(ci.application_name.as_deref(), Some("a"));
    assert_eq!(ci.connect_timeout, Some(Duration::from_secs(5)));
    assert_eq!(ci.options.as_deref(), Some("-c x=1"));
    assert_eq!(ci.target_session_attrs, TargetSessionAttrs::Standby);
    assert_eq!(ci.load_balance_hosts, LoadBalanceHosts::Random);
    assert_eq!(ci.client_encoding.as_deref(), Some("LATIN1"));
    // A password was given, so the passfile is not consulted at all.
    assert_eq!(ci.passfile, None);
    let ci = resolve(None, &[], &env(&[("PGPASSFILE", "/nonexistent/pgpass")])).unwrap();
    assert_eq!(ci.passfile.unwrap().path, PathBuf::from("/nonexistent/pgpass"));
}

#[test]
fn missing_os_user_is_an_error_only_when_needed() {
    let mut e = env(&[]);
    e.os_user = None;
    assert_eq!(
        resolve(None, &[], &e).unwrap_err(),
        ConnInfoError::UnknownLocalUser
    );
    assert_eq!(resolve(Some("user=x"), &[], &e).unwrap().dbname, "x");
}

#[test]
fn startup_params() {
    let ci = info("user=u dbname=d");
    assert_eq!(
        ci.startup_params(),
        [
            ("user", s("u")),
            ("database", s("d")),
            ("client_encoding", s("UTF8"))
        ]
    );
    let ci = info("user=u dbname=d application_name=app options='-c a=b' client_encoding=LATIN1");
    assert_eq!(
        ci.startup_params(),
        [
            ("user", s("u")),
            ("database", s("d")),
            ("application_name", s("app")),
            ("options", s("-c a=b")),
            ("client_encoding", s("LATIN1")),
        ]
    );
    let ci = info("user=u fallback_application_name=fb client_encoding=auto");
    assert_eq!(ci.startup_params()[2], ("application_name", s("fb")));
    assert_eq!(ci.startup_params()[3], ("client_encoding", s("UTF8")));
}

#[test]
fn masked_dsn_matches_psycopg2() {
    let m = |dsn: Option<&str>, kw: &[(&str, Option<&str>)]| {
        resolve(dsn, kw, &env(&[])).unwrap().masked_dsn().to_owned()
    };
    // No keywords, no password: the string exactly as given, URI or not.
    assert_eq!(m(Some("postgresql://h/db"), &[]), "postgresql://h/db");
    assert_eq!(m(Some("host=a  port=1"), &[]), "host=a  port=1");
    assert_eq!(m(None, &[]), "");
    // A password anywhere: rebuilt in libpq's keyword order, password as xxx.
    assert_eq!(
        m(Some("postgresql://u:p%40@h:5433/db?sslmode=require"), &[]),
        "user=u password=xxx dbname=db host=h port=5433 sslmode=require"
    );
    // Keywords: merged into the parsed DSN (existing keys keep their place).
    assert_eq!(
        m(
            Some("postgresql://u@h/db?sslmode=require"),
            &[("user", Some("x")), ("database", Some("d")), ("port", Some("5"))]
        ),
        "user=x dbname=d host=h sslmode=require port=5"
    );
    assert_eq!(
        m(Some("postgresql://u@h/db"), &[("user", None)]),
        "user=u dbname=db host=h"
    );
    assert_eq!(
        m(
            None,
            &[
                ("host", Some("a b")),
                ("application_name", Some("it's")),
                ("dbname", Some("")),
                ("options", Some(r"-c x=\y"))
            ]
        ),
        r"host='a b' application_name=it\'s dbname='' options='-c x=\\y'"
    );
    assert_eq!(
        m(None, &[("host", Some("h")), ("password", Some("secret"))]),
        "password=xxx host=h"
    );
    assert!(!m(Some("password='a b'"), &[]).contains("a b"));
}

#[test]
fn quoting_follows_psycopg2() {
    assert_eq!(quote_value(""), "''");
    assert_eq!(quote_value("plain"), "plain");
    assert_eq!(quote_value("a b"), "'a b'");
    assert_eq!(quote_value(r"a\b'c"), r"a\\b\'c");
    assert_eq!(quote_value("a\u{1c}b"), "'a\u{1c}b'");
    assert_eq!(quote_value("a\u{3000}b"), "'a\u{3000}b'");
}

#[test]
fn password_for_uses_passfile_per_host() {
    let pf = Passfile::from_text(
        "/p".as_ref(),
        "# comment\nlocalhost:5432:db:u:localpw\nh1:5433:*:u:h1pw\n*:*:*:u:any\\:pw\\\\x\n",
    );
    let mut ci = info("host=h1,h2,/var/run/postgresql,/tmp port=5433,5432,5432,5432 user=u dbname=db");
    ci.passfile = Some(pf);
    let pw: Vec<_> = ci.hosts.clone().iter().map(|h| ci.password_for(h)).collect();
    assert_eq!(
        pw,
        [
            Some(s("h1pw")),
            Some(s(r"any:pw\x")),
            Some(s("localpw")),
            Some(s(r"any:pw\x"))
        ]
    );
    ci.password = Some(s(""));
    assert_eq!(ci.password_for(&Host::new("h1", 5433)).as_deref(), Some("h1pw"));
    ci.password = Some(s("given"));
    assert_eq!(ci.password_for(&Host::new("h1", 5433)).as_deref(), Some("given"));
}
