//! A real HTTPS client for the webhook: rustls verifying the test CA, hyper
//! speaking HTTP/1.1 or HTTP/2 (chosen by ALPN), one connection per
//! [`TlsClient::post`] or several requests on one [`Connection`].

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Which HTTP version the client offers (and so speaks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Connects to the webhook, trusting only the given CA.
#[derive(Clone)]
pub struct TlsClient {
    connector: TlsConnector,
    addr: SocketAddr,
    protocol: Protocol,
}

impl TlsClient {
    pub fn new(ca_pem: &[u8], addr: SocketAddr, protocol: Protocol) -> Self {
        Self::with_config(client_config(ca_pem, protocol, None), addr, protocol)
    }

    pub fn with_config(config: ClientConfig, addr: SocketAddr, protocol: Protocol) -> Self {
        TlsClient {
            connector: TlsConnector::from(Arc::new(config)),
            addr,
            protocol,
        }
    }

    /// A TLS connection, handshake done, on which the test speaks (or
    /// keeps silent) by itself.
    pub async fn connect_tls(&self) -> Result<TlsStream<TcpStream>, String> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        // As Go's HTTP client (the API server's) does: no Nagle delay.
        tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
        self.connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))
    }

    /// A TLS connection (handshake done) ready for requests.
    pub async fn connect(&self) -> Result<Connection, String> {
        let tls = self.connect_tls().await?;
        let (_, session) = tls.get_ref();
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        let peer_certificate = session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|cert| cert.clone().into_owned())
            .ok_or("no server certificate")?;
        let io = TokioIo::new(tls);
        let sender = match self.protocol {
            Protocol::Http1 => {
                let (sender, connection) = http1::handshake(io)
                    .await
                    .map_err(|e| format!("HTTP/1.1: {e}"))?;
                tokio::spawn(connection);
                Sender::Http1(sender)
            }
            Protocol::Http2 => {
                let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
                    .await
                    .map_err(|e| format!("HTTP/2: {e}"))?;
                tokio::spawn(connection);
                Sender::Http2(sender)
            }
        };
        Ok(Connection {
            sender,
            alpn,
            peer_certificate,
        })
    }

    /// One POST on a new connection.
    pub async fn post(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        self.connect().await?.post(path, content_type, body).await
    }
}

/// The client's rustls configuration: the CA as the only root, ALPN for the
/// protocol, and optionally a client certificate.
pub fn client_config(
    ca_pem: &[u8],
    protocol: Protocol,
    identity: Option<(&[u8], &[u8])>,
) -> ClientConfig {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(cert.expect("CA PEM"))
            .expect("CA is a valid root");
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert_pem, key_pem)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
                .collect::<Result<_, _>>()
                .expect("client cert");
            let key = PrivateKeyDer::from_pem_slice(key_pem).expect("client key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client identity")
        }
    };
    config.alpn_protocols = match protocol {
        Protocol::Http1 => vec![b"http/1.1".to_vec()],
        Protocol::Http2 => vec![b"h2".to_vec()],
    };
    config
}

enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

/// An open connection; requests on it reuse it (keep-alive).
pub struct Connection {
    sender: Sender,
    /// The protocol the server chose.
    pub alpn: Option<Vec<u8>>,
    /// The certificate the server presented.
    pub peer_certificate: CertificateDer<'static>,
}

impl Connection {
    pub async fn post(
        &mut self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        self.send("POST", path, content_type, body).await
    }

    /// A request with any method.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        let request = build_request(method, path, content_type, body)?;
        let response = match &mut self.sender {
            Sender::Http1(sender) => {
                sender.ready().await.map_err(|e| e.to_string())?;
                sender.send_request(request).await
            }
            Sender::Http2(sender) => {
                sender.ready().await.map_err(|e| e.to_string())?;
                sender.send_request(request).await
            }
        }
        .map_err(|e| format!("request: {e}"))?;
        read_reply(response).await
    }

    /// On HTTP/2, a handle that sends requests on this connection
    /// concurrently (one stream each); `None` on HTTP/1.1.
    pub fn streams(&self) -> Option<Streams> {
        match &self.sender {
            Sender::Http1(_) => None,
            Sender::Http2(sender) => Some(Streams(sender.clone())),
        }
    }
}

/// Concurrent requests on one HTTP/2 connection.
#[derive(Clone)]
pub struct Streams(http2::SendRequest<Full<Bytes>>);

impl Streams {
    pub async fn post(
        &mut self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        let request = build_request("POST", path, content_type, body)?;
        self.0.ready().await.map_err(|e| e.to_string())?;
        let response = self
            .0
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        read_reply(response).await
    }

    /// Sends a request and, unless its answer has come within `after`,
    /// gives up on it: the stream is reset (RST_STREAM CANCEL), as a client
    /// that times out or goes away does. `Ok(None)` when it was cancelled.
    pub async fn post_and_cancel(
        &mut self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        after: std::time::Duration,
    ) -> Result<Option<Reply>, String> {
        let request = build_request("POST", path, content_type, body)?;
        self.0.ready().await.map_err(|e| e.to_string())?;
        let response = self.0.send_request(request);
        match tokio::time::timeout(after, response).await {
            Err(_) => Ok(None),
            Ok(response) => {
                let response = response.map_err(|e| format!("request: {e}"))?;
                read_reply(response).await.map(Some)
            }
        }
    }
}

fn build_request(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<hyper::Request<Full<Bytes>>, String> {
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(format!("https://localhost{path}"));
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())
}

/// Status, content type and the whole body of a response.
async fn read_reply(response: hyper::Response<hyper::body::Incoming>) -> Result<Reply, String> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes()
        .to_vec();
    Ok(Reply {
        status,
        content_type,
        body,
    })
}

/// A plain-HTTP GET (the ops listener).
pub async fn http_get(addr: SocketAddr, path: &str) -> Reply {
    let tcp = TcpStream::connect(addr)
        .await
        .expect("connect to the ops listener");
    let (mut sender, connection) = http1::handshake(TokioIo::new(tcp)).await.expect("HTTP/1.1");
    tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    read_reply(response).await.expect("a reply")
}

/// Polls the ops listener at `ops` until `/metrics` has the line `line`,
/// and returns the metrics then.
pub async fn metrics_with(ops: SocketAddr, line: &str) -> String {
    metrics_until(ops, &format!("a line {line:?}"), |metrics| {
        metrics.lines().any(|seen| seen == line)
    })
    .await
}

/// Polls the ops listener at `ops` until its `/metrics` satisfy `wanted`,
/// and returns them then. The cap only turns a hang into a failure.
pub async fn metrics_until(ops: SocketAddr, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let wait = async {
        loop {
            let metrics = http_get(ops, "/metrics").await.text();
            if wanted(&metrics) {
                return metrics;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), wait)
        .await
        .unwrap_or_else(|_| panic!("the metrics never had {what}"))
}

/// The value of the counter or whole-valued gauge `series` (name and
/// labels, as printed) in `metrics`.
pub fn metric(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in {metrics}"))
}
