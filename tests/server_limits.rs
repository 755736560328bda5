//! What no client can take from the webhook: connections that say nothing
//! are closed, the number of open connections is bounded (the rest wait
//! their turn), and request bodies held at once stay within a budget (past
//! it, 503 with a message) while normal reviews keep being answered.

use crate::support::client;
use crate::support::harness;

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use client::{Protocol, Reply};
use harness::{Harness, clean_deployment, container_security_config, review};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

const JSON: Option<&str> = Some("application/json");
/// Only a guard against hanging for ever: every wait below is for an event.
const NEVER: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(NEVER, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: still waiting after {NEVER:?}"))
}

async fn read_some<R: AsyncRead + Unpin>(reader: &mut R, buffer: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| {
        let mut read = ReadBuf::new(&mut *buffer);
        match Pin::new(&mut *reader).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read.filled().len())),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

async fn write_all<W: AsyncWrite + Unpin>(writer: &mut W, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let written = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, data)).await?;
        data = &data[written..];
    }
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await
}

/// Reads until the server closes the connection; what it sent.
async fn until_closed<R: AsyncRead + Unpin>(reader: &mut R) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match read_some(reader, &mut buffer).await {
            Ok(0) | Err(_) => return received,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Status and body of an HTTP/1.1 response read whole.
fn http1_reply(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status: {head:?}"));
    (status, body.to_owned())
}

fn assert_answered(reply: &Reply, uid: &str) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["response"]["uid"], uid);
    assert_eq!(body["response"]["allowed"], true, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_and_a_review_is_still_answered() {
    let short = Duration::from_millis(300);
    let server = Harness::start_with(Some(&container_security_config()), |options| {
        for limits in [
            &mut options.connection_limits,
            &mut options.ops_connection_limits,
        ] {
            limits.handshake_timeout = short;
            limits.header_timeout = short;
            limits.idle_timeout = short;
            limits.max_connections = 16;
        }
    })
    .await;
    // More silent connections than the limit: TCP without a TLS handshake,
    // TLS that then says nothing (HTTP/1.1 and HTTP/2), and TCP to the
    // ops port.
    let mut tcp = Vec::new();
    for _ in 0..10 {
        tcp.push(TcpStream::connect(server.webhook).await.expect("connects"));
    }
    for _ in 0..20 {
        tcp.push(TcpStream::connect(server.ops).await.expect("connects"));
    }
    let mut handshakes = Vec::new();
    for i in 0..10 {
        let protocol = if i % 2 == 0 {
            Protocol::Http1
        } else {
            Protocol::Http2
        };
        let client = server.client(protocol);
        handshakes.push(tokio::spawn(async move { client.connect_tls().await }));
    }
    // A review meanwhile waits its turn and is answered.
    let client = server.client(Protocol::Http2);
    let review_task = tokio::spawn(async move {
        client
            .post(
                "/validate",
                JSON,
                review("after-silence", "CREATE", Some(&clean_deployment()), None),
            )
            .await
    });
    for mut stream in tcp {
        within(
            "a silent TCP connection to be closed",
            until_closed(&mut stream),
        )
        .await;
    }
    for handshake in handshakes {
        let mut stream = within("a TLS handshake", handshake)
            .await
            .expect("task")
            .expect("handshake completes once a slot is free");
        within(
            "a silent TLS connection to be closed",
            until_closed(&mut stream),
        )
        .await;
    }
    let reply = within("the review", review_task)
        .await
        .expect("task")
        .expect("answered");
    assert_answered(&reply, "after-silence");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_wait_until_one_closes() {
    let server = Harness::start_with(Some(&container_security_config()), |options| {
        options.connection_limits.max_connections = 4;
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..4 {
        let stream = server
            .client(Protocol::Http1)
            .connect_tls()
            .await
            .expect("within the limit");
        open.push(stream);
    }
    let client = server.client(Protocol::Http2);
    let waiting = tokio::spawn(async move {
        client
            .post(
                "/validate",
                JSON,
                review("fifth", "CREATE", Some(&clean_deployment()), None),
            )
            .await
    });
    // It cannot be answered while four connections are open (it can only
    // look unanswered for longer on a slow machine, never the reverse).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a fifth connection was served past the limit of 4: {:?}",
        waiting.await
    );
    drop(open.pop());
    let reply = within("the fifth connection", waiting)
        .await
        .expect("task")
        .expect("answered once a connection closed");
    assert_answered(&reply, "fifth");
    drop(open);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_past_the_budget_are_refused_and_reviews_still_answered() {
    const BUDGET: usize = 256 * 1024;
    let server = Harness::start_with(Some(&container_security_config()), |options| {
        options.request_limits.body_budget_bytes = BUDGET;
    })
    .await;
    let budget = server.state.body_budget().clone();
    let stalled_upload = |length: usize| {
        format!(
            "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n{{\"apiVersion\": "
        )
    };
    // Two uploads that declare 100 KiB and stall: their declared size is
    // taken from the budget as soon as they arrive.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut stream = server
            .client(Protocol::Http1)
            .connect_tls()
            .await
            .expect("connects");
        write_all(&mut stream, stalled_upload(100 * 1024).as_bytes())
            .await
            .expect("sent");
        stalled.push(stream);
    }
    within("the stalled uploads to hold the budget", async {
        while budget.available() != BUDGET - 200 * 1024 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let refusal = "Counsel is already holding 256 KiB of request bodies, its limit for all requests being received or reviewed at once; retry later (the API server applies the webhook's failurePolicy)\n";
    // A third is refused at once, not buffered.
    let mut third = server
        .client(Protocol::Http1)
        .connect_tls()
        .await
        .expect("connects");
    write_all(&mut third, stalled_upload(100 * 1024).as_bytes())
        .await
        .expect("sent");
    let (status, body) = http1_reply(&within("the refusal", until_closed(&mut third)).await);
    assert_eq!((status, body.as_str()), (503, refusal));
    // So is one that declares no length, once what it sends is past the
    // budget.
    let mut chunked = server
        .client(Protocol::Http1)
        .connect_tls()
        .await
        .expect("connects");
    let chunk = vec![b' '; 60 * 1024];
    let mut upload = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
        chunk.len()
    )
    .into_bytes();
    upload.extend_from_slice(&chunk);
    write_all(&mut chunked, &upload).await.expect("sent");
    let (status, body) = http1_reply(&within("the refusal", until_closed(&mut chunked)).await);
    assert_eq!((status, body.as_str()), (503, refusal));
    // A normal review fits in what is left.
    let reply = server
        .client(Protocol::Http2)
        .post(
            "/validate",
            JSON,
            review("fits", "CREATE", Some(&clean_deployment()), None),
        )
        .await
        .expect("answered");
    assert_answered(&reply, "fits");
    // Clients that go away give their part back.
    drop(stalled);
    within("the budget to be given back", async {
        while budget.available() != BUDGET {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let metrics = client::http_get(server.ops, "/metrics").await.text();
    assert!(
        metrics.contains("counsel_reviews_unevaluated_total{reason=\"overload\"} 2\n"),
        "{metrics}"
    );
    server.stop().await;
}
