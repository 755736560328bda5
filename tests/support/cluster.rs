//! A real Kubernetes API server for end-to-end tests: etcd and
//! kube-apiserver on free loopback ports in a temporary directory, and
//! kubectl run against them with exact stdout, stderr and exit code.
//!
//! The binaries come from `tools/kube/install.sh` (which `./test.sh` runs):
//! kube-apiserver v1.20 built from Debian's source package, etcd from
//! Debian, kubectl 1.33 from PyPI. Their paths are read from
//! `COUNSEL_KUBE_APISERVER`, `COUNSEL_ETCD` and `COUNSEL_KUBECTL`, else from
//! the script's cache directories; a missing binary fails the test with a
//! message saying to run the script, never skips it.
//!
//! No controller-manager, scheduler or kubelet run: objects are stored,
//! pods never start, namespaces are not cleaned up. The ServiceAccount
//! admission plugin is off (no token controller would satisfy it). The
//! 1.20 API server does not label namespaces with
//! `kubernetes.io/metadata.name`, so [`Cluster::namespace`] does.
//!
//! Use:
//! ```ignore
//! use crate::support::{cluster, counsel_process};
//! let cluster = cluster::Cluster::shared();          // one per test run
//! let ns = cluster.namespace("my-test", &[]);        // one per test
//! let counsel = counsel_process::CounselProcess::start(Some(yaml), &[]);
//! cluster.register_counsel(&counsel, &webhook_configurations, &ns);
//! let out = cluster.kubectl(&["apply", "-n", &ns, "-f", "-"]).stdin(manifest).run();
//! assert_eq!(out.stdout, "deployment.apps/web created\n");
//! ```
//! [`Cluster::start`] gives a cluster of one's own, stopped when dropped;
//! [`Cluster::shared`] one that lives until the tests end (stopped
//! then, or by a watchdog if the binary is killed).

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use counsel::certs::{self, SubjectNames};
use serde_json::Value;

/// How long the API server may take to become ready: a cold start on a
/// busy two-core machine takes up to a minute.
const READY_WITHIN: Duration = Duration::from_secs(240);

/// A path from `variable`, else `fallback`; fails the test, naming the
/// script that provides it, when there is no executable there.
pub fn tool(variable: &str, fallback: PathBuf, what: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or(fallback, PathBuf::from);
    let executable = std::fs::metadata(&path).is_ok_and(|meta| meta.is_file());
    assert!(
        executable,
        "{what} not found at {} (set {variable} or run tools/kube/install.sh, as ./test.sh does)",
        path.display()
    );
    path
}

/// `${XDG_CACHE_HOME:-$HOME/.cache}`.
pub fn cache_home() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/root/.cache"))
}

/// kubectl, as tools/kube/kubectl-helm.sh installs it.
pub fn kubectl_binary() -> PathBuf {
    let fallback = cache_home().join("kube-tools/bin/kubectl");
    tool("COUNSEL_KUBECTL", fallback, "kubectl")
}

/// helm, as tools/kube/kubectl-helm.sh installs it.
pub fn helm_binary() -> PathBuf {
    let fallback = cache_home().join("kube-tools/bin/helm");
    tool("COUNSEL_HELM", fallback, "helm")
}

/// A free TCP port on 127.0.0.1 (free when asked; the servers bind it just
/// after).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("its address").port()
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` when killed by a signal.
    pub code: Option<i32>,
}

/// A command about to run: [`Cluster::kubectl`] makes one.
pub struct Run {
    command: Command,
    stdin: Option<Vec<u8>>,
}

impl Run {
    /// Text written to the command's standard input.
    pub fn stdin(mut self, text: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(text.into());
        self
    }

    /// Runs the command to its end.
    pub fn run(mut self) -> Output {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("the command starts");
        if let Some(text) = self.stdin.take() {
            let mut input = child.stdin.take().expect("stdin");
            // Written from a thread: a large input could fill the pipe while
            // the command's own output is not read yet.
            std::thread::spawn(move || input.write_all(&text));
        }
        let output = child.wait_with_output().expect("the command ends");
        Output {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
        }
    }

    /// Runs the command and returns its stdout; fails the test, with
    /// everything the command said, unless it exits 0.
    pub fn success(self) -> String {
        let output = self.run();
        assert_eq!(output.code, Some(0), "the command failed: {output:#?}");
        output.stdout
    }
}

/// A Deployment whose container runs privileged (no namespace: give one).
pub const PRIVILEGED_DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0
          securityContext: {privileged: true}
";

/// The ServiceAccount (namespace, name) whose token
/// [`Cluster::account_kubeconfig`] holds: the user a ClusterRoleBinding of
/// `counsel install -n counsel-system --name counsel` binds.
pub const COUNSEL_ACCOUNT: (&str, &str) = ("counsel-system", "counsel");

/// etcd and kube-apiserver, running.
pub struct Cluster {
    /// State, certificates, logs (`etcd.log`, `apiserver.log`), kubeconfig.
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
    /// A kubeconfig with the token of Counsel's ServiceAccount
    /// ([`COUNSEL_ACCOUNT`]): no rights but those a binding gives it.
    pub account_kubeconfig: PathBuf,
    etcd: Child,
    apiserver: Child,
}

/// Processes [`Cluster::shared`] started, stopped when the tests end.
static SHARED_PIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

extern "C" fn stop_shared() {
    if let Ok(pids) = SHARED_PIDS.lock() {
        for pid in pids.iter() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

impl Cluster {
    /// The cluster of the test run, started on first use. Tests share
    /// it: each should work in namespaces of its own ([`Cluster::namespace`]).
    // atexit is unsafe: see the SAFETY comment inside.
    #[allow(unsafe_code)]
    pub fn shared() -> &'static Cluster {
        static SHARED: OnceLock<Cluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            let cluster = Cluster::start();
            if let Ok(mut pids) = SHARED_PIDS.lock() {
                if pids.is_empty() {
                    // SAFETY: registers a plain function with no captured
                    // state, run once by libc's exit.
                    unsafe { libc::atexit(stop_shared) };
                }
                pids.extend([cluster.apiserver.id(), cluster.etcd.id()]);
            }
            cluster
        })
    }

    /// A new cluster of one's own; stopped when dropped.
    pub fn start() -> Cluster {
        let apiserver_binary = tool(
            "COUNSEL_KUBE_APISERVER",
            cache_home().join("kube-apiserver/bin/kube-apiserver"),
            "kube-apiserver",
        );
        let etcd_binary = tool("COUNSEL_ETCD", PathBuf::from("/usr/bin/etcd"), "etcd");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        let pki = certs::generate(&SubjectNames::localhost())
            .expect("certificates")
            .write(&root.join("pki"))
            .expect("certificates written");
        // The key service-account tokens would be signed with (none are
        // made here, but the API server requires one).
        let account_key = rcgen::KeyPair::generate().expect("a key pair");
        let (account_private, account_public) = (root.join("sa.key"), root.join("sa.pub"));
        std::fs::write(&account_private, account_key.serialize_pem()).expect("key written");
        std::fs::write(&account_public, account_key.public_key_pem()).expect("key written");
        let token = random_hex();
        let account_token = random_hex();
        let (account_namespace, account_name) = COUNSEL_ACCOUNT;
        std::fs::write(
            root.join("tokens.csv"),
            format!(
                "{token},admin,admin,\"system:masters\"\n\
                 {account_token},system:serviceaccount:{account_namespace}:{account_name},counsel-account,\"system:serviceaccounts,system:serviceaccounts:{account_namespace}\"\n"
            ),
        )
        .expect("token file");

        let (client_port, peer_port, port) = (free_port(), free_port(), free_port());
        let etcd = Command::new(&etcd_binary)
            .args(["--name", "counsel-test", "--data-dir"])
            .arg(root.join("etcd"))
            .arg(format!(
                "--listen-client-urls=http://127.0.0.1:{client_port}"
            ))
            .arg(format!(
                "--advertise-client-urls=http://127.0.0.1:{client_port}"
            ))
            .arg(format!("--listen-peer-urls=http://127.0.0.1:{peer_port}"))
            .arg(format!(
                "--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}"
            ))
            .arg(format!(
                "--initial-cluster=counsel-test=http://127.0.0.1:{peer_port}"
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file(&root.join("etcd.log")))
            .spawn()
            .expect("etcd starts");
        let apiserver = Command::new(&apiserver_binary)
            .arg(format!("--etcd-servers=http://127.0.0.1:{client_port}"))
            .args(["--bind-address=127.0.0.1", "--advertise-address=127.0.0.1"])
            .arg(format!("--secure-port={port}"))
            .arg(format!("--cert-dir={}", root.join("cert-dir").display()))
            .arg(format!("--tls-cert-file={}", pki.cert.display()))
            .arg(format!("--tls-private-key-file={}", pki.key.display()))
            .arg(format!(
                "--token-auth-file={}",
                root.join("tokens.csv").display()
            ))
            .arg("--authorization-mode=RBAC")
            .arg("--service-account-issuer=https://kubernetes.default.svc")
            .arg(format!(
                "--service-account-key-file={}",
                account_public.display()
            ))
            .arg(format!(
                "--service-account-signing-key-file={}",
                account_private.display()
            ))
            .arg("--service-cluster-ip-range=10.0.0.0/24")
            // No controller-manager creates the tokens it would require.
            .arg("--disable-admission-plugins=ServiceAccount")
            .arg("--endpoint-reconciler-type=none")
            .arg("--enable-priority-and-fairness=false")
            // Alpha in 1.20: `kubectl debug` and the pods/ephemeralcontainers
            // subresource need it.
            .arg("--feature-gates=EphemeralContainers=true")
            // Pods are never run here; policies, not the API server, are
            // what tests check privileged containers against.
            .arg("--allow-privileged=true")
            .arg("--profiling=false")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file(&root.join("apiserver.log")))
            .spawn()
            .expect("kube-apiserver starts");
        let server = format!("https://127.0.0.1:{port}");
        let kubeconfig = root.join("kubeconfig");
        write_kubeconfig(&kubeconfig, &server, &pki.ca_cert, "admin", &token);
        let account_kubeconfig = root.join("account-kubeconfig");
        write_kubeconfig(
            &account_kubeconfig,
            &server,
            &pki.ca_cert,
            "counsel",
            &account_token,
        );
        watchdog(&[apiserver.id(), etcd.id()]);
        let mut cluster = Cluster {
            dir,
            kubeconfig,
            account_kubeconfig,
            etcd,
            apiserver,
        };
        cluster.wait_ready();
        cluster.install_crds();
        cluster
    }

    /// `kubectl create --dry-run=server` of [`PRIVILEGED_DEPLOYMENT`] in
    /// `namespace`, until `done` holds of the outcome (Counsel's watches
    /// follow the cluster within moments; nothing here waits a fixed time).
    pub fn create_until(&self, namespace: &str, done: impl Fn(&Output) -> bool) -> Output {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let output = self
                .kubectl(&["create", "--dry-run=server", "-n", namespace, "-f", "-"])
                .stdin(PRIVILEGED_DEPLOYMENT)
                .run();
            if done(&output) {
                return output;
            }
            assert!(
                Instant::now() < deadline,
                "the outcome never came; the last: {output:#?}"
            );
        }
    }

    /// Installs Counsel's CustomResourceDefinitions (exceptions and
    /// OpenReports), as the chart ships them, and waits until the API
    /// server serves them.
    fn install_crds(&self) {
        for file in ["exceptions.yaml", "openreports.yaml"] {
            let crds = format!("{}/charts/counsel/crds/{file}", env!("CARGO_MANIFEST_DIR"));
            self.kubectl(&["apply", "-f", &crds]).success();
        }
        self.kubectl(&[
            "wait",
            "--for=condition=established",
            "--timeout=60s",
            "crd/counselexceptions.counsel.dev",
            "crd/clustercounselexceptions.counsel.dev",
            "crd/reports.openreports.io",
            "crd/clusterreports.openreports.io",
        ])
        .success();
    }

    /// Waits until the API server answers /readyz and has made the
    /// `default` namespace; fails with the end of its log if it exits.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let ready = self.kubectl(&["get", "--raw=/readyz"]).run();
            if ready.code == Some(0)
                && self.kubectl(&["get", "namespace", "default"]).run().code == Some(0)
            {
                return;
            }
            let exited = [
                ("kube-apiserver", &mut self.apiserver),
                ("etcd", &mut self.etcd),
            ]
            .into_iter()
            .find_map(|(name, child)| Some((name, child.try_wait().ok()??)));
            if let Some((name, status)) = exited {
                panic!("{name} exited ({status}); its log:\n{}", self.log(name));
            }
            assert!(
                Instant::now() < deadline,
                "kube-apiserver not ready within {READY_WITHIN:?}; last answer {ready:#?}; its log:\n{}",
                self.log("kube-apiserver")
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The end of a server's log.
    pub fn log(&self, name: &str) -> String {
        let file = if name == "etcd" {
            "etcd.log"
        } else {
            "apiserver.log"
        };
        let text = std::fs::read_to_string(self.dir.path().join(file)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// A Kubernetes client of this cluster's administrator, made as
    /// `counsel serve --kubeconfig` makes its own.
    pub async fn client(&self) -> kube::Client {
        counsel::cluster::connect(Some(&self.kubeconfig))
            .await
            .expect("a client")
            .expect("a configured cluster")
            .client
    }

    /// kubectl with this cluster's kubeconfig and the given arguments.
    pub fn kubectl(&self, args: &[&str]) -> Run {
        let mut command = Command::new(kubectl_binary());
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            // kubectl's discovery cache and config stay in the test's dir.
            .env("HOME", self.dir.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF");
        Run {
            command,
            stdin: None,
        }
    }

    /// Creates namespace `name` labelled `kubernetes.io/metadata.name` (as
    /// Kubernetes ≥ 1.21 does by itself) and with `labels`; returns `name`.
    pub fn namespace(&self, name: &str, labels: &[(&str, &str)]) -> String {
        let mut manifest = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/metadata.name: {name}\n"
        );
        for (key, value) in labels {
            manifest.push_str(&format!("    {key}: {value:?}\n"));
        }
        self.kubectl(&["apply", "-f", "-"])
            .stdin(manifest)
            .success();
        name.to_owned()
    }

    /// Applies `objects` (webhook configurations as `counsel install` or
    /// the chart make them) with each webhook's `clientConfig` pointed at
    /// `counsel` by URL and its `namespaceSelector` narrowed to `namespace`
    /// (so that tests sharing the cluster do not see each other's
    /// webhooks; give each test its own configuration names), then waits
    /// until the API server calls Counsel: until a server-side dry run of a
    /// Pod in `namespace` is reviewed.
    pub fn register_counsel(
        &self,
        counsel: &super::counsel_process::CounselProcess,
        objects: &[Value],
        namespace: &str,
    ) {
        let mut stream = String::new();
        for object in objects {
            let mut object = object.clone();
            if let Some(webhooks) = object["webhooks"].as_array_mut() {
                for webhook in webhooks {
                    let path = webhook["clientConfig"]["service"]["path"]
                        .as_str()
                        .unwrap_or("/validate")
                        .to_owned();
                    webhook["clientConfig"] = serde_json::json!({
                        "url": format!("https://{}{path}", counsel.webhook),
                        "caBundle": counsel.ca_bundle(),
                    });
                    let only_this = serde_json::json!({
                        "key": "kubernetes.io/metadata.name",
                        "operator": "In",
                        "values": [namespace],
                    });
                    match webhook["namespaceSelector"]["matchExpressions"].as_array_mut() {
                        Some(expressions) => expressions.push(only_this),
                        None => {
                            webhook["namespaceSelector"] =
                                serde_json::json!({"matchExpressions": [only_this]});
                        }
                    }
                }
            }
            stream.push_str(&serde_json::to_string(&object).expect("JSON"));
            stream.push('\n');
        }
        self.kubectl(&["apply", "-f", "-"]).stdin(stream).success();
        let probe = format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"webhook-probe\",\"namespace\":\"{namespace}\"}},\"spec\":{{\"containers\":[{{\"name\":\"probe\",\"image\":\"registry.k8s.io/pause:3.9\"}}]}}}}"
        );
        let before = counsel.reviews();
        let deadline = Instant::now() + Duration::from_secs(60);
        while counsel.reviews() == before {
            assert!(
                Instant::now() < deadline,
                "the API server never called Counsel; Counsel's log:\n{}",
                counsel.log()
            );
            self.kubectl(&["create", "--dry-run=server", "-f", "-"])
                .stdin(probe.clone())
                .run();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in [&mut self.apiserver, &mut self.etcd] {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

/// A kubeconfig for `server` (trusting `ca`) as `user`, with `token`.
fn write_kubeconfig(path: &Path, server: &str, ca: &Path, user: &str, token: &str) {
    std::fs::write(
        path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority: {ca}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: test\n  context: {{cluster: test, user: {user}, namespace: default}}\ncurrent-context: test\n",
            ca = ca.display()
        ),
    )
    .expect("kubeconfig");
}

fn log_file(path: &Path) -> Stdio {
    Stdio::from(std::fs::File::create(path).expect("log file"))
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    let mut random = std::fs::File::open("/dev/urandom").expect("/dev/urandom");
    std::io::Read::read_exact(&mut random, &mut bytes).expect("random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stops `pids` when this test process is gone, however it ended (killed
/// by Ctrl-C, say, when no exit handler runs).
fn watchdog(pids: &[u32]) {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; kill \"$@\" 2>/dev/null")
        .arg(std::process::id().to_string());
    for pid in pids {
        command.arg(pid.to_string());
    }
    let _ = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
