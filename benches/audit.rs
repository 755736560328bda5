//! The background audit at scale: a real kube-apiserver
//! (tests/support/cluster.rs; `eval "$(tools/kube/install.sh)"` first)
//! holding 20,000 generated workload objects (Deployments, Pods, a fifth
//! of them made by a ReplicaSet, StatefulSets, DaemonSets, Jobs, CronJobs)
//! in 100 team namespaces, and `counsel serve` with the built-in
//! configuration auditing them.
//!
//! Reported: objects judged per second by the first full audit (its own
//! thread, default 1), the counsel process's peak RSS (VmHWM), the API
//! requests Counsel made (the API server's `apiserver_request_total`
//! before and after, by verb and resource: one list, paged by 500, and one
//! watch per kind, never per object; open watches from
//! `apiserver_longrunning_gauge`), the reports the leader writes once the
//! audit is complete and their bytes, and the webhook's p50/p99 under two
//! loads (as fast as it answers, and paced at half that), each without
//! the audit (`--no-audit`), with the audit done, and while a new
//! exception (made through the API) has the audit judge everything
//! again; with the CPU time of every process and of counsel's threads.
//!
//! `cargo bench --bench audit`; COUNSEL_BENCH_OBJECTS (default 20000),
//! COUNSEL_BENCH_SECONDS (load phases, default 10),
//! COUNSEL_BENCH_CONCURRENCY (default 8). Linux only (reads /proc).

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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cluster::Cluster;
use counsel::request::{Operation, Request};
use counsel_process::CounselProcess;
use serde_json::{Value, json};
use webhook_load::{LoadResult, admission_review, env_number, load, load_until, ms};

const NAMESPACES: usize = 100;
/// What the full audit says in the log when every object is judged.
const JUDGED: &str = "the audit judged every watched object";

fn main() {
    let objects: usize = env_number("COUNSEL_BENCH_OBJECTS", 20_000);
    let seconds: u64 = env_number("COUNSEL_BENCH_SECONDS", 10);
    let concurrency: usize = env_number("COUNSEL_BENCH_CONCURRENCY", 8);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "counsel audit benchmark: {objects} objects in {NAMESPACES} namespaces; {cores} cores; \
         webhook load: {concurrency} clients for {seconds} s per phase"
    );
    let cluster = Cluster::start();
    let created = Instant::now();
    let owned = populate(&cluster, objects);
    println!(
        "created {objects} objects ({owned} Pods owned by a ReplicaSet) in {:.1} s",
        created.elapsed().as_secs_f64()
    );
    let kubeconfig = cluster.kubeconfig.to_str().expect("UTF-8 path").to_owned();
    let body = admission_review(&Request::for_manifest(object(1), Operation::Create, None));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");

    // Without the audit: the webhook's latency alone.
    let mut plain = CounselProcess::start(None, &["--kubeconfig", &kubeconfig, "--no-audit"]);
    plain.wait_synced();
    let phases = Phases {
        cluster: &cluster,
        body: &body,
        concurrency,
        seconds,
    };
    phases.warm_up(&plain, &runtime);
    let without = phases.measure(&plain, None, None);
    let half = without.load.rate() / 2.0;
    let without_paced = phases.measure(&plain, Some(half), None);
    let plain_peak = peak_rss(plain.pid());
    drop(plain);

    // The audit on its own: the first full audit.
    let before = apiserver_series(&cluster, "apiserver_request_total");
    let watches_before = apiserver_series(&cluster, "apiserver_longrunning_gauge");
    let started = Instant::now();
    let mut counsel = CounselProcess::start(None, &["--kubeconfig", &kubeconfig]);
    counsel.wait_for_message(|m| m == JUDGED);
    let until_complete = started.elapsed();
    let reports_written = wait_for_reports(&counsel);
    let reports_took = started.elapsed() - until_complete;
    let after = apiserver_series(&cluster, "apiserver_request_total");
    let watches = apiserver_series(&cluster, "apiserver_longrunning_gauge");
    let metrics = counsel.ops_get("/metrics");
    let judged = metric(&metrics, "counsel_audit_evaluations_total");
    let full = metric(&metrics, "counsel_audit_last_full_duration_seconds");
    let held = metric_sum(&metrics, "counsel_audit_objects{");
    let violations = metric_sum(&metrics, "counsel_audit_violations{");
    let audit_peak = peak_rss(counsel.pid());
    println!();
    println!(
        "first full audit: {judged:.0} objects judged in {full:.2} s = {:.0} objects/s on 1 thread \
         ({:.1} s from start, listing included); {held:.0} objects with findings or passes held, \
         {violations:.0} violations",
        judged / full,
        until_complete.as_secs_f64()
    );
    println!(
        "reports: {reports_written:.0} written by the leader within {:.1} s after the audit; {}",
        reports_took.as_secs_f64(),
        report_bytes(&cluster)
    );
    println!(
        "peak RSS after the first full audit and its reports: {} MiB (without the audit, webhook load included: {} MiB)",
        audit_peak / 1024,
        plain_peak / 1024
    );
    println!(
        "API requests while counsel started, audited and wrote reports (apiserver_request_total; a LIST \
         is paged by 500 objects; a WATCH is counted when it ends, so open ones are below):"
    );
    for ((verb, resource), count) in difference(&before, &after) {
        println!("  {verb:<6} {resource:<28} {count}");
    }
    println!("watches opened (apiserver_longrunning_gauge, before and after):");
    for ((verb, resource), count) in difference(&watches_before, &watches) {
        if verb == "WATCH" {
            println!("  {verb:<6} {resource:<28} {count}");
        }
    }
    // The webhook under load while the audit judges everything again.
    phases.warm_up(&counsel, &runtime);
    let idle = phases.measure(&counsel, None, None);
    let idle_paced = phases.measure(&counsel, Some(half), None);
    let client = runtime.block_on(cluster.client());
    let audited = (&client, &runtime);
    let with = phases.measure(&counsel, None, Some(audited));
    let with_paced = phases.measure(&counsel, Some(half), Some(audited));
    let peak = peak_rss(counsel.pid());
    drop(counsel);

    println!();
    for (name, without, idle, with) in [
        ("as fast as it answers", &without, &idle, &with),
        (
            &*format!("at {half:.0} reviews/s, half that"),
            &without_paced,
            &idle_paced,
            &with_paced,
        ),
    ] {
        println!("webhook load {name}:");
        println!("  without audit: {}", without.describe());
        println!("  audit done:    {}", idle.describe());
        println!("  with audit:    {}", with.describe());
        println!(
            "  p99 with / without audit: {:.2}x",
            with.load.percentile(0.99).as_secs_f64() / without.load.percentile(0.99).as_secs_f64()
        );
        println!("  CPU seconds without the audit, by process, and by thread of counsel:");
        without.print_cpu();
        println!("  CPU seconds with the audit, by process, and by thread of counsel:");
        with.print_cpu();
        println!("  API requests with the audit (the benchmark's exceptions included):");
        for ((verb, resource), count) in &with.requests {
            println!("    {verb:<6} {resource:<28} {count}");
        }
    }
    println!(
        "peak RSS of counsel (VmHWM, load included): {} MiB",
        peak / 1024
    );
    let errors = [&without, &without_paced, &with, &with_paced].map(|m| m.load.errors);
    assert_eq!(errors, [0; 4], "every review is answered");
}

/// CPU seconds by name, most first.
type CpuUse = Vec<(String, f64)>;

/// One load phase and what went on meanwhile.
struct Measured {
    load: LoadResult,
    /// Whether a full audit was begun; full audits completed, and objects
    /// judged meanwhile.
    audited: bool,
    audits: usize,
    evaluations: f64,
    /// CPU seconds by process, and by thread of counsel.
    cpu: (CpuUse, CpuUse),
    requests: Vec<((String, String), f64)>,
}

impl Measured {
    fn describe(&self) -> String {
        let load = &self.load;
        let mut text = format!(
            "{:.0} reviews/s, p50 {}, p99 {} ({} errors)",
            load.rate(),
            ms(load.percentile(0.50)),
            ms(load.percentile(0.99)),
            load.errors
        );
        if self.audited {
            text += &format!(
                "; meanwhile a full audit begun, {} completed, {:.0} objects judged ({:.0}/s)",
                self.audits,
                self.evaluations,
                self.evaluations / load.elapsed.as_secs_f64()
            );
        }
        text
    }

    fn print_cpu(&self) {
        for (name, seconds) in self.cpu.0.iter().chain(&self.cpu.1) {
            println!("    {name:<24} {seconds:>6.1}");
        }
    }
}

/// What every load phase shares.
#[derive(Clone, Copy)]
struct Phases<'a> {
    cluster: &'a Cluster,
    /// The AdmissionReview sent.
    body: &'a [u8],
    concurrency: usize,
    seconds: u64,
}

impl Phases<'_> {
    /// Two seconds of load on `counsel`'s webhook before anything is
    /// measured (connections made, caches warm).
    fn warm_up(&self, counsel: &CounselProcess, runtime: &tokio::runtime::Runtime) {
        let ca = ca_of(counsel);
        let warm = Duration::from_secs(2);
        runtime.block_on(load(
            &ca,
            counsel.webhook,
            self.concurrency,
            warm,
            self.body,
        ));
    }

    /// The webhook of `counsel` under `concurrency` clients for `seconds` (at
    /// `per_second` reviews a second, or as fast as it answers). With
    /// `audit`, a new exception at the start makes the audit judge everything
    /// again meanwhile.
    fn measure(
        &self,
        counsel: &CounselProcess,
        per_second: Option<f64>,
        audit: Option<(&kube::Client, &tokio::runtime::Runtime)>,
    ) -> Measured {
        let Phases {
            cluster,
            body,
            concurrency,
            seconds,
        } = *self;
        let ca = ca_of(counsel);
        let evaluations_before = metric(
            &counsel.ops_get("/metrics"),
            "counsel_audit_evaluations_total",
        );
        let requests_before = apiserver_series(cluster, "apiserver_request_total");
        let cpu_before = (cpu_by_process(), cpu_by_thread(counsel.pid()));
        let stop = Arc::new(AtomicBool::new(false));
        let loading = {
            let (ca, stop) = (ca.to_vec(), stop.clone());
            let (webhook, body) = (counsel.webhook, body.to_vec());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(load_until(
                    &ca,
                    webhook,
                    concurrency,
                    per_second,
                    &stop,
                    &body,
                ))
            })
        };
        let judged_before = judged_count(counsel);
        if let Some((client, runtime)) = audit {
            // A new exception: everything is judged again. Made through the
            // API (not kubectl, whose start would weigh on the load); nothing
            // else is asked of the machine while the load runs.
            runtime.block_on(create_exception(client));
        }
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        let load = loading.join().expect("load");
        let cpu_after = (cpu_by_process(), cpu_by_thread(counsel.pid()));
        let requests_after = apiserver_series(cluster, "apiserver_request_total");
        let evaluations = metric(
            &counsel.ops_get("/metrics"),
            "counsel_audit_evaluations_total",
        ) - evaluations_before;
        Measured {
            load,
            audited: audit.is_some(),
            audits: judged_count(counsel) - judged_before,
            evaluations,
            cpu: (
                cpu_used(&cpu_before.0, &cpu_after.0),
                cpu_used(&cpu_before.1, &cpu_after.1),
            ),
            requests: difference(&requests_before, &requests_after),
        }
    }
}

/// Creates `count` objects (kubectl create of Lists, four at a time);
/// returns how many are Pods a ReplicaSet owns.
fn populate(cluster: &Cluster, count: usize) -> usize {
    let namespaces: Vec<Value> = (0..NAMESPACES)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": format!("team-{i:03}"),
                "labels": {"team": format!("team-{i}")},
                "annotations": {"counsel.dev/owner": format!("team-{i}")},
            }})
        })
        .collect();
    create(cluster, namespaces);
    let objects: Vec<Value> = (0..count).map(object).collect();
    let owned = objects
        .iter()
        .filter(|object| object["metadata"].get("ownerReferences").is_some())
        .count();
    let chunks: Vec<Vec<Value>> = objects.chunks(500).map(<[Value]>::to_vec).collect();
    let chunks = std::sync::Mutex::new(chunks);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while let Some(chunk) = chunks.lock().expect("chunks").pop() {
                    create(cluster, chunk);
                }
            });
        }
    });
    owned
}

fn create(cluster: &Cluster, items: Vec<Value>) {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    cluster
        .kubectl(&["create", "-f", "-", "-o", "name"])
        .stdin(list.to_string())
        .success();
}

/// The `i`th generated object: a mix of kinds, some compliant with the
/// restricted Pod Security Standard, some privileged, some without limits
/// or probes, as teams write them.
fn object(i: usize) -> Value {
    let namespace = format!("team-{:03}", i % NAMESPACES);
    let name = format!("app-{i:05}");
    let template = json!({"metadata": {"labels": {"app": name}}, "spec": pod_spec(i)});
    let selector = json!({"matchLabels": {"app": name}});
    let metadata =
        json!({"name": name, "namespace": namespace, "labels": {"app": name, "team": namespace}});
    let (api_version, kind, spec) = match i % 20 {
        0..=6 => (
            "apps/v1",
            "Deployment",
            json!({"replicas": 2, "selector": selector, "template": template}),
        ),
        7..=11 => ("v1", "Pod", pod_spec(i)),
        12..=13 => (
            "apps/v1",
            "StatefulSet",
            json!({"serviceName": name, "selector": selector, "template": template}),
        ),
        14 => (
            "apps/v1",
            "DaemonSet",
            json!({"selector": selector, "template": template}),
        ),
        15..=17 => {
            let mut job = template.clone();
            job["spec"]["restartPolicy"] = json!("Never");
            if i % 20 == 15 {
                ("batch/v1", "Job", json!({"template": job}))
            } else {
                (
                    "batch/v1beta1",
                    "CronJob",
                    json!({"schedule": "*/30 * * * *", "jobTemplate": {"spec": {"template": job}}}),
                )
            }
        }
        _ => ("v1", "Pod", pod_spec(i)),
    };
    let mut object =
        json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec});
    // A fifth of the Pods come from a ReplicaSet: reported at it, not here.
    if kind == "Pod" && i % 20 >= 18 {
        object["metadata"]["ownerReferences"] = json!([{
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{name}-rs"),
            "uid": "0b7f3c2e-5d4a-4e8f-9a1b-2c3d4e5f6a7b", "controller": true,
        }]);
    }
    object
}

fn pod_spec(i: usize) -> Value {
    let restricted = i.is_multiple_of(3);
    let security = if restricted {
        json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true,
               "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})
    } else if i.is_multiple_of(7) {
        json!({"privileged": true})
    } else {
        json!({"runAsUser": 1000})
    };
    let env: Vec<Value> = (0..6)
        .map(|e| json!({"name": format!("SETTING_{e}"), "value": format!("value-{i}-{e}")}))
        .collect();
    let mut app = json!({
        "name": "app",
        "image": format!("registry.example/team/app:{}.{}", i % 9, i % 4),
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": env,
        "securityContext": security,
    });
    if i.is_multiple_of(2) {
        app["resources"] =
            json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}});
        app["readinessProbe"] = json!({"httpGet": {"path": "/ready", "port": "http"}});
        app["livenessProbe"] = json!({"httpGet": {"path": "/live", "port": "http"}});
    }
    let mut containers = vec![app];
    if i % 4 == 1 {
        containers.push(json!({"name": "log-shipper", "image": "registry.example/shipper:2", "securityContext": security}));
    }
    json!({"containers": containers})
}

/// Creates a CounselException in the second namespace for the `n`th
/// Deployment there, which has no memory limit: everything is judged
/// again, and one result in that namespace's report becomes a skip.
async fn create_exception(client: &kube::Client) {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = MADE.fetch_add(1, Ordering::Relaxed);
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
    let gvk = GroupVersionKind::gvk("counsel.dev", "v1alpha1", "CounselException");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "counselexceptions");
    let api = Api::<DynamicObject>::namespaced_with(client.clone(), "team-001", &resource);
    let object: DynamicObject = serde_json::from_value(exception(n)).expect("an exception");
    api.create(&PostParams::default(), &object)
        .await
        .expect("the exception is created");
}

fn exception(n: usize) -> Value {
    json!({
        "apiVersion": "counsel.dev/v1alpha1",
        "kind": "CounselException",
        "metadata": {"name": format!("bench-{n}"), "namespace": "team-001"},
        "spec": {
            "policy": "workload-hygiene",
            "rules": ["memory-limit"],
            "objects": {"kinds": ["Deployment"], "names": [format!("app-{:05}", n * NAMESPACES + 1)]},
            "reason": "measured",
            "owner": "team-0",
            "expires": times::from_now(7 * 86_400),
        },
    })
}

/// The development CA `counsel` made, which its webhook's certificate
/// chains to.
fn ca_of(counsel: &CounselProcess) -> Vec<u8> {
    std::fs::read(counsel.dir.path().join("certs/ca.crt")).expect("development CA")
}

/// How many full audits have ended so far.
fn judged_count(counsel: &CounselProcess) -> usize {
    counsel.count_messages(|message| message == JUDGED)
}

/// Waits until the report writer's first pass is done (it writes once the
/// audit is complete) and nothing more is written for two seconds, so
/// that the load below meets the audit, not the API server still storing
/// the first reports; returns how many were written.
fn wait_for_reports(counsel: &CounselProcess) -> f64 {
    const WRITTEN: &str = "counsel_report_writes_total{outcome=\"written\"}";
    let started = Instant::now();
    let mut last = (0.0, Instant::now());
    while started.elapsed() < Duration::from_secs(300) {
        let written = metric(&counsel.ops_get("/metrics"), WRITTEN);
        if written != last.0 {
            last = (written, Instant::now());
        } else if written > 0.0 && last.1.elapsed() >= Duration::from_secs(2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    last.0
}

/// The value of the series `name` (exactly, no labels).
fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// The sum of the series starting with `prefix`.
fn metric_sum(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// VmHWM of the process, in KiB.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The API server's series `name` summed by verb and resource.
fn apiserver_series(cluster: &Cluster, name: &str) -> BTreeMap<(String, String), f64> {
    let metrics = cluster.kubectl(&["get", "--raw", "/metrics"]).success();
    let mut counts = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('{'))
        else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=\"")))
                .map(|value| value.trim_end_matches('"').to_owned())
                .unwrap_or_default()
        };
        let resource = match label("subresource").as_str() {
            "" => label("resource"),
            sub => format!("{}/{sub}", label("resource")),
        };
        *counts.entry((label("verb"), resource)).or_default() +=
            value.parse::<f64>().unwrap_or(0.0);
    }
    counts
}

fn difference(
    before: &BTreeMap<(String, String), f64>,
    after: &BTreeMap<(String, String), f64>,
) -> Vec<((String, String), f64)> {
    after
        .iter()
        .map(|(key, count)| (key.clone(), count - before.get(key).copied().unwrap_or(0.0)))
        .filter(|(_, count)| *count > 0.0)
        .collect()
}

/// The bytes of every `openreports.io` Report and ClusterReport, as the
/// API server serves them (JSON): what the audit's reports cost etcd.
/// The reports are written by the report writer (src/reports*), not by
/// the audit; without it, there are none to count.
fn report_bytes(cluster: &Cluster) -> String {
    let groups = cluster
        .kubectl(&["api-resources", "--api-group=openreports.io", "-o", "name"])
        .run();
    if groups.code != Some(0) || groups.stdout.trim().is_empty() {
        return "n/a (no openreports.io resources in this cluster: no report writer ran)"
            .to_owned();
    }
    let mut total = 0;
    let mut reports = 0;
    for resource in groups.stdout.lines() {
        let listed = cluster
            .kubectl(&["get", resource, "-A", "-o", "json"])
            .success();
        let list: Value = serde_json::from_str(&listed).expect("a list");
        for item in list["items"].as_array().into_iter().flatten() {
            total += item.to_string().len();
            reports += 1;
        }
    }
    format!("{total} bytes in {reports} reports")
}

/// CPU seconds (user and system) used so far, summed by the name (`comm`)
/// of the processes, or of the threads of `pid`, in `dir`'s entries.
fn cpu_seconds(dir: &str, entries: &str) -> BTreeMap<String, f64> {
    // Clock ticks per second: 100 on Linux.
    const TICKS: f64 = 100.0;
    let mut cpu = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(stat) = std::fs::read_to_string(path.join(entries)) else {
            continue;
        };
        // `pid (comm) state ...`: the comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
            .sum();
        // Numbered threads of one pool count as one.
        let name = comm.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        *cpu.entry(name.to_owned()).or_default() += ticks / TICKS;
    }
    cpu
}

fn cpu_by_process() -> BTreeMap<String, f64> {
    cpu_seconds("/proc", "stat")
}

fn cpu_by_thread(pid: u32) -> BTreeMap<String, f64> {
    cpu_seconds(&format!("/proc/{pid}/task"), "stat")
}

/// What was used between `before` and `after`, most first, above 0.1 s.
fn cpu_used(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> CpuUse {
    let mut used: CpuUse = after
        .iter()
        .map(|(name, s)| (name.clone(), s - before.get(name).copied().unwrap_or(0.0)))
        .filter(|(_, s)| *s >= 0.1)
        .collect();
    used.sort_by(|a, b| b.1.total_cmp(&a.1));
    used
}
