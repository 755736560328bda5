//! TLS for the webhook listener: rustls with the ring provider, TLS 1.2 and
//! 1.3, ALPN `h2` and `http/1.1`, an optional client-certificate check, and
//! a serving certificate that is reloaded when its files change.

mod reload;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::certs::{self, CertError};

pub use reload::ReloadingCertificate;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or parsed.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// The key does not belong to the certificate, or rustls refused it.
    #[error("{} and {}: {reason}", cert.display(), key.display())]
    Pair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What is wrong with the pair.
        reason: String,
    },
    /// The client CA bundle holds no usable CA.
    #[error("--client-ca {}: {reason}", path.display())]
    ClientCa {
        /// The bundle.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the configuration (a bug rather than an input error).
    #[error("cannot configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// The certificate and key files a listener serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePaths {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key of the leaf.
    pub key: PathBuf,
}

/// The crypto provider for everything TLS in Counsel: ring.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration of the webhook listener. With `client_ca`,
/// clients must present a certificate signed by one of its CAs.
pub fn server_config(
    certificate: Arc<ReloadingCertificate>,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let roots = client_roots(path)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|error| TlsError::ClientCa {
                    path: path.to_owned(),
                    reason: error.to_string(),
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(certificate);
    // No session resumption: a resumed session skips the certificate, so a
    // client could go on resuming a session made with a certificate that
    // has since been rotated away. The API server keeps its connections
    // open, so full handshakes are rare anyway.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    // The API server speaks HTTP/2; curl and older clients HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn client_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| CertError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut roots = RootCertStore::empty();
    for cert in certs::load_certificates(path, &bytes)? {
        roots.add(cert).map_err(|error| TlsError::ClientCa {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
    }
    Ok(roots)
}
