//! Properties of connection-string handling that must hold for every input.
use ferropg_core::conninfo::{
    join_dsn, parse_dsn, percent_decode, percent_encode, quote_value, resolve, Env, KEYWORDS,
};
use proptest::prelude::*;

/// Any text libpq can carry: no NUL (C strings end there).
fn value() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\0', ""))
}

/// Text leaning on the characters the parsers treat specially.
fn tricky() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("postgresql://".to_owned()),
            Just("host".to_owned()),
            Just("port".to_owned()),
            "[ ='\\\\@:/?&%,\\[\\]\t\n\u{b}]".prop_map(String::from),
            "%[0-9a-fA-Fz]{0,2}".prop_map(String::from),
            "[a-z0-9é]{1,3}".prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn quoted_value_round_trips(v in value()) {
        let dsn = format!("application_name={}", quote_value(&v));
        let parsed = parse_dsn(&dsn).unwrap();
        prop_assert_eq!(parsed.iter().collect::<Vec<_>>(), vec![("application_name", v.as_str())]);
    }

    #[test]
    fn joined_options_round_trip(vals in proptest::collection::vec(value(), 1..6)) {
        let names = ["host", "user", "dbname", "options", "password", "sslrootcert"];
        let pairs: Vec<(&str, &str)> = names.iter().copied().zip(vals.iter().map(String::as_str)).collect();
        let parsed = parse_dsn(&join_dsn(pairs.clone())).unwrap();
        let mut want = pairs;
        want.sort_by_key(|(k, _)| KEYWORDS.iter().position(|kw| kw.name == *k));
        prop_assert_eq!(parsed.iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn percent_encoding_round_trips(v in value()) {
        prop_assert_eq!(percent_decode(&percent_encode(&v), false).unwrap(), v);
    }

    #[test]
    fn uri_components_round_trip(user in "[^\0]{1,8}", password in "[^\0]{1,8}", host in "[^\0]{1,8}", db in "[^\0]{1,8}") {
        let uri = format!(
            "postgresql://{}:{}@{}/{}",
            percent_encode(&user), percent_encode(&password), percent_encode(&host), percent_encode(&db)
        );
        let parsed = parse_dsn(&uri).unwrap();
        let want = vec![("user", user.as_str()), ("password", password.as_str()), ("dbname", db.as_str()), ("host", host.as_str())];
        prop_assert_eq!(parsed.iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn parser_never_panics(s in any::<String>(), t in tricky()) {
        let _ = parse_dsn(&s);
        let _ = parse_dsn(&t);
        let env = Env { os_user: Some("u".into()), ..Env::default() };
        let _ = resolve(Some(&t), &[("port", Some(&s))], &env);
    }

    // `Q` never occurs in `tricky()`, so the password cannot appear by chance.
    #[test]
    fn masked_dsn_never_shows_the_password(pw in "Q[a-zA-Z0-9]{6,10}", t in tricky()) {
        let env = Env { os_user: Some("u".into()), ..Env::default() };
        for dsn in [format!("postgresql://u:{pw}@h/db"), format!("password={pw} host=h")] {
            if let Ok(ci) = resolve(Some(&dsn), &[("application_name", Some(&t))], &env) {
                prop_assert!(!ci.masked_dsn().contains(&pw), "{}", ci.masked_dsn());
            }
        }
    }
}
