//! Connections to PostgreSQL send at once (`TCP_NODELAY`). Without it, the kernel holds back a
//! small write while an earlier one waits for its acknowledgement, and the server delays that
//! acknowledgement by up to 40 ms. sqlx 0.9.0 left the option off: every new connection over
//! TLS stalled twice in its handshake (about 90 ms, where it takes 4), and a request that found
//! no idle connection in the pool waited that long. The recovery test that times the answer for
//! an existing and an unknown address caught it: the background work after a link for an
//! existing account took the idle connections, and the next request waited for a new one.

use std::os::fd::FromRawFd;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::common::*;

/// For each TCP socket of this process connected to `port`, whether it sends at once.
fn sockets_to(port: u16) -> Vec<bool> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let is_socket = std::fs::read_link(entry.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // Borrowed, never closed: the descriptor belongs to whoever opened it. If it was closed
        // meanwhile (other tests run in this process), the calls below fail and it is skipped.
        let stream = std::mem::ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(fd) });
        if stream.peer_addr().is_ok_and(|a| a.port() == port)
            && let Ok(nodelay) = stream.nodelay()
        {
            found.push(nodelay);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_send_without_delay() {
    let Some(srv) = TestServer::start(Backend::Postgres).await else { return };
    let url = std::env::var("PORTCULLIS_TEST_POSTGRES_URL").unwrap();
    let port = PgConnectOptions::from_str(&url).unwrap().get_port();
    // Several requests at once, so the pool opens more than one connection.
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let logins = (0..6).map(|_| async {
        let (code, verifier) = get_code(&srv, &browser(), &app.client_id, "alice").await;
        exchange_code(&srv, &app, &code, &verifier).await.status()
    });
    for status in futures_util::future::join_all(logins).await {
        assert_eq!(status, 200);
    }
    let sockets = sockets_to(port);
    assert!(sockets.len() >= 2, "connections to PostgreSQL found: {}", sockets.len());
    let delayed = sockets.iter().filter(|nodelay| !**nodelay).count();
    assert_eq!(delayed, 0, "{delayed} of {} connections to PostgreSQL wait to send", sockets.len());
    srv.stop().await;
}
