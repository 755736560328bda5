//! The serving certificate, reloaded when its files change.
//!
//! rustls asks the resolver for a certificate on every handshake, so
//! swapping the pair here is all it takes for new connections to get the new
//! certificate; connections already open keep theirs and nothing in flight
//! fails.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

use super::{CertificatePaths, TlsError, provider};
use crate::certs::{self, CertError, Validity};
use crate::server::metrics::{Metrics, Reloaded};
use crate::server::watch::{Fingerprint, Look, Watcher};

/// A certificate/key pair as served.
struct Served {
    key: Arc<CertifiedKey>,
    validity: Validity,
}

/// The serving certificate and key of the webhook listener; a rustls
/// certificate resolver that can be updated while the server runs.
pub struct ReloadingCertificate {
    paths: CertificatePaths,
    current: RwLock<Arc<Served>>,
    watcher: Watcher,
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
        let watcher = Watcher::default();
        watcher.served(fingerprint(&[&cert_pem, &key_pem]));
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
            watcher,
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

    /// Looks at the files once (blocking: file I/O and key parsing): when
    /// their content changed and is the same as on the last look, and loads
    /// as a valid pair, serves the new pair; a change that does not load is
    /// logged and counted once.
    pub fn look(&self) -> Look<()> {
        self.metrics.record_reload_check(Reloaded::Certificate);
        // Content, not mtimes, decides: secret volumes swap symlinks and
        // mtimes have coarse granularity; the files are a few KB.
        let read = read_pair(&self.paths);
        let now = match &read {
            Ok((cert, key)) => fingerprint(&[cert, key]),
            Err(error) => fingerprint(&[error.to_string().as_bytes()]),
        };
        let old = self.validity();
        let look = self.watcher.look(now, || {
            let (cert, key) = read.map_err(|error| error.to_string())?;
            let served = parse_pair(&self.paths, &cert, &key).map_err(|error| error.to_string())?;
            if served.validity.not_after < SystemTime::now() {
                return Err(TlsError::Pair {
                    cert: self.paths.cert.clone(),
                    key: self.paths.key.clone(),
                    reason: format!(
                        "the new certificate has expired ({})",
                        describe_validity(&served.validity)
                    ),
                }
                .to_string());
            }
            tracing::info!(
                cert = %self.paths.cert.display(),
                "serving certificate reloaded ({})",
                describe_validity(&served.validity)
            );
            let not_after = served.validity.not_after;
            *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(served);
            // Counted once new connections get it.
            self.metrics.set_certificate_expiry(not_after);
            self.metrics.record_reload(Reloaded::Certificate, true);
            Ok(())
        });
        if let Look::Refused(error) = &look {
            tracing::error!(
                cert = %self.paths.cert.display(),
                key = %self.paths.key.display(),
                "refused the changed serving certificate, still serving the previous one ({}): {error}",
                describe_validity(&old)
            );
            self.metrics.record_reload(Reloaded::Certificate, false);
        }
        look
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
