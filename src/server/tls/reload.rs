//! The serving certificate, reloaded when its files change.
//!
//! rustls asks the resolver for a certificate on every handshake, so
//! swapping the pair here is all it takes for new connections to get the new
//! certificate; connections already open keep theirs and nothing in flight
//! fails.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

use super::{CertificatePaths, TlsError, provider};
use crate::certs::{self, CertError, Validity};
use crate::server::metrics::{Metrics, Reloaded};

type Fingerprint = [u8; 32];

/// A certificate/key pair as served.
struct Served {
    key: Arc<CertifiedKey>,
    validity: Validity,
    fingerprint: Fingerprint,
}

/// What the watcher remembers between two looks at the files.
#[derive(Default)]
struct WatchState {
    /// Content that failed to load once: a rotation may be half-way (the
    /// certificate renamed into place, the key not yet), so it gets one more
    /// look before it is refused.
    pending: Option<Fingerprint>,
    /// Content already refused and logged; not logged again.
    refused: Option<Fingerprint>,
}

/// What [`ReloadingCertificate::check_for_update`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The files hold what is being served.
    Unchanged,
    /// A new pair is being served.
    Reloaded,
    /// The files changed but do not load; looking again before refusing.
    Pending,
    /// The new content was refused; the previous pair is still served.
    Refused(String),
}

/// The serving certificate and key of the webhook listener; a rustls
/// certificate resolver that can be updated while the server runs.
pub struct ReloadingCertificate {
    paths: CertificatePaths,
    current: RwLock<Arc<Served>>,
    watch: Mutex<WatchState>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for ReloadingCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingCertificate")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl ReloadingCertificate {
    /// Loads the pair; fails when it cannot be served at all. An expired
    /// certificate is served (with an error logged) so the server starts
    /// and reports not ready until a valid one arrives.
    pub fn load(paths: CertificatePaths, metrics: Arc<Metrics>) -> Result<Arc<Self>, TlsError> {
        let (cert_pem, key_pem) = read_pair(&paths)?;
        let served = parse_pair(&paths, &cert_pem, &key_pem)?;
        if !served.validity.contains(SystemTime::now()) {
            tracing::error!(
                cert = %paths.cert.display(),
                "the serving certificate is not valid now ({}); the webhook stays not ready until it is replaced",
                describe_validity(&served.validity)
            );
        }
        metrics.set_certificate_expiry(served.validity.not_after);
        Ok(Arc::new(ReloadingCertificate {
            paths,
            current: RwLock::new(Arc::new(served)),
            watch: Mutex::new(WatchState::default()),
            metrics,
        }))
    }

    /// The files being watched.
    pub fn paths(&self) -> &CertificatePaths {
        &self.paths
    }

    /// The validity period of the certificate being served.
    pub fn validity(&self) -> Validity {
        self.served().validity
    }

    fn served(&self) -> Arc<Served> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the files and, when their content changed and loads as a valid
    /// pair, serves the new pair. Blocking (file I/O and key parsing).
    pub fn check_for_update(&self) -> ReloadOutcome {
        // Content, not mtimes, decides: secret volumes swap symlinks and
        // mtimes have coarse granularity; the files are a few KB.
        let read = read_pair(&self.paths);
        let fingerprint = match &read {
            Ok((cert, key)) => fingerprint(&[cert, key]),
            Err(error) => fingerprint(&[error.to_string().as_bytes()]),
        };
        if fingerprint == self.served().fingerprint {
            self.watch_state().pending = None;
            return ReloadOutcome::Unchanged;
        }
        let mut watch = self.watch_state();
        if watch.refused == Some(fingerprint) {
            return ReloadOutcome::Unchanged;
        }
        let loaded = read.map_err(TlsError::from).and_then(|(cert, key)| {
            let served = parse_pair(&self.paths, &cert, &key)?;
            if served.validity.not_after < SystemTime::now() {
                return Err(TlsError::Pair {
                    cert: self.paths.cert.clone(),
                    key: self.paths.key.clone(),
                    reason: format!(
                        "the new certificate has expired ({})",
                        describe_validity(&served.validity)
                    ),
                });
            }
            Ok(served)
        });
        match loaded {
            Ok(served) => {
                tracing::info!(
                    cert = %self.paths.cert.display(),
                    "serving certificate reloaded ({})",
                    describe_validity(&served.validity)
                );
                self.metrics
                    .set_certificate_expiry(served.validity.not_after);
                self.metrics.record_reload(Reloaded::Certificate, true);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(served);
                *watch = WatchState::default();
                ReloadOutcome::Reloaded
            }
            Err(_) if watch.pending != Some(fingerprint) => {
                watch.pending = Some(fingerprint);
                ReloadOutcome::Pending
            }
            Err(error) => {
                let old = self.served().validity;
                tracing::error!(
                    cert = %self.paths.cert.display(),
                    key = %self.paths.key.display(),
                    "refused the changed serving certificate, still serving the previous one ({}): {error}",
                    describe_validity(&old)
                );
                self.metrics.record_reload(Reloaded::Certificate, false);
                watch.pending = None;
                watch.refused = Some(fingerprint);
                ReloadOutcome::Refused(error.to_string())
            }
        }
    }

    fn watch_state(&self) -> std::sync::MutexGuard<'_, WatchState> {
        self.watch.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Looks at the files every `interval` until the task is dropped.
    pub async fn watch(self: Arc<Self>, interval: Duration) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let this = self.clone();
            if let Err(error) = tokio::task::spawn_blocking(move || this.check_for_update()).await {
                tracing::error!("certificate watcher failed: {error}");
            }
        }
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.served().key.clone())
    }
}

fn read_pair(paths: &CertificatePaths) -> Result<(Vec<u8>, Vec<u8>), CertError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| CertError::Read {
            path: path.to_owned(),
            source,
        })
    };
    Ok((read(&paths.cert)?, read(&paths.key)?))
}

fn parse_pair(
    paths: &CertificatePaths,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Served, TlsError> {
    let chain = certs::load_certificates(&paths.cert, cert_pem)?;
    let key = certs::load_private_key(&paths.key, key_pem)?;
    let leaf = chain.first().ok_or_else(|| CertError::NoCertificate {
        path: paths.cert.clone(),
    })?;
    let validity = certs::validity(leaf).map_err(|reason| CertError::BadCertificate {
        path: paths.cert.clone(),
        reason,
    })?;
    let certified =
        CertifiedKey::from_der(chain, key, &provider()).map_err(|error| TlsError::Pair {
            cert: paths.cert.clone(),
            key: paths.key.clone(),
            reason: match error {
                rustls::Error::InconsistentKeys(_) => {
                    "the private key does not belong to the certificate".to_owned()
                }
                other => other.to_string(),
            },
        })?;
    Ok(Served {
        key: Arc::new(certified),
        validity,
        fingerprint: fingerprint(&[cert_pem, key_pem]),
    })
}

fn fingerprint(parts: &[&[u8]]) -> Fingerprint {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn describe_validity(validity: &Validity) -> String {
    format!(
        "valid from {} until {}",
        rfc3339(validity.not_before),
        rfc3339(validity.not_after)
    )
}

/// RFC 3339 UTC, second precision.
fn rfc3339(at: SystemTime) -> String {
    let seconds = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    match time::OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("{seconds} s after the Unix epoch"),
    }
}
