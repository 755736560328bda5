//! The webhook's numbers: a real `counsel serve` process (bundled policies,
//! TLS 1.3, HTTP/2 keep-alive connections) under a fixed number of
//! concurrent clients sending AdmissionReviews of the ~11 KB Deployment in
//! benches/deployment.json, compared in the same run with the bare engine
//! (`Reviewer::review` on as many threads as there are cores).
//!
//! Reported: requests per second, p50/p99 latency as the client sees it,
//! CPU time of the server process per review (from /proc), CPU time of the
//! bare engine per review, and the share of the server's CPU that goes to
//! everything but evaluating policies (TLS, HTTP, JSON, logging).
//!
//! With two or more cores the server runs pinned to the last core and the
//! load generator (and the bare engine) to the others, so the two do not
//! take turns on one core and the server's CPU per review is its own work;
//! COUNSEL_BENCH_PIN=0 turns that off.
//!
//! `cargo bench --bench webhook`; COUNSEL_BENCH_SECONDS (per phase, default
//! 5), COUNSEL_BENCH_ROUNDS (default 3) and COUNSEL_BENCH_CONCURRENCY
//! (default 8) change the run. COUNSEL_BENCH_NAMESPACES=1000 turns the
//! cluster features on: a real kube-apiserver (tests/support/cluster.rs,
//! `eval "$(tools/kube/install.sh)"` first) with that many labelled and
//! annotated namespaces, which the server watches, and the Deployment in
//! one of them; COUNSEL_BENCH_EXCEPTIONS=500 adds that many
//! CounselExceptions, spread over the namespaces (a few in the
//! Deployment's, covering one of its warnings). Linux only (reads /proc). Results are printed;
//! BENCHMARKS.md records them.

// The part of the integration tests' support (tests/support.rs) the bench
// runs: its HTTPS client and, for cluster features, the API server. They
// name each other as `super::`, so they sit side by side here too.
#[path = "../tests/support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../tests/support/client.rs"]
#[allow(dead_code)]
mod client;
#[path = "../tests/support/cluster.rs"]
#[allow(dead_code)]
mod cluster;
#[path = "../tests/support/counsel_process.rs"]
#[allow(dead_code)]
mod counsel_process;
#[path = "../tests/support/policy_cache.rs"]
#[allow(dead_code)]
mod policy_cache;
#[path = "../tests/support/times.rs"]
#[allow(dead_code)]
mod times;
#[path = "support/load.rs"]
#[allow(dead_code)]
mod webhook_load;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use counsel::certs::{self, SubjectNames};
use counsel::config::Config;
use counsel::engine::{Engine, EngineOptions};
use counsel::request::{Operation, Received, Request};
use counsel::review::{Reviewer, Scope};
use serde_json::{Value, json};
use webhook_load::{LoadResult, admission_review, env_number, load, ms};

fn main() {
    let seconds: u64 = env_number("COUNSEL_BENCH_SECONDS", 5);
    let rounds: usize = env_number("COUNSEL_BENCH_ROUNDS", 3);
    let concurrency: usize = env_number("COUNSEL_BENCH_CONCURRENCY", 8);
    let all_cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = all_cores >= 2 && env_number("COUNSEL_BENCH_PIN", 1) == 1;
    let server_core = pinned.then_some(all_cores - 1);
    if pinned {
        pin_to((0..all_cores - 1).collect::<Vec<_>>().as_slice());
    }
    let cores = if pinned { all_cores - 1 } else { all_cores };
    let namespaces: usize = env_number("COUNSEL_BENCH_NAMESPACES", 0);
    let mut object: Value = serde_json::from_str(include_str!("deployment.json"))
        .expect("benches/deployment.json is JSON");
    // Kept running (and stopped) with the benchmark.
    let exceptions: usize = env_number("COUNSEL_BENCH_EXCEPTIONS", 0);
    let cluster = (namespaces > 0).then(|| with_namespaces(namespaces, exceptions));
    if cluster.is_some() {
        object["metadata"]["namespace"] = json!(namespace_name(namespaces / 2));
    }
    let request = Request::for_manifest(object, Operation::Create, None);
    let body = admission_review(&request);
    // As in the server: policies get the request JSON as it was received.
    let request = Received::read(&request.to_json()).expect("reads");
    println!(
        "counsel webhook benchmark: {rounds} rounds of {seconds} s webhook + {seconds} s bare engine; \
         {concurrency} concurrent clients; {all_cores} cores ({}); AdmissionReview of benches/deployment.json: {} bytes",
        match server_core {
            Some(core) => format!(
                "server pinned to core {core}, load generator and bare engine to the others"
            ),
            None => "server and load generator share them".to_owned(),
        },
        body.len()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let files = certs::generate(&SubjectNames::localhost())
        .expect("certificates")
        .write(dir.path())
        .expect("written");
    let mut server = ServerProcess::start(
        &files.cert,
        &files.key,
        server_core,
        cluster.as_ref().map(|cluster| cluster.kubeconfig.as_path()),
    );
    let ca = std::fs::read(&files.ca_cert).expect("CA");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let engine = Engine::new(EngineOptions::default()).expect("engine");
    let reviewer =
        Arc::new(Reviewer::load(&Config::builtin(), &engine).expect("bundled policies load"));

    // Warm up (connections, caches, the server's blocking threads).
    runtime.block_on(load(
        &ca,
        server.webhook,
        concurrency,
        Duration::from_secs(2),
        &body,
    ));
    // Alternating phases, so that whatever else runs on the machine weighs
    // on both alike.
    let mut rows = Vec::new();
    let mut all_latencies = Vec::new();
    let mut errors = 0;
    for round in 1..=rounds {
        let cpu_before = server.cpu_time();
        let webhook = runtime.block_on(load(
            &ca,
            server.webhook,
            concurrency,
            Duration::from_secs(seconds),
            &body,
        ));
        let server_cpu = server.cpu_time() - cpu_before;
        let engine = bare_engine(&reviewer, &request, cores, Duration::from_secs(seconds));
        let row = Round {
            webhook_rate: webhook.rate(),
            engine_rate: engine.count as f64 / engine.elapsed.as_secs_f64(),
            server_cpu: server_cpu / webhook.count() as f64,
            engine_cpu: engine.cpu / engine.count as f64,
            p50: webhook.percentile(0.50),
            p99: webhook.percentile(0.99),
        };
        println!(
            "round {round}: webhook {:.0}/s (p50 {}, p99 {}), bare engine {:.0}/s, ratio {:.2}; CPU per review: server {:.0} µs, engine {:.0} µs",
            row.webhook_rate,
            ms(row.p50),
            ms(row.p99),
            row.engine_rate,
            row.webhook_rate / row.engine_rate,
            row.server_cpu * 1e6,
            row.engine_cpu * 1e6
        );
        errors += webhook.errors;
        all_latencies.extend(webhook.latencies);
        rows.push(row);
    }
    server.stop();

    let median = |f: &dyn Fn(&Round) -> f64| {
        let mut values: Vec<f64> = rows.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let all = LoadResult {
        errors,
        elapsed: Duration::ZERO,
        latencies: all_latencies,
    };
    let server_cpu = median(&|r| r.server_cpu);
    let engine_cpu = median(&|r| r.engine_cpu);
    println!();
    println!("median of {rounds} rounds:");
    println!(
        "webhook      {:>6.0} reviews/s   p50 {}   p99 {}   ({errors} errors; HTTP/2 over TLS 1.3, keep-alive)",
        median(&|r| r.webhook_rate),
        ms(all.percentile(0.50)),
        ms(all.percentile(0.99))
    );
    println!(
        "bare engine  {:>6.0} reviews/s   ({cores} threads calling Reviewer::review in-process)",
        median(&|r| r.engine_rate)
    );
    println!(
        "throughput   webhook / bare engine = {:.2} ({})",
        median(&|r| r.webhook_rate / r.engine_rate),
        if pinned {
            "the server has one core, the bare engine the others"
        } else {
            "the load generator shares the cores with the server"
        }
    );
    println!(
        "CPU/review   server process {:.0} µs, bare engine {:.0} µs: TLS, HTTP, JSON and logging take {:.0} % of the server's CPU",
        server_cpu * 1e6,
        engine_cpu * 1e6,
        (1.0 - engine_cpu / server_cpu) * 100.0
    );
    assert_eq!(errors, 0, "every review must be answered correctly");
}

/// Pins this thread, and the threads it starts from now on, to `cores`.
fn pin_to(cores: &[usize]) {
    assert!(
        set_affinity(cores),
        "cannot pin the benchmark to cores {cores:?}"
    );
}

/// `sched_setaffinity` of the calling thread; false when refused.
// libc calls are unsafe: see the SAFETY comment inside.
#[allow(unsafe_code)]
fn set_affinity(cores: &[usize]) -> bool {
    // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET and
    // sched_setaffinity only touch the set passed to them.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &core in cores {
            libc::CPU_SET(core, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

struct Round {
    webhook_rate: f64,
    engine_rate: f64,
    server_cpu: f64,
    engine_cpu: f64,
    p50: Duration,
    p99: Duration,
}

/// `counsel serve` as a child process on ephemeral loopback ports.
struct ServerProcess {
    child: Child,
    webhook: SocketAddr,
    ticks_per_second: f64,
}

impl ServerProcess {
    // pre_exec is unsafe: see the SAFETY comment inside.
    #[allow(unsafe_code)]
    fn start(
        cert: &std::path::Path,
        key: &std::path::Path,
        core: Option<usize>,
        kubeconfig: Option<&std::path::Path>,
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_counsel"));
        command.arg("serve");
        if let Some(kubeconfig) = kubeconfig {
            command.arg("--kubeconfig").arg(kubeconfig);
        }
        command
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST");
        if let Some(core) = core {
            use std::os::unix::process::CommandExt as _;
            // SAFETY: between fork and exec only sched_setaffinity, which is
            // async-signal-safe, runs.
            unsafe {
                command.pre_exec(move || {
                    if set_affinity(&[core]) {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = command
            .args([
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
            ])
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("counsel serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let watching = kubeconfig.is_some();
        let (send, addresses) = std::sync::mpsc::channel();
        // Reads the log to learn the port and to know when policies are
        // loaded, then keeps draining it (one line per review) so the
        // server never blocks on a full pipe.
        std::thread::spawn(move || {
            // The lines come in any order; with a cluster, the namespaces
            // must be there before the load starts.
            let (mut webhook, mut loaded) = (None, false);
            // Namespaces and both exception kinds: each says once it synced.
            let mut unsynced: usize = if watching { 3 } else { 0 };
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("the watch of ") && line.contains(" synced") {
                    unsynced = unsynced.saturating_sub(1);
                }
                if let Some(rest) = line.split("counsel is serving on https://").nth(1) {
                    webhook = rest
                        .split(' ')
                        .next()
                        .and_then(|a| a.parse::<SocketAddr>().ok());
                }
                loaded |= line.contains("policies loaded");
                if loaded && unsynced == 0 && webhook.is_some() {
                    let _ = send.send(webhook.take());
                }
            }
        });
        let webhook = addresses
            .recv_timeout(Duration::from_secs(120))
            .ok()
            .flatten()
            .expect("the server starts and loads its policies");
        ServerProcess {
            child,
            webhook,
            ticks_per_second: clock_ticks(),
        }
    }

    /// User + system CPU seconds the server has used so far (all threads,
    /// including exited ones).
    fn cpu_time(&self) -> f64 {
        cpu_seconds(
            &format!("/proc/{}/stat", self.child.id()),
            self.ticks_per_second,
        )
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The name of the `i`th namespace of [`with_namespaces`].
fn namespace_name(i: usize) -> String {
    format!("team-{i:04}")
}

/// A real API server holding `count` namespaces, each labelled and
/// annotated as a team's would be, and `exceptions` CounselExceptions
/// spread over them (every hundredth in the benchmark Deployment's
/// namespace, where they cover the warnings of its container
/// "log-shipper").
fn with_namespaces(count: usize, exceptions: usize) -> cluster::Cluster {
    let cluster = cluster::Cluster::start();
    let namespaces = (0..count).map(|i| {
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace_name(i),
                "labels": {"env": if i % 2 == 0 { "prod" } else { "dev" }, "team": format!("team-{i}")},
                "annotations": {"counsel.dev/owner": format!("team-{i}"), "counsel.dev/contact": format!("#team-{i}")},
            },
        })
    });
    let rules = [
        "image-digest",
        "memory-limit",
        "liveness-probe",
        "readiness-probe",
    ];
    let expires = times::from_now(30 * 86_400);
    let exception_objects = (0..exceptions).map(|i| {
        let namespace = if i % 100 == 0 { count / 2 } else { i % count };
        json!({
            "apiVersion": "counsel.dev/v1alpha1",
            "kind": "CounselException",
            "metadata": {"name": format!("exception-{i}"), "namespace": namespace_name(namespace)},
            "spec": {
                "policy": "workload-hygiene",
                "rules": [rules[i % rules.len()]],
                "objects": {"kinds": ["Deployment"], "names": ["web"]},
                "containers": ["log-shipper"],
                "reason": "the vendor's image is rebuilt next quarter",
                "owner": format!("team-{namespace}"),
                "expires": expires,
            },
        })
    });
    for items in [namespaces.collect::<Vec<_>>(), exception_objects.collect()] {
        if items.is_empty() {
            continue;
        }
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        cluster
            .kubectl(&["create", "-f", "-", "-o", "name"])
            .stdin(list.to_string())
            .success();
    }
    println!(
        "cluster features on: {count} namespaces and {exceptions} exceptions in a real kube-apiserver"
    );
    cluster
}

/// utime + stime from a /proc/.../stat file, in seconds.
fn cpu_seconds(stat_path: &str, ticks_per_second: f64) -> f64 {
    let stat = std::fs::read_to_string(stat_path).expect("/proc stat readable");
    // Fields after the command name, which is in parentheses and may hold
    // spaces; utime and stime are fields 14 and 15.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .expect("stat format");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .expect("stat field")
    };
    (ticks(11) + ticks(12)) / ticks_per_second
}

struct EngineResult {
    count: u64,
    elapsed: Duration,
    cpu: f64,
}

/// `Reviewer::review` of the same request on `threads` threads, in this
/// process, for `duration`; CPU measured on this process (whose load
/// generator is idle meanwhile).
fn bare_engine(
    reviewer: &Arc<Reviewer>,
    request: &Received,
    threads: usize,
    duration: Duration,
) -> EngineResult {
    for _ in 0..50 {
        reviewer.review(request, Scope::All, None).expect("reviews");
    }
    let ticks = clock_ticks();
    let cpu_before = cpu_seconds("/proc/self/stat", ticks);
    let started = Instant::now();
    let count = Arc::new(AtomicU64::new(0));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let count = count.clone();
            scope.spawn(move || {
                while started.elapsed() < duration {
                    std::hint::black_box(
                        reviewer.review(request, Scope::All, None).expect("reviews"),
                    );
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    EngineResult {
        count: count.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        cpu: cpu_seconds("/proc/self/stat", ticks) - cpu_before,
    }
}

/// Clock ticks per second of /proc's CPU times.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
