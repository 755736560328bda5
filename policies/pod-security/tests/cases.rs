//! Runs every fixture in `tests/cases/*.yaml` (format: `tests/README.md`)
//! natively: each case at each level it names, as written and, for Pods,
//! wrapped in a Deployment and a CronJob with the pointers shifted; then
//! checks fix closure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use counsel_policy::serde_json::{self, Map};
use counsel_policy::testing::{apply_fixes, check_object};
use counsel_policy::{Edit, Value, Verdict, Violation, json};
use pod_security::PodSecurity;
use serde::{Deserialize, Deserializer};

/// One case of a fixture file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default = "yes")]
    wrap: bool,
    object: Value,
    expect: Expect,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    baseline: Option<Vec<Expected>>,
    #[serde(default)]
    restricted: Option<Vec<Expected>>,
}

/// One expected violation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    rule: String,
    path: String,
    /// Absent key: no found value; `found: null` would be a JSON null.
    #[serde(default, deserialize_with = "present")]
    found: Option<Value>,
    fixes: Vec<Edit>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    hint: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// How a Pod case is run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wrapper {
    AsWritten,
    Deployment,
    CronJob,
}

impl Wrapper {
    /// Where the pod template (metadata + spec) lives in the wrapper.
    fn prefix(self) -> &'static str {
        match self {
            Wrapper::AsWritten => "",
            Wrapper::Deployment => "/spec/template",
            Wrapper::CronJob => "/spec/jobTemplate/spec/template",
        }
    }

    /// The Pod `pod` as this wrapper's object.
    fn wrap(self, pod: &Value) -> Value {
        let mut template = Map::new();
        for key in ["metadata", "spec"] {
            if let Some(value) = pod.get(key) {
                template.insert(key.to_owned(), value.clone());
            }
        }
        let name = pod
            .pointer("/metadata/name")
            .cloned()
            .unwrap_or(json!("case"));
        match self {
            Wrapper::AsWritten => pod.clone(),
            Wrapper::Deployment => json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                "spec": {"selector": {"matchLabels": {"app": "case"}}, "template": template},
            }),
            Wrapper::CronJob => json!({
                "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
                "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}},
            }),
        }
    }

    /// A pointer into the Pod, moved to the same place in the wrapper.
    fn shift(self, pointer: &str) -> String {
        assert!(
            pointer.starts_with("/spec") || pointer.starts_with("/metadata"),
            "a Pod case's pointer `{pointer}` is outside /spec and /metadata"
        );
        format!("{}{pointer}", self.prefix())
    }

    fn shift_expected(self, expected: &Expected) -> Expected {
        let mut shifted = expected.clone();
        shifted.path = self.shift(&expected.path);
        for fix in &mut shifted.fixes {
            *fix = match fix {
                Edit::Set { path, value } => Edit::set(self.shift(path), value.clone()),
                Edit::Remove { path } => Edit::remove(self.shift(path)),
            };
        }
        shifted
    }
}

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

/// What differs between the expected and the actual violations, if anything.
fn compare(expected: &[Expected], actual: &[Violation]) -> Option<String> {
    let mut diff = String::new();
    if expected.len() != actual.len() {
        let _ = writeln!(
            diff,
            "expected {} violations, got {}",
            expected.len(),
            actual.len()
        );
    }
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        let same = e.rule == a.rule
            && e.path == a.path
            && e.found == a.found
            && e.fixes == a.fixes
            && e.message.as_ref().is_none_or(|m| *m == a.message)
            && e.hint.as_ref().is_none_or(|h| Some(h) == a.hint.as_ref());
        if !same {
            let _ = writeln!(
                diff,
                "violation {i} differs:\n  expected {e:?}\n  got      {a:?}"
            );
        }
    }
    for a in actual.iter().skip(expected.len()) {
        let _ = writeln!(diff, "unexpected {a:?}");
    }
    for e in expected.iter().skip(actual.len()) {
        let _ = writeln!(diff, "missing {e:?}");
    }
    (!diff.is_empty()).then_some(diff)
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
            let is_pod = case.object.get("kind") == Some(&json!("Pod"));
            let wrappers: &[Wrapper] = if is_pod && case.wrap {
                &[Wrapper::AsWritten, Wrapper::Deployment, Wrapper::CronJob]
            } else {
                &[Wrapper::AsWritten]
            };
            let levels = [
                ("baseline", &case.expect.baseline),
                ("restricted", &case.expect.restricted),
            ];
            assert!(
                levels.iter().any(|(_, e)| e.is_some()),
                "{file_name}: case {:?} expects nothing at any level",
                case.name
            );
            for (level, expected) in levels {
                let Some(expected) = expected else { continue };
                let settings = settings(level, case.version.as_deref());
                for &wrapper in wrappers {
                    runs += 1;
                    let at = format!("{file_name}: {:?} at {level} as {wrapper:?}", case.name);
                    let object = wrapper.wrap(&case.object);
                    let expected: Vec<Expected> =
                        expected.iter().map(|e| wrapper.shift_expected(e)).collect();
                    let verdict = check_object::<PodSecurity>(&object, &settings);
                    if let Some(diff) = compare(&expected, &verdict.violations) {
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
        ALLOW_PRIVILEGE_ESCALATION,
        RUN_AS_NON_ROOT,
        RUN_AS_USER,
        RESTRICTED_VOLUMES,
    ];
    let mut seen: Vec<(String, String)> = Vec::new();
    for file in case_files() {
        for case in load(&file) {
            for (level, expected) in [
                ("baseline", &case.expect.baseline),
                ("restricted", &case.expect.restricted),
            ] {
                for e in expected.iter().flatten() {
                    seen.push((level.to_owned(), e.rule.clone()));
                }
            }
        }
    }
    for rule in catalog() {
        let levels: &[&str] = if restricted_only.contains(&rule.id) {
            &["restricted"]
        } else if rule.id == HOST_PATH_VOLUMES {
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
    assert!(!seen.contains(&("restricted".to_owned(), HOST_PATH_VOLUMES.to_owned())));
    for rule in restricted_only {
        assert!(
            !seen.contains(&("baseline".to_owned(), rule.to_owned())),
            "{rule} at baseline"
        );
    }
}
