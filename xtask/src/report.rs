//! Test counts per backend, read from nextest's JUnit report, and the operation coverage of the
//! OpenAPI document, read from the file the conformance tests append to.
//!
//! JUnit is nextest's stable machine-readable output and lists every test that ran with its
//! outcome. The human-readable output changes between nextest versions, and `cargo nextest
//! list` cannot tell which tests passed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};

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

/// Which operations of the OpenAPI document the suite's replies exercised, read from the lines
/// `METHOD /path/template STATUS` that the conformance tests append to the coverage file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OperationCoverage {
    /// Number of operations in the document.
    pub operations: usize,
    /// Operations that no reply exercised, as `METHOD /path/template`.
    pub unexercised: Vec<String>,
    /// Operations exercised only by error replies, with the statuses seen.
    pub without_success: Vec<String>,
}

impl OperationCoverage {
    pub fn read(document_path: &Path, coverage_path: &Path) -> Result<OperationCoverage> {
        let document = std::fs::read_to_string(document_path)
            .with_context(|| format!("failed to read {}", document_path.display()))?;
        let document: serde_json::Value = serde_json::from_str(&document)
            .with_context(|| format!("{} is not valid JSON", document_path.display()))?;
        // A run whose tests sent no request at all leaves no file, which means no coverage.
        let recorded = match std::fs::read_to_string(coverage_path) {
            Ok(recorded) => recorded,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("failed to read {}", coverage_path.display()));
            }
        };
        OperationCoverage::compute(&document, &recorded)
            .with_context(|| format!("invalid coverage file {}", coverage_path.display()))
    }

    pub fn compute(document: &serde_json::Value, recorded: &str) -> Result<OperationCoverage> {
        let Some(paths) = document["paths"].as_object() else {
            bail!("the OpenAPI document has no `paths` object");
        };
        let mut statuses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (template, item) in paths {
            let Some(methods) = item.as_object() else {
                continue;
            };
            for method in methods
                .keys()
                .filter(|key| HTTP_METHODS.contains(&key.as_str()))
            {
                statuses.insert(
                    format!("{} {template}", method.to_uppercase()),
                    BTreeSet::new(),
                );
            }
        }

        for (number, line) in recorded.lines().enumerate() {
            let Some((operation, status)) = line.rsplit_once(' ') else {
                bail!("line {} is not `METHOD /path STATUS`: {line:?}", number + 1);
            };
            // An operation that is not in the document comes from a stale committed document,
            // which the suite's own OpenAPI test reports.
            if let Some(seen) = statuses.get_mut(operation) {
                seen.insert(status.to_owned());
            }
        }

        let mut coverage = OperationCoverage {
            operations: statuses.len(),
            ..OperationCoverage::default()
        };
        for (operation, seen) in statuses {
            if seen.is_empty() {
                coverage.unexercised.push(operation);
            } else if !seen.iter().any(|status| status.starts_with('2')) {
                let seen: Vec<String> = seen.into_iter().collect();
                coverage
                    .without_success
                    .push(format!("{operation} (only {})", seen.join(", ")));
            }
        }
        Ok(coverage)
    }

    pub fn complete(&self) -> bool {
        self.unexercised.is_empty() && self.without_success.is_empty()
    }
}

/// Keys of an OpenAPI path item that name operations.
const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"{"paths": {
        "/api/users/": {"get": {}, "post": {}, "parameters": []},
        "/api/users/{uuid}/": {"get": {}, "delete": {}}
    }}"#;

    fn coverage(recorded: &str) -> OperationCoverage {
        let document = serde_json::from_str(DOCUMENT).expect("valid document");
        OperationCoverage::compute(&document, recorded).expect("valid coverage")
    }

    #[test]
    fn coverage_lists_unexercised_operations() {
        let result = coverage("GET /api/users/ 200\nGET /api/users/ 401\n");

        assert_eq!(result.operations, 4);
        assert_eq!(
            result.unexercised,
            [
                "DELETE /api/users/{uuid}/",
                "GET /api/users/{uuid}/",
                "POST /api/users/"
            ]
        );
        assert!(result.without_success.is_empty());
        assert!(!result.complete());
    }

    #[test]
    fn coverage_lists_operations_without_success() {
        let result = coverage(
            "GET /api/users/ 200\nPOST /api/users/ 403\nPOST /api/users/ 400\n\
             GET /api/users/{uuid}/ 404\nGET /api/users/{uuid}/ 200\nDELETE /api/users/{uuid}/ 204\n",
        );

        assert!(result.unexercised.is_empty());
        assert_eq!(result.without_success, ["POST /api/users/ (only 400, 403)"]);
    }

    #[test]
    fn coverage_complete_and_ignores_unknown_operations() {
        let result = coverage(
            "GET /api/users/ 200\nPOST /api/users/ 201\nGET /api/users/{uuid}/ 200\n\
             DELETE /api/users/{uuid}/ 204\nGET /api/gone/ 200\n",
        );

        assert!(result.complete());
    }

    #[test]
    fn coverage_rejects_malformed_line() {
        let document = serde_json::from_str(DOCUMENT).expect("valid document");

        assert!(OperationCoverage::compute(&document, "GET\n").is_err());
    }

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
