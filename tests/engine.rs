//! The engine against real components built from `policies/`: the shape of
//! the committed components, the limits, the failure policies and the
//! precompiled cache.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use counsel::config::{Config, FailurePolicy, Origin};
use counsel::engine::{CompiledFrom, Engine, EngineOptions, Failure, Limits, Policy};
use counsel::request::{Operation, Request};
use counsel::review::{Reviewer, Scope};
use serde_json::json;

fn dist(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies/dist")
        .join(format!("{name}.wasm"))
}

fn engine(cache: Option<&Path>) -> Engine {
    Engine::new(EngineOptions {
        cache_dir: cache.map(Path::to_path_buf),
        max_concurrent: 16,
        ..EngineOptions::default()
    })
    .expect("engine starts")
}

/// The misbehaving test policy, loaded with `limits`.
fn hostile(engine: &Engine, limits: Limits) -> Policy {
    let bytes =
        std::fs::read(dist("test-hostile")).expect("policies/dist/test-hostile.wasm is built");
    engine.load("hostile", &bytes, limits).expect("loads")
}

fn request() -> Request {
    let object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}});
    Request::for_manifest(object, Operation::Create, None)
}

#[test]
fn committed_components_export_the_contract_and_import_only_log() {
    let engine =
        wasmtime::Engine::new(wasmtime::Config::new().wasm_component_model(true)).expect("engine");
    let mut seen = 0;
    for entry in std::fs::read_dir(dist("x").parent().expect("dist")).expect("policies/dist exists")
    {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "wasm") {
            continue;
        }
        seen += 1;
        let component =
            wasmtime::component::Component::from_file(&engine, &path).expect("a component");
        let ty = component.component_type();
        let mut imports: Vec<&str> = ty.imports(&engine).map(|(name, _)| name).collect();
        imports.sort();
        // A policy that never logs may leave the host interface out.
        assert!(
            imports == ["counsel:policy/host@0.2.0", "counsel:policy/types@0.2.0"]
                || imports == ["counsel:policy/types@0.2.0"],
            "{}: imports {imports:?}",
            path.display()
        );
        let mut exports: Vec<&str> = ty
            .exports(&engine)
            .filter(|(_, item)| {
                matches!(
                    item.ty,
                    wasmtime::component::types::ComponentItem::ComponentFunc(_)
                )
            })
            .map(|(name, _)| name)
            .collect();
        exports.sort();
        assert_eq!(
            exports,
            ["metadata", "validate", "validate-settings"],
            "{}",
            path.display()
        );
    }
    assert!(
        seen >= 2,
        "expected the committed policies in policies/dist"
    );
}

#[test]
fn a_healthy_policy_reports_checked_violations() {
    let engine = engine(None);
    let policy = hostile(&engine, Limits::default());
    assert_eq!(policy.metadata().rules[0].id, "hostile");
    let verdict = policy
        .evaluate(
            &serde_json::to_string(&request()).expect("json"),
            r#"{"behaviour":"deny"}"#,
            None,
        )
        .expect("evaluates");
    assert_eq!(verdict.violations.len(), 1);
    assert_eq!(verdict.violations[0].path, "/metadata/name");
    assert_eq!(verdict.violations[0].found, Some(json!("web")));
    // Violations a policy leaves out are counted on the first one listed.
    let verdict = policy
        .evaluate(
            &serde_json::to_string(&request()).expect("json"),
            r#"{"behaviour":"omitted"}"#,
            None,
        )
        .expect("evaluates");
    let messages: Vec<&str> = verdict
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(
        messages,
        ["the object's name is not allowed (1 listed here, and 41 more violations of this rule)"]
    );
    assert_eq!(
        policy.validate_settings(r#"{"behaviour":"fly"}"#),
        Ok(Err("behaviour: must be one of loop, memory-bomb, recursion, trap, huge-verdict, malformed-found, unknown-rule, bad-pointer, omitted, omitted-unknown-rule, deny, allow".into()))
    );
}

#[test]
fn hostile_policies_fail_within_their_limits_and_the_engine_carries_on() {
    let engine = engine(None);
    // A small memory cap, so the memory bomb reaches it long before its
    // deadline even on a busy machine.
    let limits = Limits {
        timeout: Duration::from_millis(1000),
        memory: 16 << 20,
        ..Limits::default()
    };
    let policy = hostile(&engine, limits);
    let request = serde_json::to_string(&request()).expect("json");
    type Expectation = fn(&Failure) -> bool;
    let cases: [(&str, Expectation); 8] = [
        ("loop", |f| {
            *f == Failure::Deadline(Duration::from_millis(1000))
        }),
        ("memory-bomb", |f| *f == Failure::Memory(16 << 20)),
        ("recursion", |f| {
            *f == Failure::Trap(
                "wasm trap: out of bounds memory access (in a Rust policy usually runaway recursion that overflowed its stack)".into(),
            )
        }),
        (
            "trap",
            |f| matches!(f, Failure::Trap(m) if m.contains("unreachable")),
        ),
        (
            "huge-verdict",
            |f| matches!(f, Failure::VerdictTooLarge { limit, .. } if *limit == Limits::DEFAULT_VERDICT_SIZE),
        ),
        (
            "malformed-found",
            |f| matches!(f, Failure::Malformed(m) if m.starts_with("violation 0 (rule \"hostile\"): found is not JSON")),
        ),
        ("unknown-rule", |f| {
            *f == Failure::UnknownRule("no-such-rule".into())
        }),
        ("omitted-unknown-rule", |f| {
            *f == Failure::UnknownRule("no-such-rule".into())
        }),
    ];
    for (behaviour, expected) in cases {
        // The failure names the limit that stopped the policy (for the
        // loop, its deadline), which is what the engine reports.
        let failure = policy
            .evaluate(&request, &format!(r#"{{"behaviour":"{behaviour}"}}"#), None)
            .expect_err(behaviour);
        assert!(
            expected(&failure),
            "{behaviour}: unexpected failure {failure:?}"
        );
        // The next evaluation, on a fresh instance, is unaffected.
        let verdict = policy
            .evaluate(&request, r#"{"behaviour":"deny"}"#, None)
            .expect("healthy again");
        assert_eq!(verdict.violations.len(), 1, "after {behaviour}");
    }
    let bad_pointer = policy
        .evaluate(&request, r#"{"behaviour":"bad-pointer"}"#, None)
        .expect_err("bad pointer");
    assert!(
        matches!(&bad_pointer, Failure::Malformed(m) if m.contains("path \"metadata/name\" is not a JSON Pointer")),
        "{bad_pointer:?}"
    );
}

/// Makes `policy` loop forever with a budget of 30 ms: it must stop at the
/// budget's deadline, not at the policy's own (1 s), and say so.
fn assert_stopped_at_the_budget(policy: &Policy) {
    let budget = Duration::from_millis(30);
    let failure = policy
        .evaluate("{}", r#"{"behaviour":"loop"}"#, Some(budget))
        .expect_err("deadline");
    assert_eq!(failure, Failure::Deadline(budget));
}

#[test]
fn a_budget_narrows_the_deadline() {
    let engine = engine(None);
    assert_stopped_at_the_budget(&hostile(&engine, Limits::default()));
}

#[test]
fn a_policy_that_outlives_its_engine_still_meets_its_deadline() {
    let policy = {
        let engine = engine(None);
        hostile(&engine, Limits::default())
    };
    assert_stopped_at_the_budget(&policy);
}

fn hostile_config(behaviour: &str, failure_policy: &str) -> Config {
    let yaml = format!(
        "policies:\n  - name: hostile\n    module: {}\n    settings: {{behaviour: {behaviour}}}\n    failurePolicy: {failure_policy}\n    timeout: 100ms\n    contact: \"#platform\"\n",
        dist("test-hostile").display()
    );
    Config::parse(&yaml, Origin::Builtin, Path::new("/")).expect("valid config")
}

#[test]
fn failure_policy_fail_denies_and_ignore_allows() {
    let engine = Arc::new(engine(None));
    for (failure_policy, allowed) in [("fail", false), ("ignore", true)] {
        let reviewer =
            Reviewer::load(&hostile_config("loop", failure_policy), &engine).expect("loads");
        let report = reviewer
            .review(&request(), Scope::All, None)
            .expect("review");
        assert_eq!(report.allowed(), allowed, "{failure_policy}");
        assert!(report.findings.is_empty());
        let [failure] = report.failures.as_slice() else {
            panic!("one failure expected")
        };
        assert_eq!(
            failure.failure_policy,
            if allowed {
                FailurePolicy::Ignore
            } else {
                FailurePolicy::Fail
            }
        );
        assert_eq!(
            failure.sentence(),
            "policy \"hostile\" failed (did not finish within its deadline of 100 ms), so it could not check this object; this is not a problem with your object; contact #platform"
        );
    }
}

#[test]
fn the_compiled_cache_is_used_and_a_corrupted_entry_is_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(dist("test-hostile")).expect("built");
    let first = engine(Some(dir.path()))
        .load("p", &bytes, Limits::default())
        .expect("loads");
    assert_eq!(first.compiled_from(), CompiledFrom::Source);
    let second = engine(Some(dir.path()))
        .load("p", &bytes, Limits::default())
        .expect("loads");
    assert_eq!(second.compiled_from(), CompiledFrom::Cache);

    let entries: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    let [entry] = entries.as_slice() else {
        panic!("one cache entry expected: {entries:?}")
    };
    let mut corrupted = std::fs::read(entry).expect("read");
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0xff;
    std::fs::write(entry, &corrupted).expect("write");

    let third = engine(Some(dir.path()))
        .load("p", &bytes, Limits::default())
        .expect("loads");
    assert_eq!(
        third.compiled_from(),
        CompiledFrom::Source,
        "a corrupted entry must not be trusted"
    );
    assert_ne!(std::fs::read(entry).expect("rebuilt"), corrupted);
    let fourth = engine(Some(dir.path()))
        .load("p", &bytes, Limits::default())
        .expect("loads");
    assert_eq!(fourth.compiled_from(), CompiledFrom::Cache);
}

#[test]
fn a_core_module_or_junk_is_refused_with_a_clear_message() {
    let engine = engine(None);
    let core = [0, b'a', b's', b'm', 1, 0, 0, 0];
    let error = engine
        .load("mine", &core, Limits::default())
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(
        error,
        "policy mine: is a core WebAssembly module, not a component; build policies with policies/build.sh, which turns modules into components"
    );
    let error = engine
        .load("mine", b"hello", Limits::default())
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(
        error,
        "policy mine: is not WebAssembly (it does not start with the \\0asm magic bytes)"
    );
}

/// Records what the engine tells it, and stops every evaluation that
/// reaches a tick with `stop`.
struct Recording {
    stop: Option<counsel::engine::Stop>,
    ticks: std::sync::Mutex<Vec<String>>,
    ended: std::sync::Mutex<Vec<String>>,
}

impl counsel::engine::Overseer for Recording {
    fn tick(&self, policy: &Arc<str>, _running: Duration) -> Result<(), counsel::engine::Stop> {
        self.ticks.lock().expect("lock").push(policy.to_string());
        self.stop.clone().map_or(Ok(()), Err)
    }

    fn ended(&self, policy: &Arc<str>) {
        self.ended.lock().expect("lock").push(policy.to_string());
    }
}

#[test]
fn an_overseer_sees_every_evaluation_on_its_thread_and_may_stop_it() {
    use counsel::engine::{Overseer, Stop, oversee};
    let engine = engine(None);
    let policy = hostile(&engine, Limits::default());
    let stopping = Arc::new(Recording {
        stop: Some(Stop::Abandoned),
        ticks: Default::default(),
        ended: Default::default(),
    });
    let overseer: Arc<dyn Overseer> = stopping.clone();
    let looped = oversee(overseer, || {
        policy.evaluate("{}", r#"{"behaviour":"loop"}"#, None)
    });
    // The loop was stopped by its overseer at the first tick, long before
    // its 1 s deadline, and says why.
    let failure = looped.expect_err("stopped");
    assert_eq!(failure, Failure::Stopped(Stop::Abandoned));
    assert_eq!(failure.cause(), "abandoned");
    assert_eq!(
        failure.to_string(),
        "was stopped: its answer was no longer wanted"
    );
    assert_eq!(*stopping.ticks.lock().expect("lock"), ["hostile"]);
    assert_eq!(*stopping.ended.lock().expect("lock"), ["hostile"]);
    // An overseer that lets policies go on changes nothing; every
    // evaluation is reported ended, once.
    let watching = Arc::new(Recording {
        stop: None,
        ticks: Default::default(),
        ended: Default::default(),
    });
    let overseer: Arc<dyn Overseer> = watching.clone();
    let answered = oversee(overseer, || {
        policy.evaluate("{}", r#"{"behaviour":"deny"}"#, None)
    });
    assert_eq!(answered.expect("answers").violations.len(), 1);
    assert_eq!(*watching.ended.lock().expect("lock"), ["hostile"]);
    // Outside `oversee`, the thread has no overseer: only the deadline
    // stops a policy.
    assert_eq!(
        policy.evaluate(
            "{}",
            r#"{"behaviour":"loop"}"#,
            Some(Duration::from_millis(20))
        ),
        Err(Failure::Deadline(Duration::from_millis(20)))
    );
    assert_eq!(stopping.ended.lock().expect("lock").len(), 1);
    assert_eq!(watching.ended.lock().expect("lock").len(), 1);

    let crowded = Stop::TooManyOfItsOwn {
        limit: 2,
        after: Duration::from_millis(50),
    };
    assert_eq!(Failure::Stopped(crowded.clone()).cause(), "crowded");
    assert_eq!(
        Failure::Stopped(crowded).to_string(),
        "was stopped: it ran longer than 50 ms while 2 other evaluations of it already were, the most one policy may have at once, so it was stopped to leave the machine to other reviews"
    );
}
