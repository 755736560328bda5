//! The webhook load both benchmarks make (`webhook`, `audit`): clients on
//! keep-alive HTTP/2 connections sending one AdmissionReview after another,
//! and what came of it. Beside the test support files the benches include,
//! it names their HTTPS client as `super::client`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use counsel::request::Request;
use serde_json::json;

use super::client::{Protocol, TlsClient};

/// The number in environment variable `name`, or `default`.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The AdmissionReview body of `request`, with the uid the load checks in
/// every answer (`bench`).
pub fn admission_review(request: &Request) -> Vec<u8> {
    let mut request = serde_json::to_value(request).expect("request");
    request["uid"] = json!("bench");
    request["dryRun"] = json!(false);
    serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}))
        .expect("JSON")
}

/// What a load phase measured: one latency per answered review.
pub struct LoadResult {
    /// Reviews not answered with a 200 for their uid.
    pub errors: u64,
    /// How long the phase took.
    pub elapsed: Duration,
    /// The latency of every answered review.
    pub latencies: Vec<Duration>,
}

impl LoadResult {
    /// The `q` quantile of the latencies.
    pub fn percentile(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted
            .get(((sorted.len().saturating_sub(1)) as f64 * q).round() as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Answered reviews.
    pub fn count(&self) -> usize {
        self.latencies.len()
    }

    /// Answered reviews per second.
    pub fn rate(&self) -> f64 {
        self.count() as f64 / self.elapsed.as_secs_f64()
    }
}

/// [`load_until`] for `duration`.
pub async fn load(
    ca: &[u8],
    webhook: SocketAddr,
    concurrency: usize,
    duration: Duration,
    body: &[u8],
) -> LoadResult {
    let stop = Arc::new(AtomicBool::new(false));
    let timer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let result = load_until(ca, webhook, concurrency, None, &stop, body).await;
    let _ = timer.await;
    result
}

/// `concurrency` clients, each on its own keep-alive HTTP/2 connection,
/// sending one review after another until `stop`: as fast as answers
/// come, or `per_second` reviews a second in all, evenly paced (a client
/// behind its pace sends at once).
pub async fn load_until(
    ca: &[u8],
    webhook: SocketAddr,
    concurrency: usize,
    per_second: Option<f64>,
    stop: &Arc<AtomicBool>,
    body: &[u8],
) -> LoadResult {
    let started = Instant::now();
    let interval = per_second.map(|rate| Duration::from_secs_f64(concurrency as f64 / rate));
    let mut workers = Vec::new();
    for client_index in 0..concurrency {
        let client = TlsClient::new(ca, webhook, Protocol::Http2);
        let (stop, body) = (stop.clone(), body.to_vec());
        workers.push(tokio::spawn(async move {
            let mut connection = client.connect().await.expect("connects");
            let (mut latencies, mut errors) = (Vec::new(), 0);
            // Clients start spread over one interval.
            let mut due = interval.map(|interval| {
                tokio::time::Instant::now()
                    + interval.mul_f64(client_index as f64 / concurrency as f64)
            });
            while !stop.load(Ordering::Relaxed) {
                if let (Some(next), Some(interval)) = (&mut due, interval) {
                    tokio::time::sleep_until(*next).await;
                    *next += interval;
                }
                let sent = Instant::now();
                match connection
                    .post("/validate", Some("application/json"), body.clone())
                    .await
                {
                    Ok(reply)
                        if reply.status == 200 && reply.json()["response"]["uid"] == "bench" =>
                    {
                        latencies.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut result = LoadResult {
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for worker in workers {
        let (latencies, errors) = worker.await.expect("worker");
        result.latencies.extend(latencies);
        result.errors += errors;
    }
    result.elapsed = started.elapsed();
    result
}

/// `1.23 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
