//! What the writer keeps of a report (a digest, its results' timestamps)
//! and how a report built from a snapshot compares with it: unchanged, or
//! a body to apply with its results stamped.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};

use super::{OpenReport, ReportOptions, ReportResult, Timestamp, build_one};
use crate::audit::AuditSnapshot;

/// What the writer keeps of a report in the cluster.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    /// Of its content, timestamps aside.
    pub(super) digest: Digest,
    /// Each result's timestamp, by the digest of the result.
    pub(super) timestamps: HashMap<Digest, Timestamp>,
}

/// A SHA-256 digest.
pub(super) type Digest = [u8; 32];

/// A namespace's report as built from a snapshot.
pub(super) enum Built {
    /// Its content is what the cluster has already.
    Unchanged,
    /// The namespace has no results: no report.
    Empty,
    /// The report to apply, as its body, and what to keep of it.
    Changed(Box<RawValue>, Stored),
}

impl Stored {
    /// What is kept of a report listed from the cluster.
    pub(super) fn listed(report: &OpenReport) -> Stored {
        let results: Vec<Digest> = report.results.iter().map(digest_of).collect();
        let timestamps = (results.iter().zip(&report.results))
            .filter_map(|(digest, result)| Some((*digest, result.timestamp?)))
            .collect();
        Stored {
            digest: report_digest(report, &results),
            timestamps,
        }
    }
}

/// The report of `namespace` in `snapshot`, compared with what is stored
/// of it; its results stamped `now` unless they were there already.
pub(super) fn build(
    snapshot: &AuditSnapshot,
    namespace: Option<&str>,
    options: &ReportOptions,
    stored: Option<&Stored>,
    now: Timestamp,
) -> Built {
    match build_one(snapshot, namespace, options) {
        None => Built::Empty,
        Some(report) => compare(report, stored, now),
    }
}

/// Now, as a result's timestamp (whole seconds).
pub(super) fn now_timestamp() -> Timestamp {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        nanos: 0,
    }
}

/// `report` as a change to apply, its results stamped (with the timestamp
/// a result had when it was there already, `now` otherwise); `Unchanged`
/// when `stored` says the same.
fn compare(mut report: OpenReport, stored: Option<&Stored>, now: Timestamp) -> Built {
    let results: Vec<Digest> = report.results.iter().map(digest_of).collect();
    let digest = report_digest(&report, &results);
    if stored.is_some_and(|stored| stored.digest == digest) {
        return Built::Unchanged;
    }
    let mut timestamps = HashMap::with_capacity(results.len());
    for (result, digest) in report.results.iter_mut().zip(results) {
        let earlier = stored.and_then(|stored| stored.timestamps.get(&digest));
        let timestamp = earlier.copied().unwrap_or(now);
        result.timestamp = Some(timestamp);
        timestamps.insert(digest, timestamp);
    }
    match serde_json::value::to_raw_value(&report.to_object()) {
        Ok(body) => Built::Changed(body, Stored { digest, timestamps }),
        // Plain data always serialises; were it not to, nothing is written.
        Err(_) => Built::Unchanged,
    }
}

/// The digest of a result, its timestamp aside.
fn digest_of(result: &ReportResult) -> Digest {
    let mut hasher = Sha256::new();
    let bytes = serde_json::to_vec(&ReportResult {
        timestamp: None,
        ..result.clone()
    });
    hasher.update(bytes.unwrap_or_default());
    hasher.finalize().into()
}

/// The digest of a report's content, timestamps aside, from its results'.
fn report_digest(report: &OpenReport, results: &[Digest]) -> Digest {
    let mut hasher = Sha256::new();
    let head = (
        &report.namespace,
        report.summary,
        report.omitted,
        report.max_results,
    );
    hasher.update(serde_json::to_vec(&head).unwrap_or_default());
    for result in results {
        hasher.update(result);
    }
    hasher.finalize().into()
}
