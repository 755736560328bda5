//! `counsel check --output sarif|junit|github|markdown` on the fix corpus
//! (`tests/fix/`): exact output (golden files in `tests/outputs/`), SARIF
//! valid against the official schema, JUnit well-formed XML, and SARIF
//! `fixes` that, applied, make exactly what `--fix=all` makes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::fix::{copy, inputs};
use crate::support::cli::counsel;
use serde_json::Value;

const FORMATS: [(&str, &str); 4] = [
    ("sarif", "sarif"),
    ("junit", "junit.xml"),
    ("github", "github.txt"),
    ("markdown", "md"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The output of one format on one input, with the run's directory and the
/// version made placeholders.
fn output(name: &str, format: &str) -> (String, Output) {
    let dir = copy(name);
    let base = dir.path().to_str().expect("utf-8 path");
    let output = counsel(
        dir.path(),
        &["check", "-f", name, "-o", format, "--sarif-base", "."],
        None,
    );
    let text = String::from_utf8(output.stdout.clone())
        .expect("utf-8")
        .replace(&format!("file://{base}/"), "file:///BASE/")
        .replace(
            &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
            "\"version\": \"{version}\"",
        )
        .replace(
            &format!("\"semanticVersion\": \"{}\"", env!("CARGO_PKG_VERSION")),
            "\"semanticVersion\": \"{version}\"",
        );
    (text, output)
}

#[test]
fn every_format_gives_exactly_its_golden_output_on_the_corpus() {
    let bless = std::env::var_os("COUNSEL_BLESS").is_some();
    let mut differ = Vec::new();
    for name in inputs() {
        for (format, extension) in FORMATS {
            let (text, output) = output(&name, format);
            assert_eq!(output.status.code(), Some(1), "{name} {format}: {text}");
            let golden = root().join(format!("tests/outputs/{name}.{extension}"));
            if bless {
                std::fs::write(&golden, &text).expect("write golden");
                continue;
            }
            let expected = std::fs::read_to_string(&golden).unwrap_or_default();
            if text != expected {
                differ.push(format!("{}:\n{text}", golden.display()));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "outputs differ from their golden files:\n{}",
        differ.join("\n")
    );
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let text = std::fs::read_to_string(root().join("tests/outputs/sarif-schema-2.1.0.json"))
        .expect("schema");
    // The schema's one pattern that is not a regular expression (an
    // unbalanced `]` in `run.language`), as the OASIS errata correct it.
    let text = text.replace(
        "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let mut checked = 0;
    for name in inputs() {
        let (text, _) = output(&name, "sarif");
        let log: Value = serde_json::from_str(&text).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        assert_eq!(log["runs"][0]["columnKind"], "utf16CodeUnits");
        checked += log["runs"][0]["results"].as_array().map_or(0, Vec::len);
    }
    assert!(checked > 20, "the corpus has results ({checked})");
    // The schema catches what is wrong, too.
    let broken = serde_json::json!({"version": "2.1.0", "runs": [{"results": [{"level": "fatal", "message": {"text": "x"}}]}]});
    assert!(!validator.is_valid(&broken));
}

/// A (line, UTF-16 column) position of `text` as a byte offset.
fn offset(text: &str, line: u64, column: u64) -> usize {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n').expect("the line exists") + 1;
    }
    let mut units = 1;
    for (i, c) in text[start..].char_indices() {
        if units >= column {
            return start + i;
        }
        units += c.len_utf16() as u64;
    }
    text.len()
}

#[test]
fn sarif_fixes_applied_make_what_fix_all_makes() {
    for name in inputs() {
        let dir = copy(&name);
        let original = std::fs::read_to_string(dir.path().join(&name)).expect("input");
        let (text, _) = output(&name, "sarif");
        let log: Value = serde_json::from_str(&text).expect("SARIF is JSON");
        // Each distinct fix once (findings whose edits share lines share one).
        let mut replacements = BTreeSet::new();
        for result in log["runs"][0]["results"].as_array().expect("results") {
            for fix in result["fixes"].as_array().into_iter().flatten() {
                let change = &fix["artifactChanges"][0];
                assert_eq!(change["artifactLocation"]["uri"], name.as_str());
                for replacement in change["replacements"].as_array().expect("replacements") {
                    let region = &replacement["deletedRegion"];
                    let at = |line: &str, column: &str| {
                        offset(
                            &original,
                            region[line].as_u64().expect("line"),
                            region[column].as_u64().expect("column"),
                        )
                    };
                    replacements.insert((
                        at("startLine", "startColumn"),
                        at("endLine", "endColumn"),
                        replacement["insertedContent"]["text"]
                            .as_str()
                            .expect("text")
                            .to_owned(),
                    ));
                }
            }
        }
        let mut fixed = original.clone();
        let mut previous_start = usize::MAX;
        for (start, end, text) in replacements.into_iter().rev() {
            assert!(end <= previous_start, "{name}: fixes overlap");
            fixed.replace_range(start..end, &text);
            previous_start = start;
        }
        let output = counsel(dir.path(), &["check", "--fix=all", "-f", &name], None);
        assert!(output.status.code().is_some(), "{name}");
        let by_fix = std::fs::read_to_string(dir.path().join(&name)).expect("fixed file");
        assert_ne!(by_fix, original, "{name}: --fix=all changes the file");
        assert_eq!(fixed, by_fix, "{name}: SARIF fixes applied vs --fix=all");
    }
}

#[test]
fn junit_is_well_formed_xml_with_a_failure_per_enforced_violation() {
    for name in inputs() {
        let (text, _) = output(&name, "junit");
        let xml =
            roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        let (_, json) = output(&name, "json");
        let json: Value = serde_json::from_slice(&json.stdout).expect("JSON");
        let enforced = json["results"]
            .as_array()
            .expect("results")
            .iter()
            .flat_map(|r| r["violations"].as_array().expect("violations"))
            .filter(|v| v["mode"] == "enforce")
            .count();
        let failures = xml
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count();
        assert_eq!(failures, enforced, "{name}");
        // Counts are of test cases: those with a failure, or an error.
        for suite in xml.descendants().filter(|n| n.has_tag_name("testsuite")) {
            let count = |tag: Option<&str>| {
                suite
                    .children()
                    .filter(|case| case.has_tag_name("testcase"))
                    .filter(|case| {
                        tag.is_none_or(|tag| case.children().any(|n| n.has_tag_name(tag)))
                    })
                    .count()
                    .to_string()
            };
            assert_eq!(suite.attribute("tests"), Some(count(None).as_str()));
            assert_eq!(
                suite.attribute("failures"),
                Some(count(Some("failure")).as_str())
            );
            assert_eq!(
                suite.attribute("errors"),
                Some(count(Some("error")).as_str())
            );
        }
    }
}

#[test]
fn a_rendered_stream_on_standard_input_is_checked_and_fail_on_sets_the_exit_code() {
    // As `helm template chart | counsel check -f -` gives it: documents
    // with `# Source:` comments; positions are lines of the stream.
    let stream = "---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n---\n# Source: web/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n    - name: app\n      image: registry.example.com/web:1.0\n      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| counsel(dir.path(), args, Some(stream));
    let output = run(&["check", "-f", "-", "-o", "github"]);
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(output.status.code(), Some(0), "{text}");
    // Standard input has no file to name; the line is the stream's.
    assert!(
        text.contains("\n::warning line=16,col=7,endColumn=42,title=[workload-hygiene/image-digest] Pod shop/web::container \"app\" uses image \"registry.example.com/web:1.0\", pinned by tag but not by digest%0Awhy: "),
        "{text}"
    );
    assert!(
        text.ends_with("\ncounsel: 0 errors, 6 warnings, 0 notices in 2 objects\n"),
        "{text}"
    );
    assert_eq!(
        run(&["check", "-f", "-", "--fail-on", "warn"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&["check", "-f", "-", "--fail-on", "enforce"])
            .status
            .code(),
        Some(0)
    );
    let output = run(&["check", "-f", "-", "-o", "sarif"]);
    let log: Value = serde_json::from_slice(&output.stdout).expect("SARIF");
    let digest = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "workload-hygiene/image-digest")
        .expect("the image is reported");
    let location = &digest["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], Value::Null);
    assert_eq!(location["region"]["startLine"], 16);
    let output = run(&["check", "--fix", "--dry-run", "-f", "x.yaml", "-o", "sarif"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn markdown_stays_within_a_comment_and_counts_what_it_leaves_out() {
    let pod = |n: usize| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: web-{n}, namespace: shop}}\nspec:\n  containers:\n    - name: app\n      image: registry.example.com/web:1.0\n      securityContext: {{privileged: true}}\n---\n"
        )
    };
    let stream: String = (0..150).map(pod).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("many.yaml"), &stream).expect("write");
    let output = counsel(
        dir.path(),
        &["check", "-f", "many.yaml", "-o", "markdown"],
        None,
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(text.len() <= 60_000, "{}", text.len());
    assert!(
        text.starts_with(
            "## Counsel\n\n### `many.yaml`\n\n**error [pod-security/privileged]** (150): "
        ),
        "{}",
        &text[..300]
    );
    let last = text.lines().last().expect("a last line");
    let omitted: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(last.ends_with(" more findings are not shown (this summary is kept under 60000 characters): run `counsel check` to see every one."), "{last}");
    let shown = text.matches("\n- **Pod shop/web-").count();
    let counts = text
        .lines()
        .find(|line| line.starts_with("**") && line.contains(" errors, "))
        .expect("the counts");
    let total: usize = counts
        .trim_matches('*')
        .split(", ")
        .filter_map(|part| part.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(shown + omitted, total, "{last}");
}
