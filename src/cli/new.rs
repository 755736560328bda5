//! `counsel new NAME --lang cel|rust`: a new policy with a test suite that
//! passes as generated. The files are templates (`new/cel/`, `new/rust/`)
//! with `{{name}}`-style placeholders, kept as files so that they follow the
//! SDK when it changes.
//!
//! CEL: rules for `builtin:cel`, a counsel.yaml that loads them, example
//! manifests and a `counsel test` suite; no build step. Rust: a crate using
//! the SDK (`policies/sdk`, crate `counsel-policy`) with native unit tests,
//! a counsel.yaml and a suite for the built component. `policies/build.sh`
//! builds the crates of the policies workspace only (`members = ["*"]`), so
//! a Rust policy is made in that workspace by default: `policies/NAME` of
//! the clone the command runs in. Elsewhere (`--dir`) the crate is a
//! workspace of its own: its native tests run, but build.sh does not build
//! it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::ValueEnum;

/// The language of a new policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rules in CEL for the bundled `builtin:cel`: no build step.
    Cel,
    /// A Rust crate using the SDK, built into a wasm component.
    Rust,
}

/// Arguments of `counsel new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The policy's name (lower case letters, digits and `-`): its name in
    /// counsel.yaml and reports, and the directory's and crate's.
    pub name: String,
    /// The language.
    #[arg(long, value_enum)]
    pub lang: Lang,
    /// Where to make it (default: ./NAME for CEL; for Rust, policies/NAME
    /// of the clone of Counsel the current directory is in).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Rust: the SDK crate (policies/sdk), default the one of the clone of
    /// Counsel the current directory is in.
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

/// A file of a template: where it goes, and its text.
type Template = (&'static str, &'static str);

/// What to make: the directory, the templates, and the values of their
/// placeholders besides `{{name}}` and `{{dir}}`.
type Plan = (PathBuf, &'static [Template], Vec<(&'static str, String)>);

const CEL: [Template; 6] = [
    ("rules.yaml", include_str!("new/cel/rules.yaml")),
    ("counsel.yaml", include_str!("new/cel/counsel.yaml")),
    (
        "{{name}}.test.yaml",
        include_str!("new/cel/suite.test.yaml"),
    ),
    (
        "examples/allowed.yaml",
        include_str!("new/cel/allowed.yaml"),
    ),
    ("examples/denied.yaml", include_str!("new/cel/denied.yaml")),
    (
        "examples/denied.fixed.yaml",
        include_str!("new/cel/denied.fixed.yaml"),
    ),
];

const RUST: [Template; 4] = [
    ("Cargo.toml", include_str!("new/rust/Cargo.toml")),
    ("src/lib.rs", include_str!("new/rust/lib.rs")),
    ("counsel.yaml", include_str!("new/rust/counsel.yaml")),
    (
        "{{name}}.test.yaml",
        include_str!("new/rust/suite.test.yaml"),
    ),
];

/// Runs `counsel new`.
pub fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    let name = &args.name;
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        bail!(
            "{name:?} cannot name a policy: use lower case letters, digits and '-', starting with a letter (e.g. memory-limits)"
        );
    }
    let (dir, templates, values) = match args.lang {
        Lang::Cel => {
            let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
            (dir, &CEL[..], Vec::new())
        }
        Lang::Rust => rust_plan(&args)?,
    };
    if dir.exists() && std::fs::read_dir(&dir).map_or(true, |mut d| d.next().is_some()) {
        bail!(
            "{} already exists and is not empty; choose another --dir",
            dir.display()
        );
    }
    let shown = dir.display().to_string();
    let mut values = values;
    values.push(("{{name}}", name.clone()));
    values.push(("{{dir}}", shown.clone()));
    let fill = |text: &str| {
        values.iter().fold(text.to_owned(), |text, (key, value)| {
            text.replace(key, value)
        })
    };
    for (path, text) in templates {
        let path = dir.join(fill(path));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, fill(text))
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("created {}", path.display());
    }
    match args.lang {
        Lang::Cel => println!(
            "\nnext: edit {shown}/rules.yaml, then\n  counsel test {shown}\n  counsel check -c {shown}/counsel.yaml -f {shown}/examples/denied.yaml"
        ),
        Lang::Rust => println!(
            "\nnext: edit {shown}/src/lib.rs, then\n  (cd {shown} && cargo test)\n  policies/build.sh {name}\n  counsel test {shown}"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a Rust policy goes and how its Cargo.toml finds the SDK.
fn rust_plan(args: &NewArgs) -> anyhow::Result<Plan> {
    let sdk = match &args.sdk {
        Some(sdk) => sdk.clone(),
        None => find_sdk()?,
    };
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("the SDK {} cannot be found", sdk.display()))?;
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "{} is not the SDK crate (no Cargo.toml); give --sdk PATH/TO/policies/sdk",
            sdk.display()
        );
    }
    let policies = sdk.parent().map(Path::to_path_buf).unwrap_or_default();
    // Shown relative to the current directory when it is inside it.
    let dir = args.dir.clone().unwrap_or_else(|| {
        let dir = policies.join(&args.name);
        let here = std::env::current_dir().unwrap_or_default();
        match dir.strip_prefix(&here) {
            Ok(relative) => relative.to_path_buf(),
            Err(_) => dir,
        }
    });
    // In the policies workspace when its parent is that workspace's folder.
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let in_workspace = parent.canonicalize().ok().as_deref() == Some(policies.as_path());
    let (sdk_path, workspace, module) = if in_workspace {
        (
            "../sdk".to_owned(),
            String::new(),
            format!("../dist/{}.wasm", args.name),
        )
    } else {
        (
            sdk.display().to_string(),
            "# Not in Counsel's policies workspace: a workspace of its own.\n[workspace]\n".into(),
            format!("{}.wasm", args.name),
        )
    };
    Ok((
        dir,
        &RUST[..],
        vec![
            ("{{sdk}}", sdk_path),
            ("{{workspace}}", workspace),
            ("{{module}}", module),
        ],
    ))
}

/// The SDK of the clone of Counsel the current directory is in.
fn find_sdk() -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir().context("cannot read the current directory")?;
    here.ancestors()
        .map(|dir| dir.join("policies/sdk"))
        .find(|sdk| sdk.join("Cargo.toml").is_file())
        .context(
            "a Rust policy needs Counsel's SDK: run this in a clone of Counsel, or give --sdk PATH/TO/policies/sdk",
        )
}
