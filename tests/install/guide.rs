//! docs/operations.md shows what Counsel really does: its examples are run
//! and compared with what the binary prints and the server answers.

use serde_json::json;

use super::manifests::install_in;
use super::serve;
use crate::support::cli::counsel;

#[test]
fn the_ops_guide_example_configuration_is_one_counsel_accepts() {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"),
    )
    .expect("docs/operations.md");
    let section = guide
        .split("## Write a counsel.yaml")
        .nth(1)
        .expect("the counsel.yaml section");
    let example = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a YAML example");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("counsel.yaml"), example).expect("write");
    let installed = install_in(dir.path(), &["--config", "counsel.yaml"]);
    assert_eq!(
        installed.one("ConfigMap")["data"]["counsel.yaml"],
        example,
        "shipped as written"
    );
    let checked = counsel(
        dir.path(),
        &["check", "-c", "counsel.yaml", "-f", "-"],
        Some(&installed.text),
    );
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The fenced blocks of `language` in the ops guide's section `heading`.
fn guide_blocks(heading: &str, language: &str) -> Vec<String> {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"),
    )
    .expect("docs/operations.md");
    let section = guide
        .split(&format!("\n## {heading}\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_else(|| panic!("no section {heading:?}"));
    section
        .split(&format!("```{language}\n"))
        .skip(1)
        .map(|block| block.split("```").next().expect("closed block").to_owned())
        .collect()
}

#[test]
fn the_ops_guide_shows_what_counsel_serve_answers() {
    let configs = guide_blocks("What developers see", "yaml");
    let texts = guide_blocks("What developers see", "text");
    let review = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/review-privileged.json"),
    )
    .expect("example review");
    let dir = tempfile::tempdir().expect("temp dir");

    // The denial, as kubectl prints it.
    std::fs::write(dir.path().join("counsel.yaml"), &configs[0]).expect("write");
    let installed = install_in(dir.path(), &["--config", "counsel.yaml"]);
    let deployed = serve::Deployed::start(&installed, "counsel.counsel.svc");
    let response = deployed.review(&review);
    let (kubectl, message) = texts[0]
        .split_once("denied the request: ")
        .expect("kubectl's words, then Counsel's");
    assert!(
        kubectl.ends_with(&format!(
            "admission webhook {} ",
            installed.validating_webhook()["name"]
        )),
        "{kubectl}"
    );
    assert_eq!(response["status"]["message"], message.trim_end());

    // The same in warn mode.
    let warn = configs[0].replace("mode: enforce", "mode: warn");
    std::fs::write(dir.path().join("counsel.yaml"), warn).expect("write");
    let installed = install_in(dir.path(), &["--config", "counsel.yaml"]);
    let deployed = serve::Deployed::start(&installed, "counsel.counsel.svc");
    let response = deployed.review(&review);
    assert_eq!(response["allowed"], true);
    let shown: Vec<&str> = texts[1]
        .lines()
        .filter_map(|line| line.strip_prefix("Warning: "))
        .collect();
    assert_eq!(response["warnings"], json!(shown));
}

#[test]
fn the_ops_guide_shows_what_counsel_check_prints() {
    let texts = guide_blocks("What developers see", "text");
    let shown = texts.last().expect("the counsel check example");
    let (command, output) = shown.split_once('\n').expect("command line");
    let args: Vec<&str> = command
        .strip_prefix("$ counsel ")
        .expect("a counsel command")
        .split_whitespace()
        .collect();
    let (head, tail) = output.split_once("...\n").expect("an elided middle");
    let mut full_args = args.clone();
    full_args.extend(["--color", "never"]);
    // The example files, at the same relative paths, in a scratch folder.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("examples")).expect("mkdir");
    for file in args.iter().filter(|arg| arg.starts_with("examples/")) {
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file),
            dir.path().join(file),
        )
        .expect("copy the example");
    }
    let checked = counsel(dir.path(), &full_args, None);
    let printed = String::from_utf8_lossy(&checked.stdout);
    assert!(printed.starts_with(head), "{printed}");
    assert!(printed.ends_with(tail), "{printed}");
    assert_eq!(checked.status.code(), Some(1));
}
