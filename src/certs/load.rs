//! Loading PEM certificates and private keys, and reading a certificate's
//! validity period.

use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::CertError;

/// Base64 of a PEM certificate bundle, as a webhook configuration's
/// `caBundle` wants it.
pub fn ca_bundle(ca_pem: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(ca_pem)
}

/// Parses every `CERTIFICATE` block of `pem_bytes` (read from `path`, which is
/// only used in errors). Other blocks are skipped; at least one certificate
/// must be there.
pub fn load_certificates(
    path: &Path,
    pem_bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let certs = CertificateDer::pem_slice_iter(pem_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| bad_pem(path, error))?;
    if certs.is_empty() {
        return Err(CertError::NoCertificate {
            path: path.to_owned(),
        });
    }
    for cert in &certs {
        validity(cert).map_err(|reason| CertError::BadCertificate {
            path: path.to_owned(),
            reason,
        })?;
    }
    Ok(certs)
}

/// Parses the first private key (PKCS#8, PKCS#1 or SEC1) of `pem_bytes`
/// (read from `path`, which is only used in errors).
pub fn load_private_key(
    path: &Path,
    pem_bytes: &[u8],
) -> Result<PrivateKeyDer<'static>, CertError> {
    match PrivateKeyDer::from_pem_slice(pem_bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => Err(CertError::NoPrivateKey {
            path: path.to_owned(),
        }),
        Err(error) => Err(bad_pem(path, error)),
    }
}

fn bad_pem(path: &Path, error: pem::Error) -> CertError {
    let reason = match error {
        // The default text prints the offending line as a byte array.
        pem::Error::IllegalSectionStart { line } => {
            format!("malformed BEGIN line {:?}", String::from_utf8_lossy(&line))
        }
        pem::Error::MissingSectionEnd { end_marker } => {
            format!(
                "missing the line \"-----END {}-----\"",
                String::from_utf8_lossy(&end_marker)
            )
        }
        other => other.to_string(),
    };
    CertError::BadPem {
        path: path.to_owned(),
        reason,
    }
}

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Not valid before this instant.
    pub not_before: SystemTime,
    /// Not valid after this instant.
    pub not_after: SystemTime,
}

impl Validity {
    /// Whether `now` lies within the validity period.
    pub fn contains(&self, now: SystemTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

/// Reads the validity period of a DER certificate; the error says why it is
/// not a valid X.509 certificate.
pub fn validity(cert: &CertificateDer<'_>) -> Result<Validity, String> {
    let (rest, parsed) =
        x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|error| error.to_string())?;
    if !rest.is_empty() {
        return Err(format!(
            "{} bytes of trailing data after the certificate",
            rest.len()
        ));
    }
    let validity = parsed.validity();
    Ok(Validity {
        not_before: to_system_time(validity.not_before.timestamp()),
        not_after: to_system_time(validity.not_after.timestamp()),
    })
}

fn to_system_time(unix_seconds: i64) -> SystemTime {
    let magnitude = Duration::from_secs(unix_seconds.unsigned_abs());
    if unix_seconds >= 0 {
        SystemTime::UNIX_EPOCH + magnitude
    } else {
        SystemTime::UNIX_EPOCH - magnitude
    }
}
