//! Runs every fixture in `tests/cases/*.yaml` (format: `tests/README.md`)
//! natively: each case at each level it names, as written and, for Pods,
//! wrapped in a Deployment and a CronJob with the pointers shifted; then
//! checks fix closure.

use std::path::{Path, PathBuf};

use counsel_policy::serde_json;
use counsel_policy::testing::{apply_fixes, check_object};
use counsel_policy::{Value, Verdict, Violation, json};
use pod_security::PodSecurity;

mod fixture;

use fixture::{Case, Expected, Got, Wrapper, compare};

fn case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not a fixture file: {err}", path.display()))
}

fn settings(level: &str, version: Option<&str>) -> String {
    json!({"level": level, "version": version.unwrap_or("latest")}).to_string()
}

/// A violation in the fixtures' terms.
fn got(v: &Violation) -> Got<'_> {
    Got {
        rule: &v.rule,
        path: &v.path,
        found: v.found.as_ref(),
        fixes: &v.fixes,
        message: &v.message,
        hint: v.hint.as_deref(),
    }
}

/// Every case, at every level it names, in every wrapper: exact violations,
/// every violation has a fix or a hint, and fix closure.
#[test]
fn fixtures() {
    let mut failures = Vec::new();
    let mut hint_only = Vec::new();
    let mut runs = 0;
    for file in case_files() {
        let file_name = file.file_name().map(|f| f.to_string_lossy().into_owned());
        let file_name = file_name.unwrap_or_default();
        for case in load(&file) {
            assert!(
                case.expect.levels().next().is_some(),
                "{file_name}: case {:?} expects nothing at any level",
                case.name
            );
            for (level, expected) in case.expect.levels() {
                let settings = settings(level, case.version.as_deref());
                for &wrapper in case.wrappers() {
                    runs += 1;
                    let at = format!("{file_name}: {:?} at {level} as {wrapper:?}", case.name);
                    let object = wrapper.wrap(&case.object);
                    let expected: Vec<Expected> = expected
                        .iter()
                        .map(|e| wrapper.shift(e).unwrap_or_else(|err| panic!("{at}: {err}")))
                        .collect();
                    let verdict = check_object::<PodSecurity>(&object, &settings);
                    let actual: Vec<Got<'_>> = verdict.violations.iter().map(got).collect();
                    if let Some(diff) = compare(&expected, &actual) {
                        failures.push(format!("{at}:\n{diff}"));
                        continue;
                    }
                    for v in &verdict.violations {
                        if v.fixes.is_empty() && v.hint.is_none() {
                            failures.push(format!(
                                "{at}: {} at {} has neither fix nor hint",
                                v.rule, v.path
                            ));
                        }
                    }
                    if let Some(problem) = closure(&object, &verdict, &settings) {
                        failures.push(format!("{at}: {problem}"));
                    }
                    if wrapper == Wrapper::AsWritten
                        && verdict.violations.iter().any(|v| v.fixes.is_empty())
                    {
                        hint_only.push(format!("{file_name}: {:?} at {level}", case.name));
                    }
                }
            }
        }
    }
    eprintln!("{runs} fixture runs; hint-only (no fix-closure check):");
    for case in &hint_only {
        eprintln!("  {case}");
    }
    assert!(
        failures.is_empty(),
        "{} fixture runs failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(runs > 0, "no fixture ran");
}

/// When every violation has a machine fix, applying them all must pass.
fn closure(object: &Value, verdict: &Verdict, settings: &str) -> Option<String> {
    if verdict.violations.is_empty() || verdict.violations.iter().any(|v| v.fixes.is_empty()) {
        return None;
    }
    let fixed = apply_fixes(object, verdict);
    let after = check_object::<PodSecurity>(&fixed, settings);
    (!after.violations.is_empty()).then(|| {
        format!(
            "applying the fixes leaves violations: {:?}\nfixed object: {}",
            after.violations,
            serde_json::to_string_pretty(&fixed).unwrap_or_default()
        )
    })
}

/// Every rule of the catalog fails in some case at each level it applies at
/// (`host-path-volumes` is replaced by `restricted-volumes` at restricted, and
/// the restricted-only rules never apply at baseline).
#[test]
fn every_rule_fails_somewhere_at_each_level() {
    use pod_security::rules::*;
    let restricted_only = [
        ALLOW_PRIVILEGE_ESCALATION.id,
        RUN_AS_NON_ROOT.id,
        RUN_AS_USER.id,
        RESTRICTED_VOLUMES.id,
    ];
    let mut seen: Vec<(String, String)> = Vec::new();
    for file in case_files() {
        for case in load(&file) {
            for (level, expected) in case.expect.levels() {
                for e in expected {
                    seen.push((level.to_owned(), e.rule.clone()));
                }
            }
        }
    }
    for rule in catalog() {
        let levels: &[&str] = if restricted_only.contains(&rule.id) {
            &["restricted"]
        } else if rule.id == HOST_PATH_VOLUMES.id {
            &["baseline"]
        } else {
            &["baseline", "restricted"]
        };
        for level in levels {
            assert!(
                seen.contains(&((*level).to_owned(), rule.id.to_owned())),
                "no fixture shows `{}` failing at {level}",
                rule.id
            );
        }
    }
    // And the replaced or restricted-only rules never show at the other level.
    assert!(!seen.contains(&("restricted".to_owned(), HOST_PATH_VOLUMES.id.to_owned())));
    for rule in restricted_only {
        assert!(
            !seen.contains(&("baseline".to_owned(), rule.to_owned())),
            "{rule} at baseline"
        );
    }
}
