//! Statement boundaries and first keywords, decided from the token stream.
//!
//! Boundaries follow psql's rules (psqlscan.l): a `;` ends a statement only
//! outside parentheses and outside the `BEGIN ... END` body of a
//! `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (SQL-standard bodies, PG 14+).

/// Whether a statement starting with `keyword` (uppercase) takes `$n`
/// parameters through Parse/Bind.
///
/// Each was checked against PostgreSQL 15 with a bound parameter. Left out
/// because the server refuses parameters there: SET, SHOW, NOTIFY, DO, COPY,
/// EXECUTE ("there is no parameter $1" / syntax error), and CREATE in general
/// (only CREATE TABLE AS would take them). PREPARE is left out because a `$1`
/// in its body is the prepared statement's own parameter, not ours.
pub fn accepts_parameters(keyword: &str) -> bool {
    matches!(
        keyword,
        "SELECT"
            | "INSERT"
            | "UPDATE"
            | "DELETE"
            | "WITH"
            | "VALUES"
            | "TABLE"
            | "MERGE"
            | "DECLARE"
            | "EXPLAIN"
            | "CALL"
    )
}

/// Where a statement is in psql's `CREATE [OR REPLACE] FUNCTION|PROCEDURE` check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Routine {
    #[default]
    Start,
    AfterCreate,
    AfterOr,
    AfterReplace,
    /// A routine definition: BEGIN/CASE/END nest.
    Yes,
    No,
}

/// The state of the statement being scanned.
#[derive(Debug, Default)]
pub(crate) struct StmtTracker {
    started: bool,
    /// Set once the first non-`(` token decided the keyword.
    keyword_done: bool,
    keyword: Option<String>,
    paren_depth: u32,
    begin_depth: u32,
    routine: Routine,
    copy: bool,
    copy_stdio: bool,
}

/// What the whole text held, statement by statement.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) count: usize,
    pub(crate) keyword: Option<String>,
    pub(crate) is_copy: bool,
    pub(crate) copy_stdio: bool,
}

impl StmtTracker {
    /// Any token that is neither a word nor a parenthesis.
    pub(crate) fn other(&mut self) {
        self.started = true;
        self.keyword_done = true;
    }

    pub(crate) fn open_paren(&mut self) {
        self.started = true;
        self.paren_depth += 1;
    }

    pub(crate) fn close_paren(&mut self) {
        self.other();
        self.paren_depth = self.paren_depth.saturating_sub(1);
    }

    /// A `;` outside quotes: true if it ends the statement.
    pub(crate) fn semicolon(&mut self) -> bool {
        if self.paren_depth == 0 && self.begin_depth == 0 {
            return true;
        }
        self.other();
        false
    }

    /// An unquoted word (keyword or identifier).
    pub(crate) fn word(&mut self, word: &str) {
        self.started = true;
        if !self.keyword_done {
            self.keyword_done = true;
            let upper = word.to_ascii_uppercase();
            self.copy = upper == "COPY";
            self.keyword = Some(upper);
        } else if self.copy && self.paren_depth == 0 {
            self.copy_stdio |= is(word, "STDIN") || is(word, "STDOUT");
        }
        self.track_routine(word);
    }

    fn track_routine(&mut self, word: &str) {
        let routine_word = is(word, "FUNCTION") || is(word, "PROCEDURE");
        self.routine = match self.routine {
            Routine::Start if is(word, "CREATE") => Routine::AfterCreate,
            Routine::AfterCreate if routine_word => Routine::Yes,
            Routine::AfterCreate if is(word, "OR") => Routine::AfterOr,
            Routine::AfterOr if is(word, "REPLACE") => Routine::AfterReplace,
            Routine::AfterReplace if routine_word => Routine::Yes,
            Routine::Yes => Routine::Yes,
            _ => Routine::No,
        };
        if self.routine != Routine::Yes || self.paren_depth != 0 {
            return;
        }
        // CASE also closes with END, so it nests once inside a body.
        if is(word, "BEGIN") || (is(word, "CASE") && self.begin_depth > 0) {
            self.begin_depth += 1;
        } else if is(word, "END") {
            self.begin_depth = self.begin_depth.saturating_sub(1);
        }
    }

    /// Closes the statement into `summary` and starts afresh.
    pub(crate) fn finish(&mut self, summary: &mut Summary) {
        let done = std::mem::take(self);
        if !done.started {
            return;
        }
        summary.count += 1;
        if summary.count == 1 {
            summary.keyword = done.keyword;
        }
        summary.is_copy |= done.copy;
        summary.copy_stdio |= done.copy_stdio;
    }
}

fn is(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}
