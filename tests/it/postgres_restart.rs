//! A PostgreSQL outage and restart under load, on an instance of this test's own (made with
//! `initdb`, run with `pg_ctl` as the `postgres` user; the machine's shared server is never
//! touched): while the database is down every request fails fast with 503 and `Retry-After`
//! (OAuth's `temporarily_unavailable`) and `/readyz` says so within a second; once it is back,
//! requests succeed again at once, pooled connections broken by the restart included: never a
//! 500, and no refresh-token chain is lost.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

/// A free port below the range the kernel hands out for port 0 and for outgoing connections,
/// so that no other test's server or connection takes it while this PostgreSQL is down.
fn quiet_port() -> u16 {
    let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768);
    let span = low.saturating_sub(10_000).max(1);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u16;
    (0..span)
        .map(|i| 10_000 + seed.wrapping_add(i) % span)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port below the ephemeral range")
}

fn as_postgres(cmd: &str) -> std::process::Output {
    Command::new("su").args(["postgres", "-s", "/bin/sh", "-c", cmd]).output().unwrap()
}

impl OwnPostgres {
    fn start() -> Option<OwnPostgres> {
        let required = std::env::var("CI").as_deref() == Ok("true");
        let bin = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
            d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).max()
        });
        let is_root = unsafe { libc::geteuid() } == 0;
        let (Some(bin), true) = (bin, is_root) else {
            assert!(!required, "CI needs PostgreSQL's initdb and root (to run it as `postgres`)");
            crate::common::skip("the PostgreSQL restart test: no initdb, or not root");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        assert!(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap().success());
        let mut pg = OwnPostgres { bin, dir, port: quiet_port() };
        let out = as_postgres(&format!(
            "{}/initdb -D {}/data -A trust -U postgres --no-sync >/dev/null",
            pg.bin.display(),
            pg.dir.path().display()
        ));
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        // The port may still be taken between the check and the start: then another one.
        for _ in 0..4 {
            if pg.try_ctl("start").status.success() {
                return Some(pg);
            }
            pg.port = quiet_port();
        }
        pg.ctl("start");
        Some(pg)
    }

    fn try_ctl(&self, action: &str) -> std::process::Output {
        let d = self.dir.path().display();
        let opts = format!("-p {} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off", self.port);
        as_postgres(&format!("{}/pg_ctl -D {d}/data -l {d}/log -m fast -w -o '{opts}' {action}", self.bin.display()))
    }

    fn ctl(&self, action: &str) {
        let out = self.try_ctl(action);
        let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        assert!(out.status.success(), "pg_ctl {action}: {}\n{log}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let d = self.dir.path().display();
        let _ = as_postgres(&format!("{}/pg_ctl -D {d}/data -m immediate -w stop", self.bin.display()));
    }
}

#[derive(Debug)]
struct Outcome {
    at: Duration,
    took: Duration,
    status: u16,
    error: String,
    retry_after: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_and_restart_under_load() {
    let Some(pg) = OwnPostgres::start() else { return };
    let opts = Options { postgres_url: Some(pg.url()), ..Options::default() };
    let srv = TestServer::start_with(Backend::Postgres, opts).await.unwrap();
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let mut chains = Vec::new();
    for _ in 0..4 {
        let (code, verifier) = get_code(&srv, &browser(), &app.client_id, "alice").await;
        let t = json(exchange_code(&srv, &app, &code, &verifier).await).await;
        chains.push(t["refresh_token"].as_str().unwrap().to_owned());
    }

    let started = Instant::now();
    let deadline = Duration::from_secs(11);
    let (pause, paused) = tokio::sync::watch::channel(false);
    let mut load = tokio::task::JoinSet::new();
    for mut refresh in chains {
        let url = srv.url("/oauth2/token");
        let (id, secret) = (app.client_id.clone(), app.client_secret.clone().unwrap().into_inner());
        let paused = paused.clone();
        load.spawn(async move {
            let http = reqwest::Client::new();
            let mut out = Vec::new();
            while started.elapsed() < deadline {
                if *paused.borrow() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                let t0 = Instant::now();
                let resp = http
                    .post(&url)
                    .basic_auth(&id, Some(&secret))
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let retry_after = resp.headers().contains_key("retry-after");
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                if status == 200 {
                    refresh = body["refresh_token"].as_str().unwrap().to_owned();
                }
                let error = body["error"].as_str().unwrap_or("").to_owned();
                out.push(Outcome { at: started.elapsed(), took: t0.elapsed(), status, error, retry_after });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            out
        });
    }

    // 1. A quick restart while the pool's connections sit idle (the load pauses): they are all
    //    broken by it, and the first requests after it must not notice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    pause.send(true).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pg = tokio::task::spawn_blocking(move || {
        pg.ctl("restart");
        pg
    })
    .await
    .unwrap();
    let restarted_at = started.elapsed();
    pause.send(false).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // 2. An outage under load.
    let down_from = started.elapsed();
    tokio::task::spawn_blocking({
        let d = pg.dir.path().to_owned();
        let bin = pg.bin.clone();
        move || {
            let out = as_postgres(&format!("{}/pg_ctl -D {}/data -m fast -w stop", bin.display(), d.display()));
            assert!(out.status.success());
        }
    })
    .await
    .unwrap();
    // Down: readiness says so, fast.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = Instant::now();
    let ready = reqwest::get(srv.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(t0.elapsed() < Duration::from_millis(1500), "readyz answers within a second: {:?}", t0.elapsed());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pg = tokio::task::spawn_blocking(move || {
        pg.ctl("start");
        pg
    })
    .await
    .unwrap();
    let back_at = started.elapsed();
    let results: Vec<Outcome> = load.join_all().await.into_iter().flatten().collect();

    let quick: Vec<&Outcome> = results.iter().filter(|o| o.at > restarted_at && o.at < down_from).collect();
    assert!(quick.len() >= 8, "requests after the quick restart: {}", quick.len());
    assert!(quick.iter().all(|o| o.status == 200), "broken pooled connections are not felt: {quick:?}");
    let unexpected: Vec<&Outcome> = results.iter().filter(|o| o.status != 200 && o.status != 503).collect();
    assert!(unexpected.is_empty(), "only 200 and 503, never a 500 or a lost chain: {unexpected:?}");
    let during: Vec<&Outcome> = results.iter().filter(|o| o.status == 503).collect();
    assert!(!during.is_empty(), "the outage was felt");
    for o in &during {
        assert_eq!(o.error, "temporarily_unavailable", "{o:?}");
        assert!(o.retry_after, "503 carries Retry-After: {o:?}");
        assert!(o.at + o.took >= down_from, "a 503 only while the database is down: {o:?}");
        assert!(o.took < Duration::from_secs(5), "fails fast: {o:?}");
    }
    let after: Vec<&Outcome> = results.iter().filter(|o| o.at > back_at + Duration::from_millis(500)).collect();
    assert!(after.len() >= 20, "enough requests after the restart: {}", after.len());
    assert!(after.iter().all(|o| o.status == 200), "all succeed once it is back: {after:?}");
    assert_eq!(reqwest::get(srv.url("/readyz")).await.unwrap().status(), 200);
    srv.stop().await;
    drop(pg);
}
