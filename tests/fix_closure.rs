//! Fix closure over the bundled policies' own fixtures: every object is
//! reviewed by pod-security and by workload-hygiene (each on its own, as
//! enforced), all the fixes of its findings (suggestions too) are chosen
//! as `counsel check --fix=all` chooses them (`counsel::remedy::select`) and
//! applied with the one fix model, and the object is reviewed again by that policy. Every
//! violation with a machine fix must be gone, and every object a policy
//! denies only for fixable reasons must then pass it.
//!
//! Objects: the pod-security cases (`policies/pod-security/tests/cases`, at
//! each level they name, in every wrapper) and the manifests written in
//! workload-hygiene's tests (`policies/workload-hygiene/tests/policy.rs`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use counsel::config::{Config, Origin};
use counsel::engine::{Engine, EngineOptions};
use counsel::explain::{Finding, Report};
use counsel::request::{Operation, Request};
use counsel::review::{Reviewer, Scope};
use serde_json::Value;

use crate::pod_security::fixtures;
use crate::support::policy_cache;

/// Reviewers by (level, version), each running both bundled policies enforced.
struct Reviewers {
    engine: Arc<Engine>,
    loaded: HashMap<(String, String), Reviewer>,
}

impl Reviewers {
    fn get(&mut self, level: &str, version: &str) -> &Reviewer {
        let engine = &self.engine;
        self.loaded
            .entry((level.to_owned(), version.to_owned()))
            .or_insert_with(|| {
                let yaml = format!(
                    "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    settings: {{level: {level}, version: {version}}}\n  - name: workload-hygiene\n    module: builtin:workload-hygiene\n"
                );
                let config = Config::parse(&yaml, Origin::Builtin, Path::new("/"))
                    .unwrap_or_else(|err| panic!("configuration {yaml:?}: {err}"));
                Reviewer::load(&config, engine).expect("policies load")
            })
    }
}

fn review(reviewer: &Reviewer, policy: &str, object: &Value) -> Report {
    let request = Request::for_manifest(object.clone(), Operation::Create, Some("default"));
    let report = reviewer
        .review(&request, Scope::Policy(policy), None)
        .expect("review");
    assert!(
        report.failures.is_empty(),
        "a policy failed: {:?}",
        report.failures
    );
    report
}

/// What the measure counts, for one policy.
struct Closure {
    policy: &'static str,
    objects: usize,
    violations: usize,
    with_fixes: usize,
    /// Violations with fixes that are gone after fixing.
    gone: usize,
    denied: usize,
    denied_only_fixable: usize,
    /// Objects denied only for fixable reasons that pass after fixing.
    closed: usize,
    failures: Vec<String>,
}

fn key(finding: &Finding) -> (String, String, String) {
    (
        finding.policy.clone(),
        finding.rule.clone(),
        finding.pointer.clone(),
    )
}

impl Closure {
    fn new(policy: &'static str) -> Closure {
        Closure {
            policy,
            objects: 0,
            violations: 0,
            with_fixes: 0,
            gone: 0,
            denied: 0,
            denied_only_fixable: 0,
            closed: 0,
            failures: Vec::new(),
        }
    }

    fn print(&self) {
        eprintln!(
            "fix closure of {} over {} objects: {} violations, {} with machine fixes, {} of them gone after fixing ({}); \
             {} objects denied, {} only for fixable reasons, {} of those pass after fixing ({})",
            self.policy,
            self.objects,
            self.violations,
            self.with_fixes,
            self.gone,
            percent(self.gone, self.with_fixes),
            self.denied,
            self.denied_only_fixable,
            self.closed,
            percent(self.closed, self.denied_only_fixable),
        );
    }

    fn assert_complete(&self) {
        assert!(
            self.failures.is_empty(),
            "fix closure of {} is not complete:\n{}",
            self.policy,
            self.failures.join("\n")
        );
        assert_eq!(self.gone, self.with_fixes, "{}", self.policy);
        assert_eq!(self.closed, self.denied_only_fixable, "{}", self.policy);
    }

    fn measure(&mut self, reviewer: &Reviewer, at: &str, object: &Value) {
        self.objects += 1;
        let report = review(reviewer, self.policy, object);
        if report.findings.is_empty() {
            return;
        }
        self.denied += 1;
        self.violations += report.findings.len();
        let selection = counsel::remedy::select(
            &report.findings,
            Some(object),
            counsel::remedy::FixScope::All,
        );
        if !selection.conflicts.is_empty() {
            let conflicts: Vec<String> = selection
                .conflicts
                .iter()
                .map(ToString::to_string)
                .collect();
            self.failures
                .push(format!("{at}: {}", conflicts.join("; ")));
        }
        let mut fixed = object.clone();
        if let Err(error) = counsel_edit::apply(&mut fixed, &selection.edits) {
            self.failures
                .push(format!("{at}: the fixes do not apply: {error}"));
            return;
        }
        let after = review(reviewer, self.policy, &fixed);
        let left: Vec<_> = after.findings.iter().map(key).collect();
        for finding in report.findings.iter().filter(|f| !f.fixes.is_empty()) {
            self.with_fixes += 1;
            if left.contains(&key(finding)) {
                self.failures.push(format!(
                    "{at}: [{}/{}] at {} is still there after its fixes {:?}",
                    finding.policy, finding.rule, finding.pointer, finding.fixes
                ));
            } else {
                self.gone += 1;
            }
        }
        if report.findings.iter().all(|f| !f.fixes.is_empty()) {
            self.denied_only_fixable += 1;
            if after.findings.is_empty() {
                self.closed += 1;
            } else {
                let left: Vec<String> = after
                    .findings
                    .iter()
                    .map(|f| format!("{}/{} at {}", f.policy, f.rule, f.pointer))
                    .collect();
                self.failures.push(format!(
                    "{at}: still denied after fixing: {}",
                    left.join(", ")
                ));
            }
        }
    }
}

/// The manifests (`r#"..."#` strings holding `kind:`) of workload-hygiene's tests.
fn hygiene_manifests() -> Vec<Value> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/workload-hygiene/tests/policy.rs");
    let source = std::fs::read_to_string(&path).expect("workload-hygiene tests");
    let mut found = Vec::new();
    for piece in source.split("r#\"").skip(1) {
        let Some((text, _)) = piece.split_once("\"#") else {
            continue;
        };
        if !text.contains("kind:") {
            continue;
        }
        for document in counsel::source::parse(text).expect("the test manifests parse") {
            if document.value.get("kind").is_some() {
                found.push(document.value);
            }
        }
    }
    found
}

/// `97.5 %`, or `none to fix` when there is nothing to count.
fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "none to fix".to_owned()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

#[test]
fn fix_closure_of_the_bundled_policies_is_complete() {
    let engine = Engine::new(EngineOptions {
        cache_dir: Some(policy_cache::dir()),
        max_concurrent: 4,
        ..EngineOptions::default()
    })
    .expect("the engine starts");
    let mut reviewers = Reviewers {
        engine: Arc::new(engine),
        loaded: HashMap::new(),
    };
    let mut closures = [
        Closure::new("pod-security"),
        Closure::new("workload-hygiene"),
    ];
    for file in fixtures::files() {
        let file_name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for case in fixtures::load(&file) {
            let version = case.version.clone().unwrap_or_else(|| "latest".to_owned());
            let levels: Vec<&str> = case.expect.levels().map(|(level, _)| level).collect();
            for level in levels {
                for &wrapper in case.wrappers() {
                    let at = format!("{file_name}: {:?} at {level} as {wrapper:?}", case.name);
                    let object = wrapper.wrap(&case.object);
                    let reviewer = reviewers.get(level, &version);
                    for closure in &mut closures {
                        closure.measure(reviewer, &at, &object);
                    }
                }
            }
        }
    }
    let manifests = hygiene_manifests();
    assert!(
        manifests.len() >= 3,
        "workload-hygiene's manifests are found: {}",
        manifests.len()
    );
    for (i, object) in manifests.iter().enumerate() {
        let at = format!("workload-hygiene manifest #{i} ({})", object["kind"]);
        let reviewer = reviewers.get("restricted", "latest");
        for closure in &mut closures {
            closure.measure(reviewer, &at, object);
        }
    }
    for closure in &closures {
        closure.print();
    }
    for closure in &closures {
        closure.assert_complete();
    }
    let [pod_security, hygiene] = &closures;
    assert!(
        pod_security.with_fixes > 100 && pod_security.denied_only_fixable > 20,
        "the measure covers real cases of pod-security"
    );
    assert!(
        hygiene.with_fixes > 0,
        "workload-hygiene's fixes are measured too"
    );
}
