//! Slow and idle clients cannot hold the server: headers must arrive within the header
//! timeout (which also ends idle keep-alive connections), a stalled body is cut off, open
//! connections are capped (the rest wait in the kernel's queue until one closes), and SIGTERM
//! ends the process within the grace period even with half-sent requests open.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both_databases;
use crate::common::*;

both_databases!(timeouts_and_connection_cap, sigterm_with_half_sent_requests);

/// Reads until the server closes the connection (or `limit` passes); returns what came and when.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(started.elapsed()), stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&buf).into_owned(), Some(started.elapsed())),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => return (String::from_utf8_lossy(&buf).into_owned(), None),
        }
    }
}

async fn timeouts_and_connection_cap(b: Backend) {
    let opts = Options {
        tweak: Box::new(|c| {
            c.server.header_read_timeout_seconds = 1;
            c.server.body_read_timeout_seconds = 1;
            c.server.max_connections = 4;
        }),
        ..Options::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let addr = srv.base.trim_start_matches("http://").to_owned();

    // Half-sent headers: the connection is closed after the header timeout.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let (_, closed) = read_to_close(&mut s, Duration::from_secs(5)).await;
    assert!(closed.is_some_and(|d| d < Duration::from_secs(3)), "half-sent headers: closed after {closed:?}");

    // An idle keep-alive connection after a response is closed too.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (answer, closed) = read_to_close(&mut s, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed.is_some_and(|d| d < Duration::from_secs(3)), "idle keep-alive: closed after {closed:?}");

    // A stalled body: answered (in the endpoint's format) and closed, not held open.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"username\":",
    )
    .await
    .unwrap();
    let (answer, closed) = read_to_close(&mut s, Duration::from_secs(8)).await;
    assert!(closed.is_some_and(|d| d < Duration::from_secs(5)), "stalled body: {closed:?} {answer}");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");

    // The cap: four idle connections hold every slot; a fifth client waits...
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let quick = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    assert!(quick.get(srv.url("/healthz")).send().await.is_err(), "no slot while four connections are open");
    // ...until the header timeout frees the slots of those that never spoke.
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(srv.url("/healthz"))
        .send()
        .await;
    assert_eq!(resp.unwrap().status(), 200, "served once a slot is free");
    drop(idle);
    srv.stop().await;
}

async fn sigterm_with_half_sent_requests(b: Backend) {
    let env = [
        ("PORTCULLIS_SERVER__SHUTDOWN_GRACE_SECONDS", "2"),
        ("PORTCULLIS_SERVER__HEADER_READ_TIMEOUT_SECONDS", "120"),
        ("PORTCULLIS_SERVER__BODY_READ_TIMEOUT_SECONDS", "120"),
        ("PORTCULLIS_SERVER__REQUEST_TIMEOUT_SECONDS", "120"),
    ];
    let Some(mut nodes) = Nodes::start_with_env(b, 1, &env).await else { return };
    let addr = nodes.bases[0].trim_start_matches("http://").to_owned();
    let mut open = Vec::new();
    for i in 0..5 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let half: &[u8] = if i % 2 == 0 {
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{"
        } else {
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
        };
        s.write_all(half).await.unwrap();
        open.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (took, status) = tokio::task::spawn_blocking(move || nodes.terminate(0)).await.unwrap();
    assert!(took < Duration::from_secs(6), "exits within the grace period (2 s), took {took:?}");
    assert!(status.success(), "{status:?}");
    drop(open);
}
