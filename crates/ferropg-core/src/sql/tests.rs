//! Unit tests, one group per rule. Expected literal and error forms were
//! recorded from psycopg2 2.9.13 against PostgreSQL 15.

use super::*;

fn conv(sql: &str) -> Statement {
    convert(sql, true).unwrap_or_else(|e| panic!("{sql:?}: {e}"))
}

fn conv_err(sql: &str) -> SqlError {
    match convert(sql, true) {
        Ok(s) => panic!("{sql:?} converted to {:?}", s.server_sql()),
        Err(e) => e,
    }
}

fn named(n: &str) -> ParamRef {
    ParamRef::Named(n.into())
}

// --- 1. paramstyle conversion -------------------------------------------

#[test]
fn positional_become_dollar_params() {
    let s = conv("select %s, %s from t where a = %s");
    assert_eq!(s.server_sql(), "select $1, $2 from t where a = $3");
    assert_eq!(
        s.params(),
        &[
            ParamRef::Positional(0),
            ParamRef::Positional(1),
            ParamRef::Positional(2)
        ]
    );
    assert_eq!(s.param_style(), Some(ParamStyle::Positional));
    assert_eq!(s.placeholder_count(), 3);
}

#[test]
fn named_reused_is_one_param() {
    let s = conv("select %(a)s, %(b)s, %(a)s");
    assert_eq!(s.server_sql(), "select $1, $2, $1");
    assert_eq!(s.params(), &[named("a"), named("b")]);
    assert_eq!(s.placeholder_count(), 3);
    assert_eq!(s.param_style(), Some(ParamStyle::Named));
}

#[test]
fn many_named_params_use_the_map_and_stay_in_order() {
    let sql: String = (0..40)
        .map(|i| format!("%(p{})s, %(p{})s, ", i % 25, i % 25))
        .collect();
    let s = conv(&format!("select {sql}1"));
    assert_eq!(s.params().len(), 25);
    for (i, p) in s.params().iter().enumerate() {
        assert_eq!(p, &named(&format!("p{i}")));
    }
    assert!(s.server_sql().starts_with("select $1, $1, $2, $2,"));
    assert!(s.server_sql().contains("$25, $25, $1, $1,"));
}

#[test]
fn empty_name_is_allowed() {
    assert_eq!(conv("select %()s").params(), &[named("")]);
}

#[test]
fn double_percent_is_a_literal_percent() {
    let s = conv("select 10 %% 3, '%%', %s");
    assert_eq!(s.server_sql(), "select 10 % 3, '%', $1");
    assert!(s.is_bindable());
    assert_eq!(conv("%%%s").server_sql(), "%$1");
    assert_eq!(conv("%%s").server_sql(), "%s");
    assert!(conv("%%s").params().is_empty());
}

#[test]
fn unsupported_format_character() {
    let e = conv_err("select %d");
    assert_eq!(
        e,
        SqlError::UnsupportedFormat {
            ch: 'd',
            index: 8,
            placeholder: "%d".into(),
            pos: 7
        }
    );
    let msg = e.to_string();
    assert!(msg.starts_with("unsupported format character 'd' (0x64) at index 8"));
    assert!(msg.contains("\"%d\" at byte 7"), "{msg}");
    assert!(matches!(
        conv_err("select %(a)d"),
        SqlError::UnsupportedFormat {
            ch: 'd',
            index: 11,
            pos: 7,
            ..
        }
    ));
    // A modulo written with a single %: psycopg2 fails the same way.
    assert!(matches!(
        conv_err("select 10 % 3"),
        SqlError::UnsupportedFormat { ch: ' ', .. }
    ));
    // Multi-byte character after %.
    assert!(matches!(
        conv_err("select %é"),
        SqlError::UnsupportedFormat { ch: 'é', .. }
    ));
}

#[test]
fn trailing_percent_is_incomplete() {
    assert_eq!(
        conv_err("select %"),
        SqlError::IncompletePlaceholder {
            placeholder: "%".into(),
            pos: 7
        }
    );
    assert!(matches!(
        conv_err("select %(a)"),
        SqlError::IncompletePlaceholder { pos: 7, .. }
    ));
}

#[test]
fn unclosed_name() {
    let e = conv_err("select %(abc");
    assert_eq!(
        e,
        SqlError::IncompleteName {
            placeholder: "%(abc".into(),
            pos: 7
        }
    );
    assert!(e
        .to_string()
        .starts_with("incomplete placeholder: '%(' without ')'"));
    // A `%` ends the name, as in psycopg2.
    assert!(matches!(
        conv_err("select %(a%s)s"),
        SqlError::IncompleteName { pos: 7, .. }
    ));
}

#[test]
fn mixing_styles_is_refused_first() {
    let e = conv_err("select %(a)s, %s");
    assert_eq!(
        e,
        SqlError::MixedStyles {
            placeholder: "%s".into(),
            pos: 14,
            found: ParamStyle::Positional,
            first: ParamStyle::Named
        }
    );
    assert!(e.to_string().starts_with("argument formats can't be mixed"));
    assert!(matches!(
        conv_err("select %s, %(a)s"),
        SqlError::MixedStyles { pos: 11, .. }
    ));
    // psycopg2 raises the mixing error before the bad format character.
    assert!(matches!(
        conv_err("select %(a)s %d"),
        SqlError::MixedStyles { .. }
    ));
    assert!(matches!(
        conv_err("select %d, %(a)s"),
        SqlError::MixedStyles { .. }
    ));
}

#[test]
fn name_with_paren_is_refused() {
    assert!(matches!(
        conv_err("select %(a(b)s)s"),
        SqlError::InvalidName { pos: 7, .. }
    ));
}

#[test]
fn percent_is_found_in_comments_too() {
    // psycopg2 does not lex: a % in a comment is still a placeholder.
    assert!(matches!(
        conv_err("-- 100%\nselect %s"),
        SqlError::UnsupportedFormat { ch: '\n', .. }
    ));
}

#[test]
fn without_params_percent_is_untouched() {
    let s = analyze("select 10 % 3, '%s', %(x)s %%", false, true).unwrap();
    assert_eq!(s.server_sql(), "select 10 % 3, '%s', %(x)s %%");
    assert!(s.params().is_empty());
    assert_eq!(s.param_style(), None);
    assert_eq!(s.statement_count(), 1);
    assert_eq!(s.keyword(), Some("SELECT"));
    assert!(s.is_bindable());
    assert_eq!(s.interpolate::<&str>(&[]).unwrap(), s.server_sql());
}

// --- 2. lexical structure ---------------------------------------------------

fn bindable(sql: &str) -> bool {
    conv(sql).is_bindable()
}

#[test]
fn placeholder_in_quotes_goes_literal() {
    for sql in [
        "select '%s'",
        "select E'%s'",
        "select e'x\\'%s'",
        "select U&'%s'",
        "select B'%s'",
        "select X'%s'",
        "select N'%s'",
        "select \"%s\"",
        "select U&\"%s\"",
        "select $$%s$$",
        "select $tag$ $ %s $tag$",
        "select 1 -- %s",
        "select 1 /* %s */",
        "select 1 /* /* */ %s */",
    ] {
        let s = conv(sql);
        assert!(!s.is_bindable(), "{sql:?} should go the literal path");
        assert_eq!(s.params().len(), 1, "{sql:?}");
    }
}

#[test]
fn placeholder_after_quotes_is_bindable() {
    for sql in [
        "select 'it''s', %s",
        "select E'a\\'b', %s",
        "select \"a\"\"b\", %s",
        "select $$ $ $$, %s",
        "select $a$ $b$ $a$, %s",
        "select 1 -- c\n, %s",
        "select 1 /* /* */ */, %s",
        "select B'01', X'ff', %s",
        "select a$b, %s",
    ] {
        assert!(bindable(sql), "{sql:?} should bind");
    }
}

#[test]
fn standard_conforming_strings_decides_backslash() {
    // scs on: the backslash is plain, the string ends after it.
    let on = convert("select 'a\\', %s", true).unwrap();
    assert!(on.is_bindable());
    // scs off: \' escapes, so %s is inside the string.
    let off = convert("select 'a\\', %s", false).unwrap();
    assert!(!off.is_bindable());
    // E'' always escapes; B'' never does.
    assert!(!convert("select E'a\\', %s", true).unwrap().is_bindable());
    assert!(convert("select B'a\\', %s", false).unwrap().is_bindable());
}

#[test]
fn dollar_tags() {
    // `$1` is a parameter of the text's own: never bound alongside ours.
    let s = conv("select $1, %s");
    assert!(!s.is_bindable());
    // A tag cannot start with a digit, and `$` inside an identifier is no quote.
    assert!(bindable("select a$tag$ , %s"));
    assert!(!bindable("select $_t1$ %s $_t1$"));
    // An unterminated tag is a lone `$`.
    assert!(bindable("select $x , %s"));
    // The closing tag must match exactly.
    assert!(!bindable("select $a$ $b$ %s $a$"));
    // Tags are case-sensitive.
    assert!(!bindable("select $a$ $A$ %s $a$"));
}

#[test]
fn percent_percent_inside_quotes_becomes_percent() {
    let s = conv("select '100%%', $$%%$$, \"a%%\", %s -- %%");
    assert_eq!(s.server_sql(), "select '100%', $$%$$, \"a%\", $1 -- %");
    assert!(s.is_bindable());
}

#[test]
fn backslash_before_percent_still_formats() {
    // psycopg2 substitutes before the server sees the escape.
    let s = conv("select E'\\%s'");
    assert_eq!(s.params().len(), 1);
    assert_eq!(s.interpolate(&["'x'"]).unwrap(), "select E'\\'x''");
    assert_eq!(conv("select E'\\%%'").server_sql(), "select E'\\%'");
}

#[test]
fn name_may_hold_quote_characters() {
    let s = conv("select %(it's)s, 'a'");
    assert_eq!(s.params(), &[named("it's")]);
    assert!(s.is_bindable());
}

#[test]
fn glued_placeholders_go_literal() {
    for sql in [
        "select %s%s",
        "select a%s",
        "select %sabc",
        "select %s1",
        "select 'a'%s",
        "select %s'a'",
        "select \"t\"%s",
        "select $%s",
        "select %(a)s%(b)s",
    ] {
        assert!(!bindable(sql), "{sql:?}");
    }
    for sql in ["select (%s)", "select %s::int", "select -%s", "select %s,%s"] {
        assert!(bindable(sql), "{sql:?}");
    }
}

#[test]
fn unterminated_quotes_do_not_fail() {
    for sql in ["select 'abc", "select \"abc", "select $$ abc", "select E'\\"] {
        let s = analyze(sql, false, true).unwrap();
        assert_eq!(s.statement_count(), 1, "{sql:?}");
    }
    assert_eq!(analyze("/* abc", false, true).unwrap().statement_count(), 0);
    assert!(!conv("select 'abc %s").is_bindable());
}

// --- 3. classification ------------------------------------------------------

#[test]
fn statement_count_ignores_empty_statements() {
    let count = |sql: &str| analyze(sql, false, true).unwrap().statement_count();
    assert_eq!(count(""), 0);
    assert_eq!(count("  ;; -- c\n /* x */ ;"), 0);
    assert_eq!(count("select 1;"), 1);
    assert_eq!(count("select 1; ; select 2;  "), 2);
    assert_eq!(count("select ';'; select \";\"; select $$;$$"), 3);
    assert_eq!(count("select 1 -- ;\n"), 1);
    assert_eq!(count("select (1; 2)"), 1);
}

#[test]
fn begin_atomic_bodies_keep_their_semicolons() {
    let count = |sql: &str| analyze(sql, false, true).unwrap().statement_count();
    let body = "create function f() returns int language sql \
                begin atomic select 1; select case when true then 1 end; end; select 2";
    assert_eq!(count(body), 2);
    let body = "CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC insert into t values (1); END";
    assert_eq!(count(body), 1);
    // BEGIN as a transaction statement is not a body.
    assert_eq!(count("begin; select 1; end;"), 3);
    assert_eq!(count("create table begin_t (a int); select 1"), 2);
}

#[test]
fn keyword_of_first_statement() {
    let kw = |sql: &str| analyze(sql, false, true).unwrap().keyword.clone();
    assert_eq!(kw("  /* c */ select 1").as_deref(), Some("SELECT"));
    assert_eq!(kw("((Select 1))").as_deref(), Some("SELECT"));
    assert_eq!(
        kw("; insert into t values (1); select 1").as_deref(),
        Some("INSERT")
    );
    assert_eq!(kw("'x'").as_deref(), None);
    assert_eq!(kw("").as_deref(), None);
    assert_eq!(kw("Ünïcode 1").as_deref(), Some("ÜNïCODE"));
}

#[test]
fn bindable_needs_a_parameter_taking_keyword() {
    for sql in [
        "SELECT %s",
        "insert into t values (%s)",
        "update t set a = %s",
        "delete from t where a = %s",
        "with q as (select %s) select * from q",
        "values (%s)",
        "merge into t using s on t.a = %s when matched then do nothing",
        "declare c cursor for select %s",
        "explain select %s",
        "call p(%s)",
        "(select %s) union (select 2)",
    ] {
        assert!(bindable(sql), "{sql:?}");
    }
    for sql in [
        "set search_path = %s",
        "notify %s",
        "show %s",
        "do $$ begin perform 1; end $$ %s",
        "copy t to %s",
        "create table t as select %s",
        "select %s; select 2",
        "prepare p as select %s",
    ] {
        assert!(!bindable(sql), "{sql:?}");
    }
}

#[test]
fn without_placeholders_any_single_statement_binds() {
    assert!(conv("set search_path = public").is_bindable());
    assert!(analyze("notify x", false, true).unwrap().is_bindable());
    assert!(!analyze("select 1; select 2", false, true).unwrap().is_bindable());
    assert!(!analyze("", false, true).unwrap().is_bindable());
}

#[test]
fn copy_detection() {
    let s = analyze("COPY t FROM STDIN", false, true).unwrap();
    assert!(s.is_copy() && s.copy_uses_stdio());
    let s = analyze("copy (select stdin from t) to '/tmp/x'", false, true).unwrap();
    assert!(s.is_copy() && !s.copy_uses_stdio());
    let s = analyze("select 1; copy t to stdout", false, true).unwrap();
    assert!(s.is_copy() && s.copy_uses_stdio());
    assert_eq!(s.keyword(), Some("SELECT"));
    let s = analyze("select 'copy t from stdin'", false, true).unwrap();
    assert!(!s.is_copy());
}

// --- 4. interpolation ---------------------------------------------------------

#[test]
fn interpolate_positional_everywhere() {
    let out = interpolate("select '%s' -- %s\n", &Literals::Positional(&["'a'", "'b'"])).unwrap();
    assert_eq!(out, "select ''a'' -- 'b'\n");
    let out = interpolate("select %s%s", &Literals::Positional(&["'a'", "'b'"])).unwrap();
    assert_eq!(out, "select 'a''b'");
}

#[test]
fn interpolate_named() {
    let lookup = |k: &str| match k {
        "a" => Some("1"),
        "b" => Some("'x'"),
        _ => None,
    };
    let out = interpolate("select %(a)s %(a)s %(b)s, '%%'", &Literals::Named(&lookup)).unwrap();
    assert_eq!(out, "select 1 1 'x', '%'");
    let err = interpolate("select %(c)s", &Literals::Named(&lookup)).unwrap_err();
    assert_eq!(err.to_string(), "no value for parameter %(c)s");
}

#[test]
fn interpolate_count_and_style_errors() {
    let err = interpolate("select %s, %s, %s", &Literals::Positional(&["1", "2"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the statement has 3 placeholders but 2 parameters were given"
    );
    let none = |_: &str| None;
    let err = interpolate("select %s", &Literals::Named(&none)).unwrap_err();
    assert!(matches!(err, SqlError::StyleMismatch { .. }), "{err}");
    let err = interpolate("select %(a)s", &Literals::Positional(&["1"])).unwrap_err();
    assert!(matches!(err, SqlError::StyleMismatch { .. }), "{err}");
}

#[test]
fn interpolate_without_placeholders_ignores_params() {
    // psycopg2: execute("select 1", (1, 2)) runs "select 1".
    let out = interpolate("select 1, '%%'", &Literals::Positional(&["1", "2"])).unwrap();
    assert_eq!(out, "select 1, '%'");
}

#[test]
fn statement_interpolate_uses_params_order() {
    let s = conv("select %(b)s, %(a)s, %(b)s");
    assert_eq!(s.params(), &[named("b"), named("a")]);
    assert_eq!(s.interpolate(&["B", "A"]).unwrap(), "select B, A, B");
    assert!(matches!(
        s.interpolate(&["B"]),
        Err(SqlError::CountMismatch {
            placeholders: 3,
            given: 1
        })
    ));
}

// --- 5. quoting (forms recorded from psycopg2 2.9.13 mogrify) -----------------

#[test]
fn quote_string_forms() {
    assert_eq!(quote_string("abc", true).unwrap(), "'abc'");
    assert_eq!(quote_string("it's", true).unwrap(), "'it''s'");
    assert_eq!(quote_string("back\\slash", true).unwrap(), "'back\\slash'");
    assert_eq!(quote_string("", true).unwrap(), "''");
    assert_eq!(quote_string("é\n%s", true).unwrap(), "'é\n%s'");
    assert_eq!(quote_string("abc", false).unwrap(), "E'abc'");
    assert_eq!(quote_string("it's", false).unwrap(), "E'it''s'");
    assert_eq!(quote_string("back\\slash", false).unwrap(), "E'back\\\\slash'");
    assert_eq!(quote_string("both'\\", false).unwrap(), "E'both''\\\\'");
    assert_eq!(quote_string("", false).unwrap(), "E''");
    let err = quote_string("a\0b", true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "A string literal cannot contain NUL (0x00) characters."
    );
}

#[test]
fn quote_bytea_forms() {
    assert_eq!(quote_bytea(b"", true), "'\\x'::bytea");
    assert_eq!(quote_bytea(b"\x00\x01ab\\'", true), "'\\x000161625c27'::bytea");
    assert_eq!(quote_bytea(b"\xff", true), "'\\xff'::bytea");
    assert_eq!(quote_bytea(b"", false), "E'\\\\x'::bytea");
    assert_eq!(quote_bytea(b"xy", false), "E'\\\\x7879'::bytea");
}

#[test]
fn quote_identifier_forms() {
    assert_eq!(quote_identifier("abc").unwrap(), "\"abc\"");
    assert_eq!(quote_identifier("we\"ird").unwrap(), "\"we\"\"ird\"");
    assert_eq!(quote_identifier("").unwrap(), "\"\"");
    assert_eq!(quote_identifier("a\\b").unwrap(), "\"a\\b\"");
    assert_eq!(quote_identifier("\"").unwrap(), "\"\"\"\"");
    assert!(matches!(
        quote_identifier("a\0"),
        Err(SqlError::NulInIdentifier { .. })
    ));
}
