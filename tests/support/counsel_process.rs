//! `counsel serve` as a process of its own, as a cluster runs it: the
//! binary under test, JSON logs, both listeners on free loopback ports, the
//! development certificate (valid for 127.0.0.1) in a temporary directory.
//!
//! ```ignore
//! let counsel = CounselProcess::start(Some("policies: ..."), &["--shutdown-delay", "0"]);
//! counsel.webhook;       // 127.0.0.1:PORT of /validate and /mutate
//! counsel.ca_bundle();   // base64 PEM CA, for a webhook's clientConfig
//! counsel.reviews();     // reviews answered so far (from /metrics)
//! counsel.log();         // everything it logged so far
//! ```
//! Stopped (SIGTERM, then waited for) when dropped.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::policy_cache;

/// A running `counsel serve`.
pub struct CounselProcess {
    /// Its working directory: `counsel.yaml`, `certs/`.
    pub dir: tempfile::TempDir,
    /// The HTTPS webhook listener.
    pub webhook: SocketAddr,
    /// The plain-HTTP ops listener (/healthz, /readyz, /metrics).
    pub ops: SocketAddr,
    child: Child,
    lines: Arc<(Mutex<Vec<Value>>, Condvar)>,
}

impl CounselProcess {
    /// Starts `counsel serve` with `config` (YAML; `None`: the built-in
    /// configuration) and further `args`, and waits until it is ready.
    pub fn start(config: Option<&str>, args: &[&str]) -> CounselProcess {
        Self::start_with(config, args, &[])
    }

    /// [`CounselProcess::start`] with environment variables too.
    pub fn start_with(config: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> CounselProcess {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut command = Command::new(super::cli::counsel_binary());
        command
            .arg("serve")
            .args(args)
            .current_dir(dir.path())
            .env("COUNSEL_LISTEN", "127.0.0.1:0")
            .env("COUNSEL_METRICS_LISTEN", "127.0.0.1:0")
            .env("COUNSEL_LOG_FORMAT", "json")
            .env("COUNSEL_CACHE_DIR", policy_cache::dir())
            .env_remove("COUNSEL_CONFIG")
            // Cluster features only where a test asks for them (--kubeconfig).
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST");
        for (name, value) in env {
            command.env(name, value);
        }
        if let Some(yaml) = config {
            std::fs::write(dir.path().join("counsel.yaml"), yaml).expect("configuration");
            command.env("COUNSEL_CONFIG", "counsel.yaml");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("counsel serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let collected = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                let (list, changed) = &*collected;
                if let Ok(mut list) = list.lock() {
                    list.push(value);
                }
                changed.notify_all();
            }
        });
        let mut process = CounselProcess {
            dir,
            webhook: "127.0.0.1:0".parse().expect("an address"),
            ops: "127.0.0.1:0".parse().expect("an address"),
            child,
            lines,
        };
        let serving = process.wait_for_message(|m| m.starts_with("counsel is serving on"));
        process.webhook = address_after(&serving, "https://");
        process.ops = address_after(&serving, "http://");
        process.wait_for_message(|m| m.starts_with("policies loaded:"));
        process
    }

    /// Waits for a log line whose message satisfies `wanted` (among those
    /// already logged, too) and returns the message; fails the test if
    /// the process exits first, or if three minutes go by (against
    /// hanging forever, not a timing: what is waited for comes in seconds).
    pub fn wait_for_message(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(180);
        let (list, changed) = &*self.lines;
        let mut seen = list.lock().expect("log lines");
        loop {
            if let Some(found) = seen.iter().filter_map(message).find(|m| wanted(m)) {
                return found.to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                drop(seen);
                panic!("counsel serve exited ({status}); its log:\n{}", self.log());
            }
            if std::time::Instant::now() > deadline {
                drop(seen);
                panic!("the awaited message never came; the log:\n{}", self.log());
            }
            seen = changed
                .wait_timeout(seen, Duration::from_millis(500))
                .expect("log lines")
                .0;
        }
    }

    /// Every line logged so far, one per line.
    pub fn log(&self) -> String {
        let (list, _) = &*self.lines;
        let lines = list.lock().expect("log lines");
        lines.iter().map(|line| format!("{line}\n")).collect()
    }

    /// How many messages logged so far satisfy `wanted` (without copying
    /// the log, which a busy server makes long).
    #[allow(dead_code)]
    pub fn count_messages(&self, wanted: impl Fn(&str) -> bool) -> usize {
        let lines = self.lines.0.lock().expect("log lines");
        lines
            .iter()
            .filter_map(message)
            .filter(|m| wanted(m))
            .count()
    }

    /// Every line logged so far, as JSON.
    pub fn log_lines(&self) -> Vec<Value> {
        self.lines.0.lock().expect("log lines").clone()
    }

    /// Its process id (the audit benchmark reads its peak memory).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The caBundle of its development CA.
    pub fn ca_bundle(&self) -> String {
        let pem = std::fs::read(self.dir.path().join("certs/ca.crt")).expect("development CA");
        counsel::certs::ca_bundle(&pem)
    }

    /// Waits until every cluster watch has synced (each says so once in
    /// the log).
    pub fn wait_synced(&mut self) {
        for kind in [
            "namespaces",
            "counselexceptions",
            "clustercounselexceptions",
        ] {
            self.wait_for_message(|m| m.starts_with(&format!("the watch of {kind} synced")));
        }
    }

    /// The body of GET `path` on the ops listener.
    pub fn ops_get(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(self.ops).expect("ops listener");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: counsel\r\n\r\n").expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    /// Reviews answered so far (`counsel_review_duration_seconds_count`,
    /// all labels).
    pub fn reviews(&self) -> u64 {
        self.ops_get("/metrics")
            .lines()
            .filter(|line| line.starts_with("counsel_review_duration_seconds_count"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().ok().and_then(|status| status.code())
    }

    /// Kills it (SIGKILL: no shutdown, nothing released) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for CounselProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

fn message(line: &Value) -> Option<&str> {
    line["fields"]["message"].as_str()
}

/// `... https://127.0.0.1:PORT ...` → the address.
fn address_after(text: &str, scheme: &str) -> SocketAddr {
    let start = text.find(scheme).expect("scheme") + scheme.len();
    let end = text[start..].find(' ').map_or(text.len(), |i| start + i);
    text[start..end].parse().expect("address")
}
