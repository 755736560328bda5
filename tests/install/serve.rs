//! Running `counsel install`'s Deployment as the kubelet would: its
//! volumes laid out from the ConfigMap and Secret of the same output, its
//! environment, its command; then probed on its ports and called over TLS as
//! the API server would, trusting only the webhook's caBundle.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use serde_json::Value;

use super::manifests::{Installed, base64_decode};
use super::tls;

/// How long policies may take to compile on a cold cache.
const READY_WITHIN: Duration = Duration::from_secs(180);

/// Kills the server when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `counsel serve` started as the Deployment describes it.
pub struct Deployed {
    _running: Running,
    // Holds the laid-out volumes until the server stops.
    root: tempfile::TempDir,
    webhook_port: u16,
    ops_port: u16,
    ca: Vec<u8>,
    path: String,
    service_name: String,
}

impl Deployed {
    /// Starts the Deployment's container locally and waits until it is
    /// ready; it is reached as `service_name`, trusting only the caBundle.
    pub fn start(installed: &Installed, service_name: &str) -> Deployed {
        let root = tempfile::tempdir().expect("temp dir");
        let mounts = lay_out_volumes(installed, root.path());
        let container = installed.container();
        let webhook_port = free_port();
        let ops_port = free_port();
        let mut env = BTreeMap::new();
        for var in container["env"].as_array().expect("env") {
            let name = var["name"].as_str().expect("name").to_owned();
            let value = var["value"].as_str().expect("value").to_owned();
            let value = match name.as_str() {
                "COUNSEL_LISTEN" => format!("127.0.0.1:{webhook_port}"),
                "COUNSEL_METRICS_LISTEN" => format!("127.0.0.1:{ops_port}"),
                _ => relocate(&value, &mounts),
            };
            env.insert(name, value);
        }
        let args: Vec<&str> = container["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|arg| arg.as_str().expect("arg"))
            .collect();
        let child = Command::new(env!("CARGO_BIN_EXE_counsel"))
            .args(&args)
            .current_dir(root.path())
            .env_clear()
            .envs(&env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.path().join("serve.log")).expect("log file"))
            .spawn()
            .expect("counsel serve starts");
        let webhook = installed.validating_webhook();
        let deployed = Deployed {
            _running: Running(child),
            root,
            webhook_port,
            ops_port,
            ca: base64_decode(
                webhook["clientConfig"]["caBundle"]
                    .as_str()
                    .expect("caBundle"),
            ),
            path: webhook["clientConfig"]["service"]["path"]
                .as_str()
                .expect("path")
                .to_owned(),
            service_name: service_name.to_owned(),
        };
        let started = Instant::now();
        loop {
            match deployed.get("/readyz") {
                Some((200, body)) => {
                    assert_eq!(body, "ready\n");
                    return deployed;
                }
                _ if started.elapsed() > READY_WITHIN => {
                    panic!(
                        "not ready within {READY_WITHIN:?}; log:\n{}",
                        deployed.logs()
                    )
                }
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(self.root.path().join("serve.log")).unwrap_or_default()
    }

    /// `GET path` on the plain ops port.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        plain_get(self.ops_port, path)
    }

    /// Sends an AdmissionReview to the webhook's path as the API server
    /// would; returns the answer's `response`.
    pub fn review(&self, review: &[u8]) -> Value {
        let (status, body) = https_post(
            self.webhook_port,
            &self.service_name,
            &self.ca,
            &self.path,
            review,
        )
        .unwrap_or_else(|e| panic!("calling the webhook: {e}; log:\n{}", self.logs()));
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).expect("an AdmissionReview");
        answer["response"].clone()
    }
}

/// Starts the Deployment's container locally and checks that it becomes
/// ready and answers a review, reached as `service_name`.
pub fn run_as_deployed(installed: &Installed, service_name: &str) {
    let deployed = Deployed::start(installed, service_name);
    assert_eq!(deployed.get("/healthz"), Some((200, "ok\n".to_owned())));
    let (_, metrics) = deployed.get("/metrics").expect("metrics");
    assert!(metrics.contains("counsel_policies_loaded 2\n"), "{metrics}");

    let review = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/review-privileged.json"),
    )
    .expect("example review");
    let response = deployed.review(&review);
    let request: Value = serde_json::from_slice(&review).expect("JSON");
    assert_eq!(response["uid"], request["request"]["uid"]);
    assert_eq!(response["allowed"], false, "{response}");
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().expect("message");
    let object = &request["request"]["object"];
    let subject = format!(
        "{} {}/{} violates ",
        object["kind"].as_str().expect("kind"),
        object["metadata"]["namespace"].as_str().expect("namespace"),
        object["metadata"]["name"].as_str().expect("name")
    );
    assert!(message.starts_with(&subject), "{message}");
}

/// Writes every mounted volume's files under `root` as the kubelet would
/// project them; returns mount path → where it is under `root`.
fn lay_out_volumes(installed: &Installed, root: &Path) -> BTreeMap<String, PathBuf> {
    let volumes = installed.pod_spec()["volumes"].as_array().expect("volumes");
    let mut mounts = BTreeMap::new();
    for mount in installed.container()["volumeMounts"]
        .as_array()
        .expect("mounts")
    {
        let mount_path = mount["mountPath"].as_str().expect("mountPath");
        let dir = root.join(mount_path.trim_start_matches('/'));
        std::fs::create_dir_all(&dir).expect("mount dir");
        let volume = volumes
            .iter()
            .find(|volume| volume["name"] == mount["name"])
            .expect("volume");
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(source) = volume.get("configMap") {
            let map = named(installed, "ConfigMap", &source["name"]);
            let mut keys: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            for (key, text) in map["data"].as_object().into_iter().flatten() {
                keys.insert(
                    key.clone(),
                    text.as_str().expect("text").as_bytes().to_vec(),
                );
            }
            for (key, data) in map["binaryData"].as_object().into_iter().flatten() {
                keys.insert(key.clone(), base64_decode(data.as_str().expect("base64")));
            }
            match source["items"].as_array() {
                Some(items) => {
                    for item in items {
                        let key = item["key"].as_str().expect("key");
                        files.push((
                            item["path"].as_str().expect("path").to_owned(),
                            keys[key].clone(),
                        ));
                    }
                }
                None => files.extend(keys),
            }
        } else if let Some(source) = volume.get("secret") {
            let secret = named(installed, "Secret", &source["secretName"]);
            for (key, data) in secret["data"].as_object().expect("data") {
                files.push((key.clone(), base64_decode(data.as_str().expect("base64"))));
            }
        } else {
            assert!(
                volume.get("emptyDir").is_some(),
                "unexpected volume {volume}"
            );
        }
        for (path, bytes) in files {
            let file = dir.join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
            std::fs::write(file, bytes).expect("write projected file");
        }
        mounts.insert(mount_path.to_owned(), dir);
    }
    mounts
}

fn named<'a>(installed: &'a Installed, kind: &str, name: &Value) -> &'a Value {
    installed
        .objects
        .iter()
        .find(|object| object["kind"] == kind && object["metadata"]["name"] == *name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the output"))
}

/// A path in the container as the same file where its volume is laid out.
fn relocate(value: &str, mounts: &BTreeMap<String, PathBuf>) -> String {
    for (mount_path, dir) in mounts {
        if let Some(rest) = value.strip_prefix(mount_path.as_str()) {
            return format!("{}{rest}", dir.display());
        }
    }
    assert!(
        !value.starts_with('/'),
        "{value} is on no volume: the root filesystem is read-only"
    );
    value.to_owned()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// `GET path` on the plain ops port: status and body, `None` when nothing
/// listens yet.
fn plain_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    parse_response(&response)
}

/// `POST path` over TLS, trusting only `ca` and verifying `server_name`.
fn https_post(
    port: u16,
    server_name: &str,
    ca: &[u8],
    path: &str,
    body: &[u8],
) -> Result<(u16, String), String> {
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| e.to_string())?;
    let connection =
        rustls::ClientConnection::new(tls::client_trusting(ca), name).map_err(|e| e.to_string())?;
    let socket = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut stream = rustls::StreamOwned::new(connection, socket);
    let head = format!(
        "POST {path}?timeout=10s HTTP/1.1\r\nHost: {server_name}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| e.to_string())?;
    stream.write_all(body).map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buffer[..n]),
            // A peer that closes without close_notify after the response.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    parse_response(&response).ok_or_else(|| {
        format!(
            "not an HTTP response: {}",
            String::from_utf8_lossy(&response)
        )
    })
}

/// Status and body of an HTTP/1.1 response (plain or chunked).
fn parse_response(bytes: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head
        .lines()
        .any(|line| line.eq_ignore_ascii_case("transfer-encoding: chunked"));
    if !chunked {
        return Some((status, body.to_owned()));
    }
    let mut rest = body;
    let mut decoded = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            return Some((status, decoded));
        }
        decoded.push_str(after.get(..size)?);
        rest = after.get(size + 2..)?;
    }
}
