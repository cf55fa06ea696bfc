//! Arbitrary bytes (as lossy UTF-8) through analyze, convert and interpolate:
//! nothing may panic, and what succeeds must be self-consistent.
#![no_main]

use ferropg_core::sql::{analyze, interpolate, Literals};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the options, so both settings get explored.
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let sql = String::from_utf8_lossy(rest);
    let has_params = flags & 1 != 0;
    let scs = flags & 2 != 0;
    let Ok(stmt) = analyze(&sql, has_params, scs) else {
        return;
    };
    if !has_params {
        assert_eq!(stmt.server_sql(), sql);
        return;
    }
    let literals: Vec<String> = (0..stmt.params().len()).map(|i| format!("'{i}'")).collect();
    let filled = stmt.interpolate(&literals).expect("one literal per param");
    let refs: Vec<&str> = literals.iter().map(String::as_str).collect();
    let named = |_: &str| Some("'n'");
    let again = match stmt.param_style() {
        Some(ferropg_core::sql::ParamStyle::Named) => interpolate(&sql, &Literals::Named(&named)),
        _ => interpolate(&sql, &Literals::Positional(&refs)),
    };
    let again = again.expect("a statement that converts also interpolates");
    if stmt.param_style() != Some(ferropg_core::sql::ParamStyle::Named) {
        assert_eq!(again, filled);
    }
    assert!(stmt.statement_count() > 0 || !stmt.is_bindable());
});
