//! TLS certificates: generating a CA and a serving certificate for the
//! webhook, writing them safely, and loading PEM certificates and keys.
//!
//! The API server only talks to a webhook over TLS and verifies it against the
//! `caBundle` of the webhook configuration, so Counsel can make both halves:
//! `counsel certs` for a cluster, and a development set in `certs/` that
//! `counsel serve` creates when started without certificate flags.

mod files;
mod generate;
mod load;

use std::io;
use std::path::PathBuf;

pub use files::{CertFiles, DevCertificates, ensure_dev_certificates};
pub use generate::{GeneratedCertificates, SubjectNames, generate, generate_with_ca};
pub use load::{Validity, ca_bundle, load_certificates, load_private_key, validity};

/// Why certificates could not be generated, written or loaded. Every variant
/// names the file or the value at fault.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// `counsel certs` was given neither a DNS name nor an IP address.
    #[error("a certificate needs at least one name: give --dns NAME or --ip ADDRESS")]
    NoNames,
    /// A DNS name that cannot go into a certificate.
    #[error("{name:?} is not a valid DNS name for a certificate: {reason}")]
    InvalidDnsName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Key or certificate generation failed.
    #[error("cannot generate the {what}: {source}")]
    Generate {
        /// Which item (`CA key`, `serving certificate`, ...).
        what: &'static str,
        /// What rcgen reported.
        source: rcgen::Error,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not well-formed PEM.
    #[error("{} is not a valid PEM file: {reason}", path.display())]
    BadPem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser reported.
        reason: String,
    },
    /// The file has no `CERTIFICATE` block.
    #[error("{} holds no certificate (expected a PEM block \"-----BEGIN CERTIFICATE-----\")", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The file has no private key block.
    #[error(
        "{} holds no private key (expected a PEM block \"-----BEGIN PRIVATE KEY-----\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")",
        path.display()
    )]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// A certificate block that is not a parseable X.509 certificate.
    #[error("{} holds a certificate that is not valid X.509: {reason}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// What the X.509 parser reported.
        reason: String,
    },
}
