//! Properties of the SQL scanner over generated and arbitrary text.

use ferropg_core::sql::{analyze, convert, interpolate, Literals, Statement};
use proptest::prelude::*;

/// Pieces that exercise every lexical state, with no `%` of their own.
const PLAIN: &[&str] = &[
    "select",
    " ",
    "\n",
    "'",
    "''",
    "\"",
    "$$",
    "$a$",
    "$1",
    "$",
    "--",
    "/*",
    "*/",
    ";",
    "(",
    ")",
    "E'",
    "U&'",
    "B'",
    "\\",
    "x",
    "1",
    "é",
    "%%",
    "copy",
    "stdin",
    "begin",
    "create function",
];

fn sql_from(pieces: &'static [&'static str], extra: &'static [&'static str]) -> BoxedStrategy<String> {
    let all: Vec<&'static str> = pieces.iter().chain(extra).copied().collect();
    prop::collection::vec(prop::sample::select(all), 0..40)
        .prop_map(|v| v.concat())
        .boxed()
}

/// Python's `%`-formatting restricted to what the generators produce:
/// `%%`, `%s` and `%(name)s`.
fn python_format(sql: &str, positional: &[String], named: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut rest = sql;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('s') {
            out.push_str(&positional[next]);
            next += 1;
            rest = tail;
        } else {
            let close = after.find(')').expect("generated names are closed");
            out.push_str(&named(&after[1..close]));
            rest = &after[close + 2..];
        }
    }
    out.push_str(rest);
    out
}

/// A distinct literal per position, with quote characters in it.
fn literal(i: usize) -> String {
    format!("'v{i}''s'")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_text(sql in any::<String>(), has in any::<bool>(), scs in any::<bool>()) {
        if let Ok(stmt) = analyze(&sql, has, scs) {
            if !has {
                prop_assert_eq!(stmt.server_sql(), sql.as_str());
            }
            let lits: Vec<String> = (0..stmt.params().len()).map(literal).collect();
            prop_assert!(stmt.interpolate(&lits).is_ok());
        }
    }

    #[test]
    fn never_panics_on_sql_like_text(
        sql in sql_from(PLAIN, &["%s", "%(a)s", "%", "%(", "%d", ")s"]),
        has in any::<bool>(),
        scs in any::<bool>(),
    ) {
        let _ = analyze(&sql, has, scs);
    }

    #[test]
    fn without_placeholders_only_percent_percent_changes(sql in sql_from(PLAIN, &[]), scs in any::<bool>()) {
        let stmt = convert(&sql, scs).unwrap();
        prop_assert_eq!(stmt.server_sql(), sql.replace("%%", "%"));
        prop_assert!(stmt.params().is_empty());
        prop_assert_eq!(stmt.interpolate::<&str>(&[]).unwrap(), sql.replace("%%", "%"));
    }

    #[test]
    fn positional_count_and_interpolation(sql in sql_from(PLAIN, &["%s", "%s"]), scs in any::<bool>()) {
        let stmt = convert(&sql, scs).unwrap();
        let expected = sql.replace("%%", "").matches("%s").count();
        prop_assert_eq!(stmt.params().len(), expected);
        prop_assert_eq!(stmt.placeholder_count(), expected);
        let lits: Vec<String> = (0..expected).map(literal).collect();
        let refs: Vec<&str> = lits.iter().map(String::as_str).collect();
        let ours = interpolate(&sql, &Literals::Positional(&refs)).unwrap();
        prop_assert_eq!(ours, python_format(&sql, &lits, &|_| unreachable!()));
        // Server form: `$1..$n` in order, nothing else changed.
        let mut n = 0;
        let server = python_format(&sql, &(0..expected).map(|_| { n += 1; format!("${n}") }).collect::<Vec<_>>(), &|_| unreachable!());
        prop_assert_eq!(stmt.server_sql(), server);
    }

    #[test]
    fn named_interpolation(sql in sql_from(PLAIN, &["%(a)s", "%(b)s", "%(it's)s"]), scs in any::<bool>()) {
        let stmt = convert(&sql, scs).unwrap();
        let value = |k: &str| format!("'<{}>'", k.replace('\'', "''"));
        let owned: Vec<(String, String)> = ["a", "b", "it's"].iter().map(|k| (k.to_string(), value(k))).collect();
        let lookup = |k: &str| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let ours = interpolate(&sql, &Literals::Named(&lookup)).unwrap();
        prop_assert_eq!(ours, python_format(&sql, &[], &value));
        let distinct = ["%(a)s", "%(b)s", "%(it's)s"].iter().filter(|p| sql.replace("%%", "").contains(*p)).count();
        prop_assert_eq!(stmt.params().len(), distinct);
    }

    #[test]
    fn bindable_text_keeps_placeholders_out_of_quotes(sql in sql_from(PLAIN, &["%s", "select %s"]), scs in any::<bool>()) {
        // Replacing each placeholder with a plain token must not change the
        // classification when the statement is bindable.
        let stmt = convert(&sql, scs).unwrap();
        if stmt.is_bindable() && !stmt.params().is_empty() {
            let plain = sql.replace("%%", "\u{1}").replace("%s", " 0 ").replace('\u{1}', "%%");
            let again = Statement::parse(&plain, true, scs).unwrap();
            prop_assert_eq!(again.statement_count(), 1);
            prop_assert_eq!(again.keyword(), stmt.keyword());
        }
    }
}
