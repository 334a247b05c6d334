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
//! Run: `cargo bench --bench token_endpoint` (env: BENCH_SECONDS=10, BENCH_CHAINS=64).

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
    for (name, url) in backends {
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
        let (db, schema) = match &pg_url {
            None => (Db::connect(&cfg).await.unwrap(), None),
            Some(url) => {
                let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(url).await.unwrap();
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
                extra_scopes: &[],
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

fn run(pg_url: Option<&str>, alg: SigningAlg, chains: usize, duration: Duration) -> Figures {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("BENCH_ROLE", "server")
        .env("BENCH_ALG", alg.as_str())
        .env("BENCH_PG_URL", pg_url.unwrap_or(""))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace().skip(1);
    let port: u16 = parts.next().expect("server did not start").parse().unwrap();
    let secret = parts.next().unwrap().to_owned();
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

/// One full code flow (authorize → login form → code → token) giving a refresh token.
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
    let r = browser.get(u.as_str()).send().await.unwrap();
    let login = format!("{base}{}", r.headers()["location"].to_str().unwrap());
    let html = browser.get(&login).send().await.unwrap().text().await.unwrap();
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
