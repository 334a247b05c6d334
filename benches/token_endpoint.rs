//! Token endpoint benchmark: refresh-token grants per second and latency (p50/p99).
//!
//! What it does, per database (SQLite always; PostgreSQL when `PORTCULLIS_BENCH_POSTGRES_URL`
//! or `PORTCULLIS_TEST_POSTGRES_URL` is set) and per signing algorithm (RS256, then ES256):
//! starts a real Portcullis server on 127.0.0.1:0 in a child process (this binary re-run with
//! `BENCH_ROLE=server`; production Argon2 parameters, durable storage), mints `CHAINS` refresh
//! tokens through the full code flow (authorize → login form → code → token, PKCE), then runs
//! refresh grants for `SECONDS`. The server's own CPU time and RSS are read from /proc.
//!
//! Load generator: reqwest 0.12 in the parent process on a 1-worker runtime, `CHAINS`
//! independent rotation chains with one request in flight each (closed loop, keep-alive),
//! scope `openid offline_access`, so each grant signs an access token and an ID token, consumes
//! the old refresh token and stores the new one — the same work as the peer's `refresh` test in
//! `../shared/bench-peer` (oidc-provider: ~1,300/s with RS256 on these 2 cores, in memory).
//!
//! Then, when Node.js is on the PATH, the side-by-side run: the certified peer
//! (`oidc-provider`, installed once under the target directory from npm) and Portcullis on
//! each database and algorithm, driven in turn by the peer's own load tool
//! (`../shared/bench-peer/oidc-load.mjs`: refresh chains, client credentials grants with 64 at
//! once, and full password logins), in one table with the ratios to the peer and the share of
//! the Argon2id ceiling measured here; then the refresh chains and the logins at once (two load
//! tools), as a deployment has them, with the errors either met.
//!
//! Run: `cargo bench --bench token_endpoint` (env: BENCH_SECONDS=10, BENCH_CHAINS=64;
//! BENCH_PEER=0 skips the side-by-side run, BENCH_PEER=only runs nothing else,
//! BENCH_PEER_DIR points at the peer's scripts; BENCH_PG_MAX_CONN sets the server's
//! `database.max_connections`, which also sets how many groups of rotations PostgreSQL takes
//! at once, to compare pool shapes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use portcullis::admin::Admin;
use portcullis::admin::apps::{self, OidcAppSpec};
use portcullis::admin::users::{self, UserSpec};
use portcullis::clock::SystemClock;
use portcullis::config::{Config, SigningAlg};
use portcullis::state::AppState;
use portcullis::store::Db;

const PASSWORD: &str = "benchmark password 123";
const REDIRECT: &str = "http://127.0.0.1:9999/cb";

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if std::env::var("BENCH_ROLE").as_deref() == Ok("server") {
        return server_main();
    }
    let seconds = env_num("BENCH_SECONDS", 10);
    let chains = env_num("BENCH_CHAINS", 64) as usize;
    let pg = std::env::var("PORTCULLIS_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("PORTCULLIS_TEST_POSTGRES_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    println!("Portcullis token endpoint: refresh_token grants (scope openid offline_access: 2 signatures each)");
    println!(
        "load generator: reqwest 0.12, separate process, {chains} closed-loop keep-alive chains, {seconds} s per run"
    );
    println!("machine: {} CPU(s); server: its own process, tokio multi-thread runtime", num_cpus());
    println!();
    println!(
        "{:<9} {:<6} {:>9} {:>8} {:>8} {:>7} {:>11} {:>13} {:>13} {:>12}",
        "database",
        "alg",
        "grants/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU",
        "grants/CPU-s",
        "RSS idle MiB",
        "RSS peak MiB"
    );
    let mut backends = vec![("sqlite", None)];
    match &pg {
        Some(url) => backends.push(("postgres", Some(url.clone()))),
        None => println!("(PostgreSQL skipped: set PORTCULLIS_BENCH_POSTGRES_URL)"),
    }
    let only_side_by_side = std::env::var("BENCH_PEER").as_deref() == Ok("only");
    for (name, url) in backends.into_iter().filter(|_| !only_side_by_side) {
        for alg in [SigningAlg::RS256, SigningAlg::ES256] {
            let r = run(url.as_deref(), alg, chains, Duration::from_secs(seconds));
            println!(
                "{:<9} {:<6} {:>9.0} {:>8.2} {:>8.2} {:>7} {:>10.0}% {:>13.0} {:>13.1} {:>12.1}",
                name,
                alg.as_str(),
                r.rate,
                r.p50_ms,
                r.p99_ms,
                r.errors,
                r.server_cpu_percent,
                // Grants per second of the server's own CPU time: the figure to set beside a
                // per-vCPU capacity (Keycloak 26 sizes 120 refresh grants/s per vCPU).
                r.rate / (r.server_cpu_percent / 100.0).max(f64::EPSILON),
                r.rss_idle_kib as f64 / 1024.0,
                r.rss_peak_kib as f64 / 1024.0
            );
        }
    }
    side_by_side(pg.as_deref(), chains, seconds);
}

/// The peer's load tool and the peer itself (`../shared/bench-peer`), when Node.js is here.
struct Peer {
    dir: std::path::PathBuf,
    node_modules: std::path::PathBuf,
    node_version: String,
}

/// The peer version the figures in the README were measured against.
const PEER_VERSION: &str = "9.13.3";

impl Peer {
    /// Finds the peer's scripts and installs `oidc-provider` beside the build (once), or says
    /// why the side-by-side run is skipped.
    fn find() -> Result<Peer, String> {
        if std::env::var("BENCH_PEER").as_deref() == Ok("0") {
            return Err("BENCH_PEER=0".into());
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = std::env::var("BENCH_PEER_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| root.join("../shared/bench-peer"));
        if !dir.join("oidc-load.mjs").is_file() {
            return Err(format!("no peer scripts at {} (set BENCH_PEER_DIR)", dir.display()));
        }
        let node_version = match std::process::Command::new("node").arg("--version").output() {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            _ => return Err("no `node` on PATH".into()),
        };
        let target =
            std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| root.join("target"));
        let prefix = target.join("bench-peer");
        let node_modules = prefix.join("node_modules");
        if !node_modules.join("oidc-provider").is_dir() {
            std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
            let ok = std::process::Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                .arg(&prefix)
                .arg(format!("oidc-provider@{PEER_VERSION}"))
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("`npm install oidc-provider@{PEER_VERSION}` failed"));
            }
        }
        Ok(Peer { dir: dir.canonicalize().unwrap_or(dir), node_modules, node_version })
    }

    /// Starts the peer (RS256, in-memory store, an HTML login form) on a free port.
    fn start(&self) -> (std::process::Child, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("node")
            .arg(self.dir.join("nop-server.mjs"))
            .env("NODE_ENV", "production")
            .env("NOP_MODULES", &self.node_modules)
            .env("PORT", port.to_string())
            .env("LOGIN_FORM", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the peer");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the peer did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        (child, format!("http://127.0.0.1:{port}"))
    }

    /// Runs the load tool; returns its `RESULT` (`Null` for `mint`, which writes tokens) and
    /// where the machine's processor time went over the run.
    fn load(&self, mode: &str, args: &[String], server_pid: u32) -> (serde_json::Value, Split) {
        let before = Sample::take(server_pid);
        let out = self.spawn(mode, args).wait_with_output().expect("run the load tool");
        let mut split = Sample::take(server_pid).since(&before);
        if mode == "mint" {
            assert!(out.status.success(), "mint failed: {}", String::from_utf8_lossy(&out.stderr));
            return (serde_json::Value::Null, split);
        }
        let result = load_result(mode, &out);
        split.load_tool = result["loadgen_cpu_pct"].as_f64().unwrap_or(0.0);
        (result, split)
    }

    /// Runs two load tools at once (a mixed load: refresh chains beside a sign-in flood);
    /// returns both results and where the machine's time went, the load tool's share being
    /// both tools' together.
    fn load_together(
        &self,
        (a_mode, a_args): (&str, &[String]),
        (b_mode, b_args): (&str, &[String]),
        server_pid: u32,
    ) -> ([serde_json::Value; 2], Split) {
        let before = Sample::take(server_pid);
        let (a, b) = (self.spawn(a_mode, a_args), self.spawn(b_mode, b_args));
        let a = a.wait_with_output().expect("run the load tool");
        let b = b.wait_with_output().expect("run the load tool");
        let mut split = Sample::take(server_pid).since(&before);
        let results = [load_result(a_mode, &a), load_result(b_mode, &b)];
        split.load_tool = results.iter().map(|r| r["loadgen_cpu_pct"].as_f64().unwrap_or(0.0)).sum();
        (results, split)
    }

    fn spawn(&self, mode: &str, args: &[String]) -> std::process::Child {
        std::process::Command::new("node")
            .arg(self.dir.join("oidc-load.mjs"))
            .arg(mode)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run the load tool")
    }
}

/// The `RESULT` line of a load tool's run.
fn load_result(mode: &str, out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{mode} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| panic!("{mode} gave no result: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Where the machine's processor time went over one run of the load tool, in per cent of one
/// core: the server, PostgreSQL's processes (all of them, whatever they served), the load tool
/// (as it measures itself), and the machine's idle time (all cores, from `/proc/stat`).
#[derive(Clone, Copy)]
struct Split {
    server: f64,
    postgres: f64,
    load_tool: f64,
    idle: f64,
}

/// Cumulative processor times at one instant, for `Split`.
struct Sample {
    at: Instant,
    server: f64,
    postgres: f64,
    idle: f64,
}

impl Sample {
    fn take(server_pid: u32) -> Sample {
        Sample {
            at: Instant::now(),
            server: proc_cpu_seconds(server_pid),
            postgres: postgres_cpu_seconds(),
            idle: machine_idle_seconds(),
        }
    }

    fn since(&self, before: &Sample) -> Split {
        let secs = self.at.duration_since(before.at).as_secs_f64().max(f64::EPSILON);
        let pct = |a: f64, b: f64| (a - b) / secs * 100.0;
        Split {
            server: pct(self.server, before.server),
            postgres: pct(self.postgres, before.postgres),
            load_tool: 0.0,
            idle: pct(self.idle, before.idle),
        }
    }
}

/// One target of the side-by-side run.
struct Target {
    name: String,
    base: String,
    client_secret: String,
    pid: u32,
    /// The peer takes the load tool's defaults (a scope with its resource, prompt=consent);
    /// Portcullis is asked for what gives the same two signatures per refresh.
    portcullis: bool,
}

#[derive(Clone, Copy)]
struct SideBySide {
    refresh: f64,
    refresh_p99: f64,
    refresh_split: Split,
    logins: f64,
    login_p99: f64,
    login_split: Split,
    /// Client credentials grants (64 at once): one access token signed each, nothing stored.
    cc: f64,
    cc_p99: f64,
    cc_split: Split,
    /// Refresh chains and sign-ins at once (the same chains and concurrency as alone).
    mixed: Mixed,
}

/// The mixed load's figures: refreshes and sign-ins side by side on one server, as a real
/// deployment has them, where a sign-in flood and the refreshes share the database's writer
/// and the machine.
#[derive(Clone, Copy)]
struct Mixed {
    refresh: f64,
    refresh_p99: f64,
    logins: f64,
    login_p99: f64,
    /// Refreshes answered other than 2xx or not at all, and failed sign-ins.
    errors: f64,
    split: Split,
}

fn side_by_side_run(peer: &Peer, t: &Target, chains: usize, seconds: u64) -> SideBySide {
    let mut common: Vec<String> =
        ["--issuer", &t.base, "--client-id", "bench-client", "--client-secret", &t.client_secret]
            .map(str::to_owned)
            .to_vec();
    if t.portcullis {
        let password = format!("password={PASSWORD}");
        common.extend(["--scope", "openid offline_access", "--auth-param", "none"].map(str::to_owned));
        common.extend(["--form", "username=bench-user", "--form", &password].map(str::to_owned));
    } else {
        common.extend(["--form", "login=bench-user", "--form", "password=bench-pass"].map(str::to_owned));
    }
    let tokens = tempfile::NamedTempFile::new().unwrap();
    let chain_args =
        ["--chains", &chains.to_string(), "--tokens-file", tokens.path().to_str().unwrap()].map(str::to_owned);
    let mint: Vec<String> = common.iter().chain(chain_args.iter()).cloned().collect();
    peer.load("mint", &mint, t.pid);
    let mut refresh = mint.clone();
    refresh.extend(["--duration".to_owned(), seconds.to_string()]);
    let (r, refresh_split) = peer.load("refresh", &refresh, t.pid);
    // The peer's `bench.py` runs this grant at 16 and 64 connections; the scope is the load
    // tool's default for it.
    let mut cc = common.clone();
    cc.extend(["--scope", "api:read", "--concurrency", "64", "--duration", &seconds.to_string()].map(str::to_owned));
    let (c, cc_split) = peer.load("cc", &cc, t.pid);
    let mut login = common.clone();
    login.extend(["--concurrency", "16", "--duration", &seconds.to_string()].map(str::to_owned));
    let (l, login_split) = peer.load("login", &login, t.pid);
    let num = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(0.0);
    // Fresh chains: the refresh run above may have stopped some.
    peer.load("mint", &mint, t.pid);
    let ([mr, ml], mixed_split) = peer.load_together(("refresh", &refresh), ("login", &login), t.pid);
    let mixed = Mixed {
        refresh: num(&mr, "ok_per_s"),
        refresh_p99: num(&mr, "p99_ms"),
        logins: num(&ml, "ok_per_s"),
        login_p99: num(&ml, "p99_ms"),
        errors: num(&mr, "non2xx") + num(&mr, "errors") + num(&ml, "failed"),
        split: mixed_split,
    };
    SideBySide {
        refresh: num(&r, "ok_per_s"),
        refresh_p99: num(&r, "p99_ms"),
        refresh_split,
        logins: num(&l, "ok_per_s"),
        login_p99: num(&l, "p99_ms"),
        login_split,
        cc: num(&c, "ok_per_s"),
        cc_p99: num(&c, "p99_ms"),
        cc_split,
        mixed,
    }
}

/// Argon2id verifications per second with every core hashing (production parameters): the
/// ceiling for password sign-ins on this machine.
fn argon2_limit() -> f64 {
    let hasher = portcullis::crypto::password::PasswordHasher::new(&Default::default()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let here = portcullis::audit::Origin { ip: None };
        let stored = hasher.hash("a password for the ceiling", &here).await.unwrap();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(3);
        let mut set = tokio::task::JoinSet::new();
        // More callers than the pool's slots, as under a sign-in flood: the pool runs full.
        for _ in 0..2 * num_cpus() {
            let (h, s, here) = (hasher.clone(), stored.clone(), here.clone());
            set.spawn(async move {
                let mut n = 0u32;
                while Instant::now() < deadline {
                    h.verify(Some(&s), "a password for the ceiling", &here).await.unwrap();
                    n += 1;
                }
                n
            });
        }
        let mut total = 0;
        while let Some(n) = set.join_next().await {
            total += n.unwrap();
        }
        f64::from(total) / started.elapsed().as_secs_f64()
    })
}

/// The same ceiling computed with the RustCrypto `argon2` crate (each core hashing in memory of
/// its own, reused, its fastest way), which the server used until 2026-12-04: what the
/// production parameters allow with that implementation, for comparison with earlier runs.
fn argon2_limit_rustcrypto() -> f64 {
    use argon2::{Algorithm, Argon2, Block, Params, Version};
    let production = portcullis::config::PasswordConfig::default();
    let params = Params::new(production.memory_kib, production.iterations, production.parallelism, None).unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(3);
    let threads: Vec<_> = (0..num_cpus())
        .map(|_| {
            let params = params.clone();
            std::thread::spawn(move || {
                let mut memory = vec![Block::default(); params.block_count()];
                let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let mut out = [0u8; 32];
                let mut n = 0u32;
                while Instant::now() < deadline {
                    argon
                        .hash_password_into_with_memory(b"a password", b"sixteen byte slt", &mut out, &mut memory)
                        .unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    f64::from(total) / started.elapsed().as_secs_f64()
}

/// Starts a Portcullis bench server child; returns it with its port and client secret.
fn start_server(pg_url: Option<&str>, alg: SigningAlg) -> (std::process::Child, u16, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("BENCH_ROLE", "server")
        .env("BENCH_ALG", alg.as_str())
        .env("BENCH_PG_URL", pg_url.unwrap_or(""))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace().skip(1);
    let port: u16 = parts.next().expect("server did not start").parse().unwrap();
    let secret = parts.next().unwrap().to_owned();
    (child, port, secret)
}

/// The peer and Portcullis driven in turn by the peer's own load tool, in one table.
fn side_by_side(pg: Option<&str>, chains: usize, seconds: u64) {
    let peer = match Peer::find() {
        Ok(p) => p,
        Err(why) => {
            println!("\n(side by side with the peer skipped: {why})");
            return;
        }
    };
    println!();
    println!(
        "Side by side: the peer (oidc-provider {PEER_VERSION} on Node {}, in-memory store, RS256) and Portcullis \
         (durable storage), each driven in turn by the peer's load tool (oidc-load.mjs: {chains} refresh chains, \
         16 concurrent logins, {seconds} s per test)",
        peer.node_version
    );
    let limit = argon2_limit();
    let limit_rc = argon2_limit_rustcrypto();
    println!(
        "Argon2id ceiling on this machine (production parameters, every core hashing): {limit:.0}/s with the \
         server's hasher (argon2-rust, {:?} backend), {limit_rc:.0}/s with the RustCrypto crate",
        argon2_rust::detected_backend()
    );
    println!(
        "{:<26} {:>10} {:>8} {:>8} {:>7} | {:>8} {:>8} {:>8} {:>7} | {:>9} {:>8} {:>7} {:>10} {:>10}",
        "target",
        "refresh/s",
        "× peer",
        "p99 ms",
        "CPU",
        "cc/s",
        "× peer",
        "p99 ms",
        "CPU",
        "logins/s",
        "p99 ms",
        "CPU",
        "of Argon2",
        "of RC"
    );
    let share = |f: Option<f64>| f.map_or("—".to_owned(), |f| format!("{:.0} %", f * 100.0));
    // `peer`: the peer's own run, for the ratios (`None` for the peer's row).
    let row = |name: &str, r: &SideBySide, peer: Option<&SideBySide>, logins: Option<f64>| {
        let ratio =
            |ours: f64, theirs: fn(&SideBySide) -> f64| peer.map_or(1.0, |p| ours / theirs(p).max(f64::EPSILON));
        println!(
            "{:<26} {:>10.0} {:>7.2}× {:>8.2} {:>6.0}% | {:>8.0} {:>7.2}× {:>8.2} {:>6.0}% | {:>9.1} {:>8.1} {:>6.0}% {:>10} {:>10}",
            name,
            r.refresh,
            ratio(r.refresh, |p| p.refresh),
            r.refresh_p99,
            r.refresh_split.server,
            r.cc,
            ratio(r.cc, |p| p.cc),
            r.cc_p99,
            r.cc_split.server,
            r.logins,
            r.login_p99,
            r.login_split.server,
            share(logins.map(|l| l / limit)),
            share(logins.map(|l| l / limit_rc)),
        );
    };
    let (mut child, base) = peer.start();
    let t = Target {
        name: "peer oidc-provider RS256".into(),
        base,
        client_secret: "bench-secret".into(),
        pid: child.id(),
        portcullis: false,
    };
    let p = side_by_side_run(&peer, &t, chains, seconds);
    let _ = child.kill();
    let _ = child.wait();
    row(&t.name, &p, None, None);
    let mut runs = vec![(t.name.clone(), false, p)];
    let mut backends = vec![("sqlite", None)];
    if let Some(url) = pg {
        backends.push(("postgres", Some(url)));
    }
    for (db, url) in backends {
        for alg in [SigningAlg::RS256, SigningAlg::ES256] {
            let (mut child, port, secret) = start_server(url, alg);
            let t = Target {
                name: format!("portcullis {db} {}", alg.as_str()),
                base: format!("http://127.0.0.1:{port}"),
                client_secret: secret,
                pid: child.id(),
                portcullis: true,
            };
            let r = side_by_side_run(&peer, &t, chains, seconds);
            drop(child.stdin.take());
            let _ = child.wait();
            row(&t.name, &r, Some(&p), Some(r.logins));
            runs.push((t.name.clone(), url.is_some(), r));
        }
    }
    // The ratios are shares of one machine: what the load tool and PostgreSQL take, and what
    // stays idle, the server cannot use.
    println!();
    println!(
        "Where the machine's time went in the same runs (per cent of one core; {} cores = {} %; PostgreSQL: all \
         its processes)",
        num_cpus(),
        num_cpus() * 100
    );
    println!(
        "{:<26} {:>7} {:>7} {:>7} {:>7} {:>10} | {:>7} {:>7} {:>7} {:>8} | {:>7} {:>7} {:>7} {:>7} {:>9}",
        "target",
        "server",
        "PG",
        "load",
        "idle",
        "µs/refr.",
        "server",
        "load",
        "idle",
        "µs/cc",
        "server",
        "PG",
        "load",
        "idle",
        "ms/login"
    );
    let pct = |v: f64| format!("{v:.0}%");
    for (name, pg, run) in &runs {
        let pg = *pg;
        let (r, c, l) = (run.refresh_split, run.cc_split, run.login_split);
        let pg_pct = |s: &Split| if pg { pct(s.postgres) } else { "—".to_owned() };
        println!(
            "{:<26} {:>7} {:>7} {:>7} {:>7} {:>10.0} | {:>7} {:>7} {:>7} {:>8.0} | {:>7} {:>7} {:>7} {:>7} {:>9.1}",
            name,
            pct(r.server),
            pg_pct(&r),
            pct(r.load_tool),
            pct(r.idle),
            r.server / 100.0 / run.refresh.max(f64::EPSILON) * 1e6,
            pct(c.server),
            pct(c.load_tool),
            pct(c.idle),
            c.server / 100.0 / run.cc.max(f64::EPSILON) * 1e6,
            pct(l.server),
            pg_pct(&l),
            pct(l.load_tool),
            pct(l.idle),
            l.server / 100.0 / run.logins.max(f64::EPSILON) * 1e3,
        );
    }
    println!();
    println!(
        "Mixed: the {chains} refresh chains and the 16 concurrent sign-ins at once, each load tool as above, {seconds} s \
         (the machine's time in per cent of one core)"
    );
    println!(
        "{:<26} {:>10} {:>8} {:>8} | {:>9} {:>8} {:>10} | {:>7} | {:>7} {:>7} {:>7} {:>7}",
        "target",
        "refresh/s",
        "× peer",
        "p99 ms",
        "logins/s",
        "p99 ms",
        "of Argon2",
        "errors",
        "server",
        "PG",
        "load",
        "idle"
    );
    let peer_mixed = runs.first().map(|(_, _, r)| r.mixed);
    for (i, (name, pg, run)) in runs.iter().enumerate() {
        let m = run.mixed;
        let ratio = match (i, peer_mixed) {
            (1.., Some(p)) => format!("{:.2}×", m.refresh / p.refresh.max(f64::EPSILON)),
            _ => "1.00×".to_owned(),
        };
        // The peer's sign-ins hash no password: only the refreshes compare.
        println!(
            "{:<26} {:>10.0} {:>8} {:>8.2} | {:>9.1} {:>8.1} {:>10} | {:>7.0} | {:>7} {:>7} {:>7} {:>7}",
            name,
            m.refresh,
            ratio,
            m.refresh_p99,
            m.logins,
            m.login_p99,
            share((i > 0).then(|| m.logins / limit)),
            m.errors,
            pct(m.split.server),
            if *pg { pct(m.split.postgres) } else { "—".to_owned() },
            pct(m.split.load_tool),
            pct(m.split.idle),
        );
    }
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

struct Figures {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
    server_cpu_percent: f64,
    rss_idle_kib: u64,
    rss_peak_kib: u64,
}

fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// utime + stime of every process named `postgres`, in seconds.
fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0.0 };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres"))
        .map(proc_cpu_seconds)
        .sum()
}

/// The machine's idle time (idle and iowait, all cores), in seconds.
fn machine_idle_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<f64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    (cpu.get(3).copied().unwrap_or(0.0) + cpu.get(4).copied().unwrap_or(0.0)) / 100.0
}

/// utime + stime of a process, in seconds.
fn proc_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 =
        f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0) + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// Child process: start the server, create the user and client, print `READY port secret`,
/// serve until standard input closes.
fn server_main() {
    portcullis::server::tune_allocator();
    let alg = SigningAlg::parse(&std::env::var("BENCH_ALG").unwrap()).unwrap();
    let pg_url = std::env::var("BENCH_PG_URL").ok().filter(|u| !u.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let mut cfg = Config::for_tests(&base, dir.path(), "");
        cfg.password = Default::default();
        cfg.tokens.signing_alg = alg;
        if let Some(n) = std::env::var("BENCH_PG_MAX_CONN").ok().and_then(|v| v.parse().ok()) {
            cfg.database.max_connections = n;
        }
        let (db, schema) = match &pg_url {
            None => (Db::connect(&cfg).await.unwrap(), None),
            Some(url) => {
                // Named after this process, so a later run can drop what a killed one left.
                let schema = format!("bench_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(url).await.unwrap();
                drop_orphan_schemas(&admin).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.unwrap();
                admin.close().await;
                let opts = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)
                    .unwrap()
                    .options([("search_path", schema.as_str())]);
                (Db::connect_postgres(opts, &cfg).await.unwrap(), Some(schema))
            }
        };
        let state = AppState::with_db(cfg, db, Arc::new(SystemClock)).await.unwrap();
        users::add(
            &state,
            &Admin::operator(),
            &UserSpec {
                username: "bench-user",
                password: PASSWORD,
                email: None,
                email_verified: false,
                display_name: None,
                is_admin: false,
                groups: &[],
            },
        )
        .await
        .unwrap();
        let app = apps::add_oidc(
            &state,
            &Admin::operator(),
            &OidcAppSpec {
                name: "bench",
                client_id: Some("bench-client"),
                redirect_uris: &[REDIRECT.to_string()],
                post_logout_redirect_uris: &[],
                public: false,
                // What the peer's `bench.py` asks for by default: its client credentials
                // tests use `api:read`, and so does its code flow.
                extra_scopes: &["api:read".to_owned()],
                client_credentials: true,
            },
        )
        .await
        .unwrap();
        println!("READY {port} {}", app.client_secret.unwrap().expose());
        let stop = async {
            tokio::task::spawn_blocking(|| {
                let mut sink = String::new();
                let _ = std::io::stdin().read_line(&mut sink);
            })
            .await
            .ok();
        };
        let db = state.db.clone();
        portcullis::server::serve(listener, state.clone(), portcullis::app(state), stop).await.unwrap();
        if let (Some(url), Some(schema)) = (pg_url, schema) {
            drop(db);
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&pool).await;
        }
    });
}

/// Drops the schemas of bench servers that are gone (killed before they could drop their own):
/// `bench_<pid>_<id>` whose process no longer runs on this machine.
async fn drop_orphan_schemas(admin: &sqlx::PgPool) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'bench\\_%'")
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    for name in names.into_iter().filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
        let pid = name.strip_prefix("bench_").and_then(|rest| rest.split_once('_')).map(|(pid, _)| pid);
        let Some(pid) = pid.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) else { continue };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE"))).execute(admin).await;
        }
    }
}

fn run(pg_url: Option<&str>, alg: SigningAlg, chains: usize, duration: Duration) -> Figures {
    let (mut child, port, secret) = start_server(pg_url, alg);
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");
    let load_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let figures = load_rt.block_on(async {
        let http = reqwest::Client::builder().pool_max_idle_per_host(chains).build().unwrap();
        let mut tokens = Vec::with_capacity(chains);
        for _ in 0..chains {
            tokens.push(mint(&base, &secret).await);
        }
        // Let the login burst's memory settle, then read the idle footprint.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss_idle_kib = proc_status_kib(pid, "VmRSS:");
        let cpu0 = proc_cpu_seconds(pid);
        let deadline = Instant::now() + duration;
        let mut set = tokio::task::JoinSet::new();
        for token in tokens {
            let (http, url, secret) = (http.clone(), format!("{base}/oauth2/token"), secret.clone());
            set.spawn(async move {
                let mut token = token;
                let mut lat = Vec::new();
                let mut errors = 0usize;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let resp = http
                        .post(&url)
                        .basic_auth("bench-client", Some(&secret))
                        .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str())])
                        .send()
                        .await;
                    match resp {
                        Ok(r) if r.status() == 200 => {
                            let v: serde_json::Value = r.json().await.unwrap();
                            if v["access_token"].is_string() && v["id_token"].is_string() {
                                token = v["refresh_token"].as_str().unwrap().to_owned();
                                lat.push(t0.elapsed());
                            } else {
                                errors += 1;
                                break;
                            }
                        }
                        _ => {
                            errors += 1;
                            break;
                        }
                    }
                }
                (lat, errors)
            });
        }
        let started = Instant::now();
        let mut all = Vec::new();
        let mut errors = 0;
        while let Some(r) = set.join_next().await {
            let (lat, e) = r.unwrap();
            all.extend(lat);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = proc_cpu_seconds(pid) - cpu0;
        all.sort();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        };
        Figures {
            rate: all.len() as f64 / elapsed,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            errors,
            server_cpu_percent: cpu / elapsed * 100.0,
            rss_idle_kib,
            rss_peak_kib: proc_status_kib(pid, "VmHWM:"),
        }
    });
    drop(child.stdin.take());
    let _ = child.wait();
    figures
}

/// One full code flow (authorize with its sign-in form → code → token) giving a refresh token.
async fn mint(base: &str, secret: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let browser =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let verifier = b64.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
    let challenge = b64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref());
    let mut u = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "bench-client")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid offline_access")
        .append_pair("nonce", "n")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    // The authorization endpoint answers with the sign-in form itself (one request less than
    // a redirect to it).
    let html = browser.get(u.as_str()).send().await.unwrap().text().await.unwrap();
    let field = |name: &str| {
        let m = format!("name=\"{name}\" value=\"");
        let s = html.find(&m).unwrap() + m.len();
        html[s..s + html[s..].find('"').unwrap()].to_owned()
    };
    let r = browser
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", field("csrf")),
            ("request", field("request")),
            ("username", "bench-user".into()),
            ("password", PASSWORD.into()),
        ])
        .send()
        .await
        .unwrap();
    let redirect = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = redirect.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .basic_auth("bench-client", Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["refresh_token"].as_str().unwrap().to_owned()
}
