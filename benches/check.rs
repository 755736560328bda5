//! `counsel check` on inputs of growing size: wall time and peak memory of
//! the real binary (the bundled policies) for `check` (pretty, JSON, SARIF,
//! JUnit, GitHub and Markdown),
//! `check --fix --dry-run` and `check --fix`, on many small manifests, as
//! one long multi-document file and as a directory of files.
//!
//! `cargo bench --bench check` (COUNSEL_BENCH_SIZES=1,2,4,8 sets the input
//! sizes in MB). Peak memory is the child's maximum resident set (getrusage
//! through wait4); what the input adds is that minus the same run on one
//! small manifest (the loaded policies). Results are printed; BENCHMARKS.md
//! records them.

use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One small manifest; `N` becomes its number. Every one has violations to
/// report and fixes to make.
const MANIFESTS: [&str; 2] = [
    "apiVersion: v1
kind: Pod
metadata:
  name: web-N
  namespace: shop
  labels: {app: web}
spec:
  containers:
    - name: app
      image: registry.example.com/web:1.4
      ports: [{containerPort: 8080}]
      securityContext:
        privileged: true
",
    "apiVersion: apps/v1
kind: Deployment
metadata: {name: api-N, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      hostNetwork: true
      containers:
        - name: api
          image: registry.example.com/api:2.0
          resources: {limits: {memory: 256Mi}}
",
];

/// Manifests per file in the directory layout.
const PER_FILE: usize = 50;

#[derive(Clone, Copy)]
enum Mode {
    Pretty,
    Json,
    Sarif,
    Junit,
    Github,
    Markdown,
    DryRun,
    Fix,
}

impl Mode {
    const ALL: [Mode; 8] = [
        Mode::Pretty,
        Mode::Json,
        Mode::Sarif,
        Mode::Junit,
        Mode::Github,
        Mode::Markdown,
        Mode::DryRun,
        Mode::Fix,
    ];

    fn name(self) -> &'static str {
        match self {
            Mode::Pretty => "check",
            Mode::Json => "check -o json",
            Mode::Sarif => "check -o sarif",
            Mode::Junit => "check -o junit",
            Mode::Github => "check -o github",
            Mode::Markdown => "check -o markdown",
            Mode::DryRun => "--fix --dry-run",
            Mode::Fix => "--fix",
        }
    }

    fn args(self) -> &'static [&'static str] {
        match self {
            Mode::Pretty => &["check"],
            Mode::Json => &["check", "-o", "json"],
            Mode::Sarif => &["check", "-o", "sarif"],
            Mode::Junit => &["check", "-o", "junit"],
            Mode::Github => &["check", "-o", "github"],
            Mode::Markdown => &["check", "-o", "markdown"],
            Mode::DryRun => &["check", "--fix", "--dry-run"],
            Mode::Fix => &["check", "--fix"],
        }
    }
}

struct Run {
    time: Duration,
    peak_kib: u64,
}

fn main() {
    let sizes: Vec<usize> = std::env::var("COUNSEL_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 4, 8]);
    let work = tempfile::tempdir().expect("a temporary directory");
    let cache = work.path().join("cache");
    println!(
        "counsel check benchmark: inputs of {sizes:?} MB of small manifests ({} and {} bytes each); {} cores",
        MANIFESTS[0].len(),
        MANIFESTS[1].len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    // The fixed part: the same runs on one manifest (policies loaded and cached).
    let tiny = work.path().join("tiny.yaml");
    std::fs::write(&tiny, MANIFESTS[0].replace('N', "0")).expect("write");
    // The first run compiles the bundled policies into the cache: not measured.
    counsel(Mode::Pretty, &tiny, &cache);
    let mut base = Vec::new();
    for mode in Mode::ALL {
        let run = counsel(mode, &tiny, &cache);
        println!(
            "one manifest, {:<18} {:>8.3} s  peak {:>7.1} MiB",
            mode.name(),
            run.time.as_secs_f64(),
            run.peak_kib as f64 / 1024.0
        );
        base.push(run.peak_kib);
    }
    for layout in ["one file", "directory"] {
        println!("\n{layout}:");
        println!(
            "{:>7} {:>8} {:<18} {:>9} {:>12} {:>10} {:>12} {:>12}",
            "input", "objects", "run", "time", "µs/object", "peak", "added", "added/input"
        );
        for &megabytes in &sizes {
            let (input, bytes, objects) = generate(work.path(), layout, megabytes);
            for (mode, &base_kib) in Mode::ALL.iter().zip(&base) {
                // --fix rewrites its input: it gets a copy.
                let target = match mode {
                    Mode::Fix => copy(&input),
                    _ => input.clone(),
                };
                let run = counsel(*mode, &target, &cache);
                let added = run.peak_kib.saturating_sub(base_kib) as f64 * 1024.0;
                println!(
                    "{:>5.1}MB {:>8} {:<18} {:>7.2} s {:>12.1} {:>6.1} MiB {:>8.1} MiB {:>11.1}x",
                    bytes as f64 / 1e6,
                    objects,
                    mode.name(),
                    run.time.as_secs_f64(),
                    run.time.as_secs_f64() * 1e6 / objects as f64,
                    run.peak_kib as f64 / 1024.0,
                    added / 1048576.0,
                    added / bytes as f64
                );
            }
        }
    }
}

/// Writes about `megabytes` MB of manifests: the path, its bytes and objects.
fn generate(dir: &Path, layout: &str, megabytes: usize) -> (PathBuf, usize, usize) {
    let target = megabytes * 1_000_000;
    let mut manifests = Vec::new();
    let mut bytes = 0;
    while bytes < target {
        let text = MANIFESTS[manifests.len() % 2].replace('N', &manifests.len().to_string());
        bytes += text.len() + 4;
        manifests.push(text);
    }
    let objects = manifests.len();
    if layout == "one file" {
        let path = dir.join(format!("one-{megabytes}.yaml"));
        std::fs::write(&path, manifests.join("---\n")).expect("write");
        return (path, bytes, objects);
    }
    let path = dir.join(format!("dir-{megabytes}"));
    std::fs::create_dir_all(&path).expect("mkdir");
    for (n, chunk) in manifests.chunks(PER_FILE).enumerate() {
        std::fs::write(path.join(format!("{n:05}.yaml")), chunk.join("---\n")).expect("write");
    }
    (path, bytes, objects)
}

/// A fresh copy of a file or directory, for `--fix` to rewrite.
fn copy(input: &Path) -> PathBuf {
    let copy = input.with_extension("fixing");
    let _ = std::fs::remove_dir_all(&copy);
    let status = Command::new("cp")
        .arg("-r")
        .arg(input)
        .arg(&copy)
        .status()
        .expect("cp runs");
    assert!(status.success(), "cp");
    copy
}

/// Runs counsel once; its wall time and peak resident set.
// std cannot report a child's resource use; wait4 is unsafe: see the SAFETY
// comments inside.
#[allow(unsafe_code)]
// The child is reaped by wait4, which clippy does not see.
#[allow(clippy::zombie_processes)]
fn counsel(mode: Mode, input: &Path, cache: &Path) -> Run {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_counsel"))
        .args(mode.args())
        .arg("-f")
        .arg(input)
        .env("COUNSEL_CACHE_DIR", cache)
        .env_remove("COUNSEL_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("counsel runs");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: waits for the child just spawned, which std has not reaped.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let time = started.elapsed();
    assert_eq!(waited, pid, "wait4");
    let code = std::process::ExitStatus::from_raw(status).code();
    // 0: clean, 1: something denied (every input here has violations).
    assert!(
        matches!(code, Some(0 | 1)),
        "{} exited with {code:?}",
        mode.name()
    );
    Run {
        time,
        peak_kib: usage.ru_maxrss as u64,
    }
}
