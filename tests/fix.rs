//! `counsel check --fix` on a corpus of messy manifests (`tests/fix/`): the
//! real binary with the bundled policies rewrites each file (`--fix=all`,
//! so that suggestions are made too and every kind of edit is exercised;
//! what plain `--fix` leaves is tested at the end), and the result
//! must be exactly its golden file (`NAME.fixed.EXT`), change only lines
//! where a fix applies, stay put on a second run, and pass `counsel check`
//! except for what the table below says is left for a person.

use std::path::{Path, PathBuf};
use std::process::Command;

use counsel::source;
use serde_json::Value;

use crate::support::cli::{counsel, text};
use crate::support::policy_cache;

/// Enforced rules still broken after fixing, by object name.
type Left = &'static [(&'static str, &'static [&'static str])];

/// Per input file: the enforced rules still broken after fixing, by object
/// name (hint-only rules, and fixes the editor leaves alone).
const LEFT_FOR_A_PERSON: &[(&str, Left)] = &[
    (
        "anchors.yaml",
        &[(
            "workers",
            &[
                "privileged",
                "privileged",
                "allow-privilege-escalation",
                "allow-privilege-escalation",
                "capabilities",
                "capabilities",
            ],
        )],
    ),
    ("multi.yaml", &[("nightly", &["run-as-user"])]),
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fix")
}

/// The corpus inputs, by name.
pub(crate) fn inputs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .expect("tests/fix")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            !name.contains(".fixed.") && (name.ends_with(".yaml") || name.ends_with(".json"))
        })
        .collect();
    names.sort();
    names
}

fn golden(name: &str) -> String {
    let (stem, extension) = name.rsplit_once('.').expect("an extension");
    std::fs::read_to_string(corpus().join(format!("{stem}.fixed.{extension}")))
        .expect("golden file")
}

/// A temporary directory holding a copy of the input.
pub(crate) fn copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(corpus().join(name), dir.path().join(name)).expect("copy");
    dir
}

#[test]
fn every_file_is_fixed_exactly_as_its_golden_file_and_a_second_run_changes_nothing() {
    let names = inputs();
    assert!(names.len() >= 7, "the corpus is there: {names:?}");
    for name in &names {
        let dir = copy(name);
        let path = dir.path().join(name);
        let first = counsel(dir.path(), &["check", "--fix=all", "-f", name], None);
        let report = text(&first.stdout);
        let fixed = std::fs::read_to_string(&path).expect("read back");
        assert_eq!(fixed, golden(name), "{name}: the fixed text\n{report}");
        assert!(
            report.contains(&format!("fixed: {name}: ")),
            "{name}: says what it fixed:\n{report}"
        );
        if name == "comments.yaml" {
            assert!(
                report.starts_with(
                    "fixed: comments.yaml: 9 violations ([pod-security/host-namespaces], [pod-security/privileged], \
                     [pod-security/allow-privilege-escalation] ×2, [pod-security/capabilities] ×3, \
                     [pod-security/run-as-non-root], [pod-security/seccomp])\n"
                ),
                "{report}"
            );
        }
        let second = counsel(dir.path(), &["check", "--fix=all", "-f", name], None);
        let again = text(&second.stdout);
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            fixed,
            "{name}: idempotent"
        );
        assert!(
            again.contains("\nfixed 0 violations in 0 files;"),
            "{name}: the second run fixes nothing:\n{again}"
        );
        assert_eq!(first.status.code(), second.status.code(), "{name}");
    }
}

#[test]
fn every_fixed_object_passes_except_what_is_left_for_a_person() {
    for name in inputs() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(&name), golden(&name)).expect("write");
        let output = counsel(dir.path(), &["check", "-o", "json", "-f", &name], None);
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(report["errors"], serde_json::json!([]), "{name}");
        let expected: &[(&str, &[&str])] = LEFT_FOR_A_PERSON
            .iter()
            .find(|(file, _)| *file == name)
            .map_or(&[], |(_, left)| left);
        let results = report["results"].as_array().expect("results");
        assert!(!results.is_empty(), "{name}");
        for result in results {
            let object = result["name"].as_str().expect("name");
            let left: Vec<&str> = result["violations"]
                .as_array()
                .expect("violations")
                .iter()
                .filter(|v| v["mode"] == "enforce")
                .map(|v| v["rule"].as_str().expect("rule"))
                .collect();
            let wanted = expected
                .iter()
                .find(|(o, _)| *o == object)
                .map_or(&[][..], |(_, rules)| rules);
            assert_eq!(left, wanted, "{name}: {object} after fixing");
            assert_eq!(result["allowed"], wanted.is_empty(), "{name}: {object}");
        }
        let fully_fixed = expected.is_empty();
        assert_eq!(
            output.status.code(),
            Some(if fully_fixed { 0 } else { 1 }),
            "{name}"
        );
    }
}

/// The lines each fix may touch in the original: the field's own lines; for
/// a field that is missing, the last line or two of its nearest written
/// parent (new lines go after its last entry, and JSON adds a comma there);
/// and the line of the parent's key (`key: {}` when the last member goes).
fn allowed_lines(findings: &Value, documents: &[source::Document]) -> Vec<(usize, usize)> {
    let mut regions = Vec::new();
    let mut items_seen = std::collections::HashMap::new();
    for result in findings["results"].as_array().expect("results") {
        let index = result["document"].as_u64().expect("document") as usize;
        // `document` counts documents without content too, as the stream does.
        let document = documents
            .iter()
            .find(|document| document.index == index)
            .expect("the document");
        let prefix = if document.value["kind"]
            .as_str()
            .is_some_and(|k| k.ends_with("List"))
        {
            let item = items_seen.entry(index).or_insert(0);
            *item += 1;
            format!("/items/{}", *item - 1)
        } else {
            String::new()
        };
        for violation in result["violations"].as_array().expect("violations") {
            for edit in violation["fixes"].as_array().expect("fixes") {
                let pointer = format!("{prefix}{}", edit["path"].as_str().expect("path"));
                let located = document.locate(&pointer);
                let node = located.node;
                let first = node.key.or(node.dash).unwrap_or(node.value).start.line;
                let last = node.value.end.line;
                if located.exact {
                    regions.push((first, last));
                } else {
                    regions.push((first.max(last.saturating_sub(1)), last));
                }
                if let Some((parent, _)) = counsel_edit::pointer::parent(&located.pointer)
                    && let Some(parent) = document.node(parent)
                {
                    let line = parent.key.unwrap_or(parent.value).start.line;
                    regions.push((line, line));
                }
            }
        }
    }
    regions
}

#[test]
fn the_dry_run_diff_is_the_change_and_touches_only_fixed_fields() {
    for name in inputs() {
        let dir = copy(&name);
        let original = std::fs::read_to_string(dir.path().join(&name)).expect("read");
        let output = counsel(
            dir.path(),
            &["check", "--fix=all", "--dry-run", "-o", "json", "-f", &name],
            None,
        );
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(&name)).expect("read"),
            original,
            "{name}: a dry run changes nothing"
        );
        let diff = report["fix"]["files"][0]["diff"].as_str().expect("a diff");
        let expected = similar::TextDiff::from_lines(&original, golden(&name).as_str())
            .unified_diff()
            .context_radius(3)
            .header(&name, &format!("{name} (fixed)"))
            .to_string();
        assert_eq!(diff, expected, "{name}: the diff is the change --fix makes");
        // Where the change is, line by line, against where the fixes are.
        let findings = counsel(dir.path(), &["check", "-o", "json", "-f", &name], None);
        let findings: Value = serde_json::from_slice(&findings.stdout).expect("JSON");
        let documents = source::parse(&original).expect("parses");
        let regions = allowed_lines(&findings, &documents);
        let inside = |line: usize| {
            regions
                .iter()
                .any(|&(first, last)| first <= line && line <= last)
        };
        for op in similar::TextDiff::from_lines(&original, golden(&name).as_str()).ops() {
            let (tag, old) = (op.tag(), op.old_range());
            match tag {
                similar::DiffTag::Equal => {}
                similar::DiffTag::Insert => {
                    // Lines inserted after line `old.start` (1-based) of the original.
                    assert!(
                        inside(old.start) || inside(old.start + 1),
                        "{name}: lines inserted after line {} where no fix applies",
                        old.start
                    );
                }
                similar::DiffTag::Delete | similar::DiffTag::Replace => {
                    for line in old.start + 1..=old.end {
                        assert!(
                            inside(line),
                            "{name}: line {line} changed where no fix applies"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn standard_input_cannot_be_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = counsel(dir.path(), &["check", "--fix", "-f", "-"], None);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: --fix rewrites files in place, so it cannot fix standard input (-); save the manifest to a file and run counsel check --fix -f FILE\n"
    );
    let output = counsel(dir.path(), &["check", "--dry-run", "-f", "x.yaml"], None);
    assert_eq!(output.status.code(), Some(2), "--dry-run needs --fix");
}

#[test]
fn a_broken_file_is_left_alone_and_permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = copy("pod.json");
    let broken = "apiVersion: v1\nkind: Pod\nspec: {containers: [\n";
    std::fs::write(dir.path().join("broken.yaml"), broken).expect("write");
    let pod = dir.path().join("pod.json");
    std::fs::set_permissions(&pod, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let output = counsel(
        dir.path(),
        &["check", "--fix=all", "-f", "broken.yaml", "pod.json"],
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "an input could not be checked"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("broken.yaml")).expect("read"),
        broken
    );
    assert_eq!(
        std::fs::read_to_string(&pod).expect("read"),
        golden("pod.json")
    );
    let mode = std::fs::metadata(&pod).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".counsel-fix-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
    let report = text(&output.stdout);
    // Files are reported in order: the broken one first, then what was fixed.
    assert!(
        report.contains(
            "\nfixed: pod.json: 6 violations ([pod-security/host-namespaces], [pod-security/privileged], \
             [pod-security/allow-privilege-escalation], [pod-security/capabilities], \
             [pod-security/run-as-non-root], [pod-security/seccomp])\n"
        ),
        "{report}"
    );
    assert!(report.contains("  --> broken.yaml:4:1"), "{report}");
}

#[test]
fn fixes_that_disagree_are_not_applied_and_the_conflict_is_named() {
    let config = "policies:\n  - name: baseline\n    module: builtin:pod-security\n    settings: {level: baseline}\n  - name: restricted\n    module: builtin:pod-security\n    settings: {level: restricted}\n";
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: caps, namespace: shop}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n    - name: app\n      image: registry.example.com/app:1.0\n      securityContext:\n        allowPrivilegeEscalation: false\n        capabilities:\n          drop: [ALL]\n          add: [SYS_ADMIN, CHOWN]\n";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("counsel.yaml"), config).expect("write");
    std::fs::write(dir.path().join("pod.yaml"), pod).expect("write");
    let output = counsel(
        dir.path(),
        &["check", "--fix=all", "-c", "counsel.yaml", "-f", "pod.yaml"],
        None,
    );
    let report = text(&output.stdout);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).expect("read"),
        pod
    );
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.starts_with(
            "warning: Pod shop/caps: fixes disagree about spec.containers[0].securityContext.capabilities.add: \
             [baseline/capabilities] wants to set spec.containers[0].securityContext.capabilities.add: [\"CHOWN\"], \
             [restricted/capabilities] wants to remove spec.containers[0].securityContext.capabilities.add; none of them is applied\n  --> pod.yaml:1\n"
        ),
        "{report}"
    );
    assert!(
        report.ends_with("fixed 0 violations in 0 files; 3 need a person\n"),
        "{report}"
    );
}

#[test]
fn fix_mode_findings_are_warnings_that_check_fix_applies() {
    let config = "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    settings: {level: baseline}\n    mode: fix\n";
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n    - name: app\n      image: registry.example.com/app:1.0\n      securityContext: {privileged: true}\n";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("counsel.yaml"), config).expect("write");
    std::fs::write(dir.path().join("pod.yaml"), pod).expect("write");
    let output = counsel(
        dir.path(),
        &["check", "-c", "counsel.yaml", "-f", "pod.yaml"],
        None,
    );
    let report = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "fix mode does not deny: {report}"
    );
    assert!(
        report.starts_with(
            "warning[pod-security/privileged]: Pod shop/p: container \"app\" runs privileged\n"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "   = fix: set spec.containers[0].securityContext.privileged: false (fix mode: the webhook makes this change on admission; counsel check --fix makes it here)\n"
        ),
        "{report}"
    );
    let output = counsel(
        dir.path(),
        &["check", "--fix", "-c", "counsel.yaml", "-f", "pod.yaml"],
        None,
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).expect("read"),
        pod.replace("{privileged: true}", "{privileged: false}")
    );
    assert!(
        text(&output.stdout).ends_with(
            "0 errors, 0 warnings in 1 object\nfixed 1 violation in 1 file; 0 need a person\n"
        ),
        "{}",
        text(&output.stdout)
    );
}

/// Clears the immutable attribute on drop, so the directory can be removed.
struct Immutable(PathBuf);

impl Immutable {
    /// Makes `dir` immutable (nothing can be created or renamed in it, even
    /// by root); `None` where the file system does not support that.
    fn set(dir: &Path) -> Option<Immutable> {
        let status = Command::new("chattr").arg("+i").arg(dir).output().ok()?;
        status
            .status
            .success()
            .then(|| Immutable(dir.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).output();
    }
}

#[test]
fn a_file_that_cannot_be_written_is_reported_and_left_as_it_was() {
    let dir = copy("pod.json");
    let original = std::fs::read_to_string(dir.path().join("pod.json")).expect("read");
    let Some(_guard) = Immutable::set(dir.path()) else {
        eprintln!("chattr +i is not available here; the write failure is not exercised");
        return;
    };
    let output = counsel(dir.path(), &["check", "--fix=all", "-f", "pod.json"], None);
    let report = text(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.json")).expect("read"),
        original
    );
    let canonical = std::fs::canonicalize(dir.path()).expect("canonical");
    assert!(
        report.starts_with(&format!(
            "error: cannot write the fixed file, left as it was: cannot create a temporary file in {}: ",
            canonical.display()
        )),
        "{report}"
    );
    assert!(
        report.ends_with("fixed 0 violations in 0 files; 12 need a person\n"),
        "{report}"
    );
}

#[test]
fn the_fixed_file_keeps_its_owner_and_group() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = copy("pod.json");
    let pod = dir.path().join("pod.json");
    // Only root can give a file away; elsewhere there is nothing to keep.
    if std::os::unix::fs::chown(&pod, Some(4321), Some(4322)).is_err() {
        eprintln!("not root: the owner cannot be changed, so keeping it is not exercised");
        return;
    }
    let output = counsel(dir.path(), &["check", "--fix=all", "-f", "pod.json"], None);
    assert_eq!(
        std::fs::read_to_string(&pod).expect("read"),
        golden("pod.json"),
        "{}",
        text(&output.stdout)
    );
    let metadata = std::fs::metadata(&pod).expect("stat");
    assert_eq!((metadata.uid(), metadata.gid()), (4321, 4322));
}

#[test]
fn a_file_changed_while_it_is_fixed_keeps_the_change() {
    // Enough objects that reviewing them takes far longer than this test
    // takes to write the file once counsel has read it.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME}\nspec:\n  containers:\n    - name: app\n      image: registry.example.com/app:1.0\n      securityContext: {privileged: true}\n";
    let original: Vec<String> = (0..400)
        .map(|i| pod.replace("NAME", &format!("p{i}")))
        .collect();
    let original = original.join("---\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pods.yaml");
    std::fs::write(&path, &original).expect("write");
    let watch = CloseWatch::new(&path);
    let child = Command::new(env!("CARGO_BIN_EXE_counsel"))
        .args(["check", "--fix", "-f", "pods.yaml"])
        .current_dir(dir.path())
        .env("COUNSEL_CACHE_DIR", policy_cache::dir())
        .env_remove("COUNSEL_CONFIG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("counsel runs");
    // Counsel has read the file (and closed it): another program writes it.
    watch.wait();
    let theirs = format!("# edited meanwhile\n{original}");
    std::fs::write(&path, &theirs).expect("write");
    let output = child.wait_with_output().expect("counsel finishes");
    let report = text(&output.stdout);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), theirs);
    assert!(
        report.contains(
            "error: cannot write the fixed file, left as it was: it changed while counsel was fixing it (another program wrote it); its new content is kept: run counsel check --fix again\n  --> pods.yaml\n"
        ),
        "{report}"
    );
    assert!(
        report.contains("\nfixed 0 violations in 0 files; "),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(2));
}

/// Waits for a file to be closed after reading (inotify `IN_CLOSE_NOWRITE`).
struct CloseWatch(std::os::fd::OwnedFd);

// std has no inotify; the libc calls are unsafe: see the SAFETY comments.
#[allow(unsafe_code)]
impl CloseWatch {
    fn new(path: &Path) -> CloseWatch {
        use std::os::fd::FromRawFd as _;
        use std::os::unix::ffi::OsStrExt as _;
        let name = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("a path");
        // SAFETY: plain system calls on a descriptor this struct owns.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_CLOEXEC);
            assert!(fd >= 0, "inotify_init1");
            let watch = libc::inotify_add_watch(fd, name.as_ptr(), libc::IN_CLOSE_NOWRITE);
            assert!(watch >= 0, "inotify_add_watch");
            CloseWatch(std::os::fd::OwnedFd::from_raw_fd(fd))
        }
    }

    fn wait(&self) {
        use std::os::fd::AsRawFd as _;
        let mut buffer = [0u8; 4096];
        // SAFETY: reads into a buffer of the length given.
        let read =
            unsafe { libc::read(self.0.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
        assert!(read > 0, "an inotify event");
    }
}

#[test]
fn a_utf16_file_is_fixed_and_stays_utf16() {
    let dir = copy("comments.yaml");
    let source = std::fs::read_to_string(dir.path().join("comments.yaml")).expect("read");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(source.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(dir.path().join("comments.yaml"), &bytes).expect("write");
    let output = counsel(
        dir.path(),
        &["check", "--fix=all", "-f", "comments.yaml"],
        None,
    );
    let fixed = std::fs::read(dir.path().join("comments.yaml")).expect("read");
    let mut expected = vec![0xFF, 0xFE];
    expected.extend(
        golden("comments.yaml")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    assert!(fixed == expected, "{}", text(&output.stdout));
}

#[test]
fn fix_makes_only_safe_fixes_unless_asked_for_all() {
    let config = "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    settings: {level: restricted}\n";
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n      securityContext: {privileged: true}\n";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("counsel.yaml"), config).expect("write");
    std::fs::write(dir.path().join("pod.yaml"), pod).expect("write");
    let output = counsel(
        dir.path(),
        &["check", "--fix", "-c", "counsel.yaml", "-f", "pod.yaml"],
        None,
    );
    let report = text(&output.stdout);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).expect("read"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n      securityContext: {privileged: false, allowPrivilegeEscalation: false}\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n",
        "{report}"
    );
    assert!(
        report.starts_with(
            "fixed: pod.yaml: 3 violations ([pod-security/privileged], [pod-security/allow-privilege-escalation], [pod-security/seccomp])\n\n\
             warning: Pod shop/web: [pod-security/capabilities] not fixed: its fix is only a suggestion (set spec.containers[0].securityContext.capabilities.drop: [\"ALL\"]); make it with --fix=all if it suits the image\n  --> pod.yaml:1\n\n\
             warning: Pod shop/web: [pod-security/run-as-non-root] not fixed: its fix is only a suggestion (set spec.securityContext.runAsNonRoot: true); make it with --fix=all if it suits the image\n  --> pod.yaml:1\n"
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "   = fix: set spec.securityContext.runAsNonRoot: true (a suggestion, never made by the webhook: check that it suits the image, then make it with counsel check --fix=all)\n"
        ),
        "{report}"
    );
    assert!(
        report.ends_with("fixed 3 violations in 1 file; 2 need a person\n"),
        "{report}"
    );
    assert_eq!(output.status.code(), Some(1), "still denied: {report}");

    let output = counsel(
        dir.path(),
        &["check", "--fix=all", "-c", "counsel.yaml", "-f", "pod.yaml"],
        None,
    );
    let report = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.ends_with("fixed 2 violations in 1 file; 0 need a person\n"),
        "{report}"
    );
    let fixed = std::fs::read_to_string(dir.path().join("pod.yaml")).expect("read");
    assert!(fixed.contains("runAsNonRoot: true"), "{fixed}");
    assert!(
        fixed.contains("drop: [ALL]") || fixed.contains("- ALL"),
        "{fixed}"
    );
}
