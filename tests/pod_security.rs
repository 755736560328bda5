//! The pod-security fixtures (`policies/pod-security/tests/cases`, format in
//! the README beside them) run against the bundled component through the real
//! engine: `builtin:pod-security` loaded from a configuration, each object
//! reviewed as `counsel check` reviews a manifest, the findings compared
//! exactly with what the fixtures expect, and fix closure checked with the
//! engine's own verdict on the fixed object. The native runner
//! (`policies/pod-security/tests/cases.rs`) replays the same files against
//! the policy compiled for the host.

pub mod fixtures;
use crate::support::policy_cache;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use counsel::config::{Config, Mode, Origin};
use counsel::engine::{Engine, EngineOptions};
use counsel::explain::{Finding, Outcome, Report};
use counsel::request::{Operation, Request};
use counsel::review::{Reviewer, Scope};
use serde_json::{Value, json};

use fixtures::{Case, Expected, Got, Wrapper, compare};

/// The configured name of the policy under test.
const POLICY: &str = "pod-security";

/// One engine, and one reviewer per (level, version): loading a reviewer
/// compiles the component, so each is loaded once and reused.
struct Reviewers {
    engine: Arc<Engine>,
    loaded: HashMap<(String, String), Reviewer>,
}

impl Reviewers {
    fn new() -> Reviewers {
        let engine = Engine::new(EngineOptions {
            cache_dir: Some(policy_cache::dir()),
            max_concurrent: 4,
            ..EngineOptions::default()
        })
        .expect("the engine starts");
        Reviewers {
            engine: Arc::new(engine),
            loaded: HashMap::new(),
        }
    }

    /// The reviewer running `builtin:pod-security` with these settings.
    fn get(&mut self, level: &str, version: &str) -> &Reviewer {
        let engine = &self.engine;
        self.loaded
            .entry((level.to_owned(), version.to_owned()))
            .or_insert_with(|| {
                let settings = json!({"level": level, "version": version});
                let yaml = format!(
                    "policies:\n  - name: {POLICY}\n    module: builtin:pod-security\n    settings: {settings}\n"
                );
                let config = Config::parse(&yaml, Origin::Builtin, Path::new("/"))
                    .unwrap_or_else(|err| panic!("configuration {yaml:?}: {err}"));
                Reviewer::load(&config, engine)
                    .unwrap_or_else(|err| panic!("loading pod-security with {settings}: {err}"))
            })
    }
}

/// Reviews `object` as a CREATE in namespace `default`; the report must show
/// that pod-security ran and did not fail.
fn review(reviewer: &Reviewer, object: &Value) -> Result<Report, String> {
    let request = Request::for_manifest(object.clone(), Operation::Create, Some("default"));
    let report = reviewer
        .review(&request, Scope::All, None)
        .map_err(|err| format!("review failed: {err}"))?;
    if !report.failures.is_empty() {
        return Err(format!("the policy failed: {:?}", report.failures));
    }
    let ran: Vec<(&str, Outcome)> = report
        .evaluations
        .iter()
        .map(|e| (e.policy.as_str(), e.outcome))
        .collect();
    let outcome = if report.findings.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Violations
    };
    if ran != [(POLICY, outcome)] {
        return Err(format!(
            "expected one evaluation of {POLICY} with outcome {outcome:?}, got {ran:?}"
        ));
    }
    Ok(report)
}

/// A finding in the fixtures' terms.
fn got(f: &Finding) -> Got<'_> {
    Got {
        rule: &f.rule,
        path: &f.pointer,
        found: f.found.as_ref(),
        fixes: &f.fixes,
        message: &f.message,
        hint: f.hint.as_deref(),
    }
}

/// What a finding must carry whatever the case: it is pod-security's, in
/// the default `enforce` mode, explained, and has a fix or a hint.
fn explained(f: &Finding) -> Option<String> {
    let problem = if f.policy != POLICY || f.mode != Mode::Enforce {
        "is not an enforced finding of pod-security"
    } else if f.title.is_empty() || f.why.is_empty() || f.message.is_empty() {
        "has an empty title, why or message"
    } else if f.fixes.is_empty() && f.hint.is_none() {
        "has neither fix nor hint"
    } else {
        return None;
    };
    Some(format!("{} at {} {problem}", f.rule, f.pointer))
}

/// How the runs went.
#[derive(Default)]
struct Tally {
    /// Objects reviewed as a fixture asks (wrappers included).
    runs: usize,
    /// Evaluations of pod-security the engine reported for them.
    evaluations: usize,
    passed: usize,
    /// Failing runs whose fixes, applied, gave an object the engine passes.
    closed: usize,
    /// Failing runs with a finding that has only a hint.
    hint_only: usize,
    /// `file: case at level` of the hint-only cases (as written).
    hint_only_cases: Vec<String>,
    failures: Vec<String>,
}

/// Applies every finding's fixes in order and reviews the result.
fn closure(reviewer: &Reviewer, object: &Value, report: &Report) -> Result<(), String> {
    let mut fixed = object.clone();
    for f in &report.findings {
        counsel_edit::apply(&mut fixed, &f.fixes).map_err(|err| {
            format!(
                "the fixes of {} at {} do not apply: {err}",
                f.rule, f.pointer
            )
        })?;
    }
    let after = review(reviewer, &fixed).map_err(|err| format!("the fixed object: {err}"))?;
    if after.findings.is_empty() {
        return Ok(());
    }
    let left: Vec<String> = after
        .findings
        .iter()
        .map(|f| format!("{:?}", got(f)))
        .collect();
    Err(format!(
        "applying the fixes leaves findings:\n  {}\nfixed object: {}",
        left.join("\n  "),
        serde_json::to_string_pretty(&fixed).unwrap_or_default()
    ))
}

/// Runs one case at one level in every wrapper.
fn run(
    tally: &mut Tally,
    reviewer: &Reviewer,
    at_case: &str,
    case: &Case,
    level: &str,
    expected: &[Expected],
) {
    for &wrapper in case.wrappers() {
        tally.runs += 1;
        let at = format!("{at_case} at {level} as {wrapper:?}");
        let expected: Result<Vec<Expected>, String> =
            expected.iter().map(|e| wrapper.shift(e)).collect();
        let expected = match expected {
            Ok(expected) => expected,
            Err(problem) => {
                tally.failures.push(format!("{at}: {problem}"));
                continue;
            }
        };
        let object = wrapper.wrap(&case.object);
        let report = match review(reviewer, &object) {
            Ok(report) => report,
            Err(problem) => {
                tally.failures.push(format!("{at}: {problem}"));
                continue;
            }
        };
        tally.evaluations += report.evaluations.len();
        let actual: Vec<Got<'_>> = report.findings.iter().map(got).collect();
        if let Some(diff) = compare(&expected, &actual) {
            tally.failures.push(format!("{at}:\n{diff}"));
            continue;
        }
        let unexplained: Vec<String> = report.findings.iter().filter_map(explained).collect();
        if !unexplained.is_empty() {
            tally
                .failures
                .push(format!("{at}: {}", unexplained.join("; ")));
            continue;
        }
        if report.findings.is_empty() {
            tally.passed += 1;
        } else if report.findings.iter().any(|f| f.fixes.is_empty()) {
            tally.hint_only += 1;
            if wrapper == Wrapper::AsWritten {
                tally.hint_only_cases.push(format!("{at_case} at {level}"));
            }
        } else {
            match closure(reviewer, &object, &report) {
                Ok(()) => tally.closed += 1,
                Err(problem) => tally.failures.push(format!("{at}: {problem}")),
            }
        }
    }
}

/// Every case of every fixture file, at every level it names and in every
/// wrapper, through the engine: exact findings, each explained with a fix
/// or a hint, and fix closure.
#[test]
fn fixtures_through_the_engine() {
    let mut reviewers = Reviewers::new();
    let mut tally = Tally::default();
    // What the fixtures imply, counted before anything runs.
    let mut planned = 0;
    let mut cases = 0;
    let files = fixtures::files();
    for file in &files {
        let file_name = file.file_name().unwrap_or_default().to_string_lossy();
        for case in fixtures::load(file) {
            cases += 1;
            let levels: Vec<_> = case.expect.levels().collect();
            assert!(
                !levels.is_empty(),
                "{file_name}: case {:?} expects nothing at any level",
                case.name
            );
            planned += levels.len() * case.wrappers().len();
            let version = case.version.as_deref().unwrap_or("latest");
            let at_case = format!("{file_name}: {:?}", case.name);
            for (level, expected) in levels {
                let reviewer = reviewers.get(level, version);
                run(&mut tally, reviewer, &at_case, &case, level, expected);
            }
        }
    }
    eprintln!(
        "pod-security through the engine: {} runs of {cases} cases in {} files \
         ({} reviewers), {} pass, {} fixed by closure, {} hint-only",
        tally.runs,
        files.len(),
        reviewers.loaded.len(),
        tally.passed,
        tally.closed,
        tally.hint_only
    );
    eprintln!("hint-only cases (no fix closure):");
    for case in &tally.hint_only_cases {
        eprintln!("  {case}");
    }
    assert!(
        tally.failures.is_empty(),
        "{} of {} runs through the engine failed:\n\n{}",
        tally.failures.len(),
        tally.runs,
        tally.failures.join("\n")
    );
    assert_eq!(tally.runs, planned, "runs made vs runs the fixtures imply");
    assert_eq!(
        tally.evaluations, planned,
        "pod-security evaluations the engine reported vs runs the fixtures imply"
    );
    assert_eq!(
        tally.passed + tally.closed + tally.hint_only,
        planned,
        "every run passes, closes under its fixes or is hint-only"
    );
    assert!(
        tally.passed > 0 && tally.closed > 0 && tally.hint_only > 0,
        "the fixtures have passing, fixable and hint-only cases"
    );
}
