//! TLS as the API server does it: trust only the webhook's `caBundle` and
//! check the serving certificate's name, in memory, with rustls.

use std::io;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client config that trusts exactly the CA certificates in `ca_pem`.
pub fn client_trusting(ca_pem: &[u8]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(cert.expect("CA PEM"))
            .expect("CA usable as a root");
    }
    Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A server config serving `cert_pem` with `key_pem`.
pub fn server_with(cert_pem: &[u8], key_pem: &[u8]) -> Arc<ServerConfig> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .expect("certificate PEM");
    let key = PrivateKeyDer::from_pem_slice(key_pem).expect("key PEM");
    Arc::new(
        ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("the key matches the certificate"),
    )
}

/// A full handshake between a client trusting `ca_pem` and asking for
/// `server_name`, and a server with `cert_pem`/`key_pem`.
pub fn handshake(
    ca_pem: &[u8],
    server_name: &str,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<(), rustls::Error> {
    let name = ServerName::try_from(server_name.to_owned()).expect("server name");
    let mut client = ClientConnection::new(client_trusting(ca_pem), name)?;
    let mut server = ServerConnection::new(server_with(cert_pem, key_pem))?;
    for _ in 0..20 {
        let mut to_server = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut to_server).expect("write to memory");
        }
        let mut input = &to_server[..];
        while !input.is_empty() {
            server.read_tls(&mut input).map_err(io_error)?;
            server.process_new_packets()?;
        }
        let mut to_client = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut to_client).expect("write to memory");
        }
        let mut input = &to_client[..];
        while !input.is_empty() {
            client.read_tls(&mut input).map_err(io_error)?;
            client.process_new_packets()?;
        }
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
    }
    panic!("the handshake did not finish");
}

fn io_error(error: io::Error) -> rustls::Error {
    rustls::Error::General(error.to_string())
}
