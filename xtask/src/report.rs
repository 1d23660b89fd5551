//! Test counts per backend, read from nextest's JUnit report.
//!
//! JUnit is nextest's stable machine-readable output and lists every test that ran with its
//! outcome. The human-readable output changes between nextest versions, and `cargo nextest
//! list` cannot tell which tests passed.

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};

/// Backend a test belongs to, taken from the last segment of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Sqlite,
    Postgres,
    Other,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Sqlite, Group::Postgres, Group::Other];

    pub fn of(test_name: &str) -> Group {
        if test_name.ends_with("::sqlite") {
            Group::Sqlite
        } else if test_name.ends_with("::postgres") {
            Group::Postgres
        } else {
            Group::Other
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Group::Sqlite => "sqlite",
            Group::Postgres => "postgres",
            Group::Other => "other",
        })
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
}

impl Counts {
    pub fn run(&self) -> usize {
        self.passed + self.failed
    }
}

/// Results of one nextest run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TestResults {
    pub sqlite: Counts,
    pub postgres: Counts,
    pub other: Counts,
    /// Tests nextest skipped (ignored or filtered out), from the report's `skipped` attribute.
    pub skipped: usize,
    /// `binary test::name` of every failed test, in report order.
    pub failed_tests: Vec<String>,
}

impl TestResults {
    pub fn group(&self, group: Group) -> Counts {
        match group {
            Group::Sqlite => self.sqlite,
            Group::Postgres => self.postgres,
            Group::Other => self.other,
        }
    }

    fn group_mut(&mut self, group: Group) -> &mut Counts {
        match group {
            Group::Sqlite => &mut self.sqlite,
            Group::Postgres => &mut self.postgres,
            Group::Other => &mut self.other,
        }
    }

    pub fn total(&self) -> Counts {
        Counts {
            passed: self.sqlite.passed + self.postgres.passed + self.other.passed,
            failed: self.sqlite.failed + self.postgres.failed + self.other.failed,
        }
    }

    pub fn read(path: &Path) -> Result<TestResults> {
        let xml = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the JUnit report {}", path.display()))?;
        TestResults::parse(&xml)
            .with_context(|| format!("failed to parse the JUnit report {}", path.display()))
    }

    /// Counts `<testcase>` elements. A test case with a `<failure>` or `<error>` child failed.
    /// A flaky test that passed on retry has only `<flakyFailure>` children and counts as passed.
    pub fn parse(xml: &str) -> Result<TestResults> {
        let document = roxmltree::Document::parse(xml)?;
        let mut results = TestResults::default();

        let root = document.root_element();
        if let Some(skipped) = root.attribute("skipped") {
            results.skipped = skipped
                .parse()
                .with_context(|| format!("invalid skipped count `{skipped}`"))?;
        }

        for case in root
            .descendants()
            .filter(|node| node.has_tag_name("testcase"))
        {
            let name = case.attribute("name").unwrap_or_default();
            let failed = case
                .children()
                .any(|child| child.has_tag_name("failure") || child.has_tag_name("error"));
            let counts = results.group_mut(Group::of(name));
            if failed {
                counts.failed += 1;
                let binary = case.attribute("classname").unwrap_or_default();
                results.failed_tests.push(format!("{binary} {name}"));
            } else {
                counts.passed += 1;
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="5" skipped="2" failures="1" errors="1">
    <testsuite name="referee-conformance" tests="4">
        <testcase name="batches::accept::sqlite" classname="referee-conformance"/>
        <testcase name="batches::accept::postgres" classname="referee-conformance">
            <failure type="test failure">assertion failed</failure>
        </testcase>
        <testcase name="batches::race::postgres" classname="referee-conformance">
            <flakyFailure type="test failure">first attempt failed</flakyFailure>
        </testcase>
        <testcase name="openapi_matches_code" classname="referee-conformance"/>
    </testsuite>
    <testsuite name="referee-store" tests="1">
        <testcase name="tests::crash::sqlite" classname="referee-store">
            <error type="SIGSEGV">crashed</error>
        </testcase>
    </testsuite>
</testsuites>
"#;

    #[test]
    fn parse_counts_per_backend() {
        let results = TestResults::parse(REPORT).expect("valid report");

        assert_eq!(
            results.sqlite,
            Counts {
                passed: 1,
                failed: 1
            }
        );
        assert_eq!(
            results.postgres,
            Counts {
                passed: 1,
                failed: 1
            }
        );
        assert_eq!(
            results.other,
            Counts {
                passed: 1,
                failed: 0
            }
        );
        assert_eq!(
            results.total(),
            Counts {
                passed: 3,
                failed: 2
            }
        );
        assert_eq!(results.skipped, 2);
    }

    #[test]
    fn parse_lists_failed_tests() {
        let results = TestResults::parse(REPORT).expect("valid report");

        assert_eq!(
            results.failed_tests,
            [
                "referee-conformance batches::accept::postgres",
                "referee-store tests::crash::sqlite"
            ]
        );
    }

    #[test]
    fn parse_rejects_invalid_xml() {
        assert!(TestResults::parse("<testsuites>").is_err());
    }

    #[test]
    fn group_uses_last_segment_only() {
        assert_eq!(Group::of("sqlite::pool_size"), Group::Other);
        assert_eq!(Group::of("store::sqlite"), Group::Sqlite);
        assert_eq!(Group::of("store::postgres"), Group::Postgres);
        assert_eq!(Group::of("store::postgres_only"), Group::Other);
    }
}
