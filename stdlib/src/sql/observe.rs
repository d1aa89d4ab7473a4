//! What every statement reports without setup: a client span (`trace/db.rs`), the
//! `db_query_duration_seconds` histogram, and the pool's gauges (`metrics/sql.rs`). Spans carry
//! the statement with its literals replaced by `?` ([`without_literals`]).

use std::cell::RefCell;
use std::collections::HashMap;

use crate::metrics::sql::{statement_durations, PoolMetrics, StatementDurations};

use super::pool::Stats;

/// A pool's gauges.
pub struct PoolGauges(PoolMetrics);

impl PoolGauges {
    pub fn new(pool: &str, max: usize) -> PoolGauges {
        let metrics = PoolMetrics::new(pool);
        metrics.set(0, 0, max, 0);
        PoolGauges(metrics)
    }

    pub fn set(&self, stats: &Stats) {
        self.0
            .set(stats.in_use, stats.idle, stats.max, stats.waiting);
    }

    /// A closed pool shows no connections.
    pub fn remove(&self) {
        self.0.set(0, 0, 0, 0);
    }
}

/// A pool's duration histograms by operation and outcome, found once each.
#[derive(Default)]
pub struct Durations(RefCell<HashMap<(&'static str, &'static str), StatementDurations>>);

impl Durations {
    pub fn observe(
        &self,
        pool: &str,
        operation: &'static str,
        outcome: &'static str,
        seconds: f64,
    ) {
        let mut map = self.0.borrow_mut();
        map.entry((operation, outcome))
            .or_insert_with(|| statement_durations(pool, operation, outcome))
            .observe(seconds);
    }
}

/// The statement's operation (its first keyword: `SELECT`, `INSERT`, `WITH`, ...), from a fixed
/// list so that metrics labels stay few; anything else is `OTHER`.
pub fn operation(sql: &str) -> &'static str {
    const KNOWN: [&str; 22] = [
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "WITH",
        "CREATE",
        "DROP",
        "ALTER",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "VALUES",
        "TRUNCATE",
        "GRANT",
        "REVOKE",
        "EXPLAIN",
        "PRAGMA",
        "SET",
        "SHOW",
        "COPY",
    ];
    let word: String = skip_comments(sql)
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    KNOWN
        .iter()
        .find(|k| **k == word)
        .copied()
        .unwrap_or("OTHER")
}

fn skip_comments(mut sql: &str) -> &str {
    loop {
        sql = sql.trim_start();
        if let Some(rest) = sql.strip_prefix("--") {
            sql = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = sql.strip_prefix("/*") {
            sql = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return sql;
        }
    }
}

/// The statement with string and number literals replaced by `?` (quoted identifiers,
/// placeholders and comments kept), cut at 2,000 characters.
pub fn without_literals(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len().min(2048));
    let mut chars = sql.chars().peekable();
    let mut previous_is_word = false;
    while let Some(c) = chars.next() {
        if out.len() >= 2000 {
            out.push('…');
            break;
        }
        match c {
            '\'' => {
                // A string literal ('' inside is a quote).
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        Some('\'') | None => break,
                        Some(_) => {}
                    }
                }
                out.push('?');
                previous_is_word = false;
            }
            '$' | '?' | ':' | '@' => {
                // A placeholder: $1, ?1, :name, @name.
                out.push(c);
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        out.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                previous_is_word = true;
            }
            '0'..='9' if !previous_is_word => {
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '.' || next == '_' {
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push('?');
                previous_is_word = false;
            }
            '"' => {
                out.push(c);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == '"' {
                        break;
                    }
                }
                previous_is_word = true;
            }
            _ => {
                previous_is_word = c.is_alphanumeric() || c == '_';
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_become_placeholders() {
        assert_eq!(
            without_literals(
                "SELECT * FROM users WHERE name = 'o''brien' AND age > 30 AND t2.id = $1"
            ),
            "SELECT * FROM users WHERE name = ? AND age > ? AND t2.id = $1"
        );
        assert_eq!(
            without_literals("INSERT INTO \"T 1\" (a) VALUES (1.5e3, ?, :name)"),
            "INSERT INTO \"T 1\" (a) VALUES (?, ?, :name)"
        );
    }

    #[test]
    fn operations_are_a_fixed_set() {
        assert_eq!(operation("  select 1"), "SELECT");
        assert_eq!(
            operation("-- why\n/* x */ insert into t values (1)"),
            "INSERT"
        );
        assert_eq!(operation("VACUUM"), "OTHER");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;

    /// Statements cut and spliced at random char boundaries (a fixed seed) never panic the
    /// literal stripper or the operation reader.
    #[test]
    fn mutated_statements_never_panic() {
        let seeds = [
            "SELECT * FROM t WHERE a = 'x''y' AND b = 1.5e3 AND c = $1 -- note\n",
            "/* é */ insert into \"T\" values (?1, :name, @v, 'ü', 0x1F)",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..5000 {
            let mut chars: Vec<char> = seeds[round % 2].chars().collect();
            for _ in 0..3 {
                let at = (next() as usize) % (chars.len() + 1);
                let piece = ['\'', '"', '$', '?', '-', '/', '*', '9', 'é'][(next() % 9) as usize];
                chars.insert(at, piece);
            }
            let text: String = chars.into_iter().collect();
            let stripped = without_literals(&text);
            assert!(stripped.chars().count() <= text.chars().count() + 1);
            let _ = operation(&text);
        }
        let long = "'x".repeat(10_000);
        assert!(without_literals(&long).len() < 2100);
    }
}
