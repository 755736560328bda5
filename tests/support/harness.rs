//! A real `counsel serve` in the test process: generated certificates, both
//! listeners on ephemeral loopback ports, real policies.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use counsel::certs::{self, CertFiles, GeneratedCertificates, SubjectNames};
use counsel::engine::{Engine, EngineOptions};
use counsel::server::{
    self, CertificatePaths, PolicySource, ServeError, ServeOptions, Server, ServerState,
};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::client::{Protocol, TlsClient};

use super::policy_cache;

/// A compiled policy committed (or built) in `policies/dist`.
pub fn module(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies/dist")
        .join(format!("{name}.wasm"))
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub files: CertFiles,
    pub ca_pem: Vec<u8>,
    pub webhook: SocketAddr,
    pub ops: SocketAddr,
    pub state: Arc<ServerState>,
    pub config_path: Option<PathBuf>,
    /// Where the server, started unloaded, waits for its configuration.
    config: Option<std::sync::mpsc::Sender<Option<PathBuf>>>,
    source: Option<oneshot::Receiver<Arc<PolicySource>>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

impl Harness {
    /// A server started by `server::run`, with no policies loaded yet: the
    /// policy source it asks for is made when the test calls
    /// [`Harness::load`].
    pub async fn start_unloaded(configure: impl FnOnce(&mut ServeOptions)) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = certs::generate(&SubjectNames::localhost())
            .expect("certificates")
            .write(&dir.path().join("certs"))
            .expect("written");
        let mut options = ServeOptions::new(
            "127.0.0.1:0".parse().expect("addr"),
            "127.0.0.1:0".parse().expect("addr"),
            CertificatePaths {
                cert: files.cert.clone(),
                key: files.key.clone(),
            },
        );
        configure(&mut options);
        let server = Server::bind(options).await.expect("server binds");
        let (webhook, ops, state) = (server.webhook_addr(), server.ops_addr(), server.state());
        let (config, configured) = std::sync::mpsc::channel::<Option<PathBuf>>();
        let (made, source) = oneshot::channel();
        let policies = move || {
            // A harness stopped before it loaded anything serves the
            // built-in configuration meanwhile.
            let config_path = configured.recv().unwrap_or(None);
            let engine = Engine::new(EngineOptions {
                cache_dir: Some(policy_cache::dir()),
                ..EngineOptions::default()
            })
            .map_err(ServeError::Engine)?;
            let source = Arc::new(PolicySource::new(config_path, Arc::new(engine)));
            let _ = made.send(source.clone());
            Ok(source)
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::run(server, policies, async move {
            let _ = stopped.await;
        }));
        let ca_pem = std::fs::read(&files.ca_cert).expect("CA");
        Harness {
            dir,
            files,
            ca_pem,
            webhook,
            ops,
            state,
            config_path: None,
            config: Some(config),
            source: Some(source),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A server reviewing with `config` (YAML; `None`: the built-in one).
    pub async fn start(config: Option<&str>) -> Harness {
        Self::start_with(config, |_| {}).await
    }

    pub async fn start_with(
        config: Option<&str>,
        configure: impl FnOnce(&mut ServeOptions),
    ) -> Harness {
        let mut harness = Self::start_unloaded(configure).await;
        harness.load(config).await;
        harness
    }

    /// Gives the server its configuration and waits until it has loaded
    /// and installed the policies; returns the source they came from.
    pub async fn load(&mut self, config: Option<&str>) -> Arc<PolicySource> {
        let config_path = config.map(|yaml| {
            let path = self.dir.path().join("counsel.yaml");
            std::fs::write(&path, yaml).expect("config written");
            path
        });
        self.config_path = config_path.clone();
        self.config
            .take()
            .expect("loaded once")
            .send(config_path)
            .expect("the server waits for its configuration");
        let source = self
            .source
            .take()
            .expect("loaded once")
            .await
            .expect("the policy source is made");
        let task = self.task.as_mut().expect("running");
        tokio::select! {
            () = self.state.policies_loaded() => {}
            ended = task => panic!("the server stopped instead of loading policies: {ended:?}"),
        }
        source
    }

    /// A new serving certificate for localhost from the server's CA, as
    /// `counsel certs` or cert-manager would issue it (not written yet).
    pub fn renewed_certificate(&self) -> GeneratedCertificates {
        let ca_cert = std::fs::read_to_string(&self.files.ca_cert).expect("CA");
        let ca_key = std::fs::read_to_string(&self.files.ca_key).expect("CA key");
        certs::generate_with_ca(
            &SubjectNames::localhost(),
            &ca_cert,
            &ca_key,
            &self.files.ca_cert,
        )
        .expect("issued")
    }

    pub fn client(&self, protocol: Protocol) -> TlsClient {
        TlsClient::new(&self.ca_pem, self.webhook, protocol)
    }

    /// Stops the server (draining) and waits for it.
    pub async fn stop(mut self) {
        self.config.take();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("the server ran");
        }
    }
}

/// Polls `condition` until it holds. The cap only turns a hang into a
/// failure.
pub async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let wait = async {
        while !condition() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), wait)
        .await
        .unwrap_or_else(|_| panic!("still waiting for {what}"));
}

/// An AdmissionReview v1 body for `object` (`old_object` for DELETE).
pub fn review(
    uid: &str,
    operation: &str,
    object: Option<&Value>,
    old_object: Option<&Value>,
) -> Vec<u8> {
    let subject = object.or(old_object).expect("an object");
    let api_version = subject["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = subject["kind"].as_str().unwrap_or_default();
    let resource = counsel_contract::resource_name(kind);
    let gvk = json!({"group": group, "version": version, "kind": kind});
    let gvr = json!({"group": group, "version": version, "resource": resource});
    let body = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": gvk,
            "resource": gvr,
            "requestKind": gvk,
            "requestResource": gvr,
            "name": subject["metadata"]["name"],
            "namespace": subject["metadata"]["namespace"],
            "operation": operation,
            "userInfo": {"username": "jane@example.com", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": old_object,
            "dryRun": false,
        }
    });
    serde_json::to_vec(&body).expect("JSON")
}

/// A Deployment `shop/web` whose single container `app` runs privileged.
pub fn privileged_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "app",
                    "image": "nginx:1.27",
                    "securityContext": {"privileged": true}
                }]}
            }
        }
    })
}

/// A Deployment `shop/web` that passes container-security.
pub fn clean_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "securityContext": {"runAsNonRoot": true},
                    "containers": [{
                        "name": "app",
                        "image": "nginx:1.27",
                        "securityContext": {"allowPrivilegeEscalation": false}
                    }]
                }
            }
        }
    })
}

/// A configuration with only the bundled container-security policy,
/// enforced: three rules, so tests can count on exact answers whatever the
/// built-in configuration holds.
pub fn container_security_config() -> String {
    format!(
        "policies:\n  - name: container-security\n    module: {}\n    mode: enforce\n",
        module("container-security").display()
    )
}
