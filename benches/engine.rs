//! The engine's numbers: loading policies with and without the compiled
//! cache, and evaluating the bundled policies on a realistic ~11 KB
//! Deployment, compared with the very same policy code compiled natively.
//!
//! `cargo bench --bench engine` (set COUNSEL_BENCH_ITERATIONS to change the
//! sample size). Results are printed; BENCHMARKS.md records them.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use counsel::config::Config;
use counsel::engine::{CompiledFrom, Engine, EngineOptions};
use counsel::request::{Operation, Received, Request};
use counsel::review::{Reviewer, Scope};

fn main() {
    let iterations: usize = std::env::var("COUNSEL_BENCH_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let object: serde_json::Value = serde_json::from_str(include_str!("deployment.json"))
        .expect("benches/deployment.json is JSON");
    let request = Request::for_manifest(object, Operation::Create, None);
    let request_json = serde_json::to_string(&request).expect("serialises");
    // As in the webhook: policies get the request JSON as it was received.
    let received = Received::read(&request_json).expect("reads");
    let config = Config::builtin();
    println!(
        "counsel engine benchmark: {} evaluations each; object benches/deployment.json ({} bytes as AdmissionRequest JSON); {} cores",
        iterations,
        request_json.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let manifest = include_str!("deployment.json");
    let parse = sample(iterations, || {
        black_box(counsel::source::parse(manifest).expect("parses"));
    });
    println!(
        "read a manifest with positions (counsel::source::parse, {} bytes): p50 {} p99 {}",
        manifest.len(),
        us(parse.p50),
        us(parse.p99)
    );

    let mut wire = serde_json::to_value(&request).expect("serialises");
    wire["uid"] = "bench".into();
    let review = serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": wire,
    })
    .to_string();
    let decode = sample(iterations, || {
        black_box(counsel::server::admission::decode_review(review.as_bytes()).expect("decodes"));
    });
    println!(
        "read an AdmissionReview (counsel::server::admission::decode_review, {} bytes): p50 {} p99 {}",
        review.len(),
        us(decode.p50),
        us(decode.p99)
    );

    // Loading: a fresh cache directory compiles; a second engine on it reads.
    let cache = tempfile::tempdir().expect("tempdir");
    for round in ["compiling (empty cache)", "from the compiled cache"] {
        let started = Instant::now();
        let reviewer = load(&config, Some(cache.path()));
        let took = started.elapsed();
        let from: Vec<String> = reviewer
            .policies()
            .map(|name| {
                let policy = reviewer.policy(name).expect("loaded");
                let from = match policy.compiled_from() {
                    CompiledFrom::Source => "compiled",
                    CompiledFrom::Cache => "cached",
                };
                format!("{name} {from}")
            })
            .collect();
        println!(
            "load all bundled policies, {round}: {} ({})",
            ms(took),
            from.join(", ")
        );
    }

    let reviewer = load(&config, None);
    println!();
    println!(
        "{:<20} {:>12} {:>12} {:>12} {:>12} {:>8}",
        "policy", "wasm p50", "wasm p99", "native p50", "native p99", "ratio"
    );
    for policy_config in &config.policies {
        let policy = reviewer.policy(&policy_config.name).expect("loaded");
        let settings = policy_config.settings.to_string();
        let wasm = sample(iterations, || {
            black_box(
                policy
                    .evaluate(&request_json, &settings, None)
                    .expect("evaluates"),
            );
        });
        let native = sample(iterations, || match policy_config.name.as_str() {
            "pod-security" => {
                black_box(
                    counsel_policy::guest::validate::<pod_security::PodSecurity>(
                        &request_json,
                        &settings,
                    ),
                );
            }
            "workload-hygiene" => {
                black_box(counsel_policy::guest::validate::<
                    workload_hygiene::WorkloadHygiene,
                >(&request_json, &settings));
            }
            other => panic!("no native build of {other} in this benchmark"),
        });
        println!(
            "{:<20} {:>12} {:>12} {:>12} {:>12} {:>7.2}x",
            policy_config.name,
            us(wasm.p50),
            us(wasm.p99),
            us(native.p50),
            us(native.p99),
            wasm.p50.as_secs_f64() / native.p50.as_secs_f64()
        );
    }
    // The fixed cost of an evaluation: a fresh instance of a policy that
    // returns at once, with the same request copied in.
    let empty = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/dist/test-hostile.wasm"),
    )
    .expect("policies/dist/test-hostile.wasm is built");
    let engine = Engine::new(EngineOptions {
        cache_dir: None,
        ..EngineOptions::default()
    })
    .expect("engine");
    let empty = engine
        .load("empty", &empty, Default::default())
        .expect("loads");
    let fixed = sample(iterations, || {
        black_box(
            empty
                .evaluate(&request_json, r#"{"behaviour":"allow"}"#, None)
                .expect("evaluates"),
        );
    });
    println!(
        "{:<20} {:>12} {:>12}   (fresh instance, request copied in, no work)",
        "empty policy",
        us(fixed.p50),
        us(fixed.p99)
    );
    let review = sample(iterations, || {
        black_box(
            reviewer
                .review(&received, Scope::All, None)
                .expect("reviews"),
        );
    });
    println!(
        "{:<20} {:>12} {:>12}   (match, evaluate every policy, explain)",
        "whole review",
        us(review.p50),
        us(review.p99)
    );
    cel_against_rust(iterations, &request_json);
    deadline_overshoot(&engine, &request_json);
}

/// The same three rules in Rust (`builtin:container-security`) and in CEL
/// (`builtin:cel`, benches/container-security.cel.yaml), each evaluation
/// in a fresh instance: what writing a rule in CEL costs.
fn cel_against_rust(iterations: usize, request_json: &str) {
    let config = Config::parse(
        include_str!("container-security.cel.yaml"),
        counsel::config::Origin::Builtin,
        Path::new(""),
    )
    .expect("benches/container-security.cel.yaml is valid");
    let reviewer = load(&config, None);
    let mut results = Vec::new();
    for policy_config in &config.policies {
        let policy = reviewer.policy(&policy_config.name).expect("loaded");
        let settings = policy_config.settings.to_string();
        let verdict = policy
            .evaluate(request_json, &settings, None)
            .expect("evaluates");
        let found: Vec<(String, String)> = verdict
            .violations
            .iter()
            .map(|v| (v.rule.clone(), v.path.clone()))
            .collect();
        let time = sample(iterations, || {
            black_box(
                policy
                    .evaluate(request_json, &settings, None)
                    .expect("evaluates"),
            );
        });
        results.push((policy_config.name.clone(), found, time));
    }
    assert_eq!(
        results[0].1, results[1].1,
        "the CEL rules must find what the Rust rules find"
    );
    println!();
    for (name, found, time) in &results {
        println!(
            "{name:<26} {:>12} {:>12}   ({} violations)",
            us(time.p50),
            us(time.p99),
            found.len()
        );
    }
    println!(
        "{:<26} {:>11.2}x   (p50, CEL over Rust)",
        "CEL / Rust",
        results[1].2.p50.as_secs_f64() / results[0].2.p50.as_secs_f64()
    );
}

/// How far past a 100 ms deadline a looping policy ends while every core is
/// busy with other threads (which also delay the epoch ticker): a deadline
/// is wall time, checked at each tick, so late ticks do not add up.
fn deadline_overshoot(engine: &Engine, request_json: &str) {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/dist/test-hostile.wasm"),
    )
    .expect("policies/dist/test-hostile.wasm is built");
    let looping = engine
        .load("looping", &bytes, Default::default())
        .expect("loads");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hogs: Vec<_> = (0..2 * cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    black_box(());
                }
            })
        })
        .collect();
    let deadline = Duration::from_millis(100);
    let mut overshoots: Vec<Duration> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let failed = looping.evaluate(request_json, r#"{"behaviour":"loop"}"#, Some(deadline));
            assert!(failed.is_err(), "a loop never finishes");
            started.elapsed().saturating_sub(deadline)
        })
        .collect();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for hog in hogs {
        let _ = hog.join();
    }
    overshoots.sort();
    println!(
        "{:<20} {:>12} {:>12}   (past a 100 ms deadline, {} busy threads on {} cores; p50, max of 20)",
        "deadline overshoot",
        ms(overshoots[overshoots.len() / 2]),
        ms(overshoots[overshoots.len() - 1]),
        2 * cores,
        cores
    );
}

fn load(config: &Config, cache: Option<&Path>) -> Reviewer {
    let engine = Engine::new(EngineOptions {
        cache_dir: cache.map(Path::to_path_buf),
        ..EngineOptions::default()
    })
    .expect("engine");
    Reviewer::load(config, &engine).expect("bundled policies load")
}

struct Percentiles {
    p50: Duration,
    p99: Duration,
}

/// Runs `f` a tenth of `n` times to warm up, then `n` times measured.
fn sample(n: usize, mut f: impl FnMut()) -> Percentiles {
    for _ in 0..n / 10 {
        f();
    }
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Percentiles {
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
