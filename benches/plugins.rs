//! Selector plugin benchmark: what a plugin costs, alone and inside the login path, on one core.
//!
//! 1. **Alone**: `PluginHost::evaluate_blocking` in a loop, i.e. a fresh store, pooled
//!    instantiation from the `InstancePre`, the `evaluate` call, the decision's validation and
//!    teardown, for the Rust and the JavaScript `risk-based` examples on the same context.
//! 2. **MFA step**: `mfa::step::decide` on a real state (SQLite on disk) with no plugin, then
//!    with each example active globally: the policy reads, the login context (user, groups,
//!    factors, sightings, recent failures), the evaluation and the decision-log write.
//! 3. **JSON login over HTTP**: `POST /api/v1/auth/login` against a real server on 127.0.0.1:0
//!    with production Argon2id parameters, with no plugin and with each example: what a user
//!    waits for.
//!
//! The process pins itself to one CPU (it re-runs itself under `taskset -c 0` when it can) so
//! the figures are per core. The examples must be built first: `plugins/examples/js/build.sh`
//! and `plugins/examples/rust/build.sh` (the README's test command builds both).
//!
//! Run: `cargo bench --bench plugins` (env: BENCH_ALONE=20000 iterations for Rust (a tenth
//! of it for JavaScript), BENCH_STEPS=2000, BENCH_LOGINS=100, each 0 to skip that part;
//! BENCH_ONLY=rust or js for one example).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use portcullis::admin::{self, UserSpec};
use portcullis::audit::Origin;
use portcullis::clock::ManualClock;
use portcullis::config::{Config, PluginsConfig};
use portcullis::mfa::policy::StepUp;
use portcullis::mfa::step::{LoginCtx, PluginRun};
use portcullis::plugin_host::PluginHost;
use portcullis::plugin_host::context::LoginContext;
use portcullis::plugin_host::registry::{self, Actor, Upload};
use portcullis::state::AppState;
use portcullis::store::Db;

const PASSWORD: &str = "benchmark password 123";
const CONTEXT: &str = include_str!("../plugins/examples/js/context.json");
const AGENT: &str = "Mozilla/5.0 (portcullis plugin bench)";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Example {
    label: &'static str,
    name: &'static str,
    bytes: Vec<u8>,
}

fn examples() -> Vec<Example> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("plugins/examples");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut found = vec![];
    for (label, name, dir) in [("Rust", "risk-based-rust", "rust"), ("JavaScript", "risk-based-js", "js")] {
        if !only.is_empty() && only != dir {
            continue;
        }
        let path = root.join(dir).join("dist/risk-based.wasm");
        match std::fs::read(&path) {
            Ok(bytes) => found.push(Example { label, name, bytes }),
            Err(_) => println!("({label} example skipped: build it with plugins/examples/{dir}/build.sh)"),
        }
    }
    found
}

/// Re-runs this benchmark under `taskset -c 0` (once), so that everything shares one core.
fn pin_to_one_core() {
    if std::env::var_os("BENCH_PINNED").is_some() {
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = std::process::Command::new("taskset")
        .arg("-c")
        .arg("0")
        .arg(std::env::current_exe().unwrap())
        .args(&args)
        .env("BENCH_PINNED", "1")
        .status();
    match status {
        Ok(s) => std::process::exit(s.code().unwrap_or(1)),
        Err(e) => println!("(taskset unavailable: {e}; running unpinned)"),
    }
}

struct Summary {
    per_second: f64,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    max_us: f64,
}

fn summarise(mut samples: Vec<Duration>, total: Duration) -> Summary {
    samples.sort_unstable();
    let at = |p: f64| {
        let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1].as_secs_f64() * 1e6
    };
    Summary {
        per_second: samples.len() as f64 / total.as_secs_f64(),
        p50_us: at(50.0),
        p90_us: at(90.0),
        p99_us: at(99.0),
        max_us: samples.last().map_or(0.0, |d| d.as_secs_f64() * 1e6),
    }
}

fn row(what: &str, s: &Summary, extra: &str) {
    println!(
        "{what:<34} {:>11.0} {:>10.1} {:>10.1} {:>10.1} {:>10.1}  {extra}",
        s.per_second, s.p50_us, s.p90_us, s.p99_us, s.max_us
    );
}

fn header(title: &str, unit: &str) {
    println!();
    println!("{title}");
    println!("{:<34} {:>11} {:>10} {:>10} {:>10} {:>10}", "", unit, "p50 µs", "p90 µs", "p99 µs", "max µs");
}

fn main() {
    portcullis::server::tune_allocator();
    pin_to_one_core();
    let alone = env_num("BENCH_ALONE", 20_000);
    let steps = env_num("BENCH_STEPS", 2_000);
    let logins = env_num("BENCH_LOGINS", 100);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("Portcullis selector plugins: the reference policy `risk-based` in Rust and in JavaScript");
    println!("CPUs available to this process: {cpus}; wasmtime pooling allocator, default plugin limits");
    let examples = examples();
    let context: LoginContext = serde_json::from_str(CONTEXT).unwrap();

    // 1. Alone.
    header("1. instantiate + evaluate, alone (fresh store per call)", "evals/s");
    let host = PluginHost::new(&PluginsConfig::default(), None).unwrap();
    for ex in &examples {
        let sha = hex::encode(portcullis::crypto::sha256(&ex.bytes));
        let started = Instant::now();
        let prepared = host.compile(&sha, &ex.bytes).unwrap();
        let compile = started.elapsed();
        let limits = host.default_limits();
        let n = if ex.label == "Rust" { alone } else { (alone / 10).max(100) };
        let first = host.evaluate_blocking(&prepared, &limits, &context);
        let fuel = first.fuel_used.unwrap_or(0);
        assert!(first.outcome.is_ok(), "{:?}", first.outcome);
        for _ in 0..n / 10 {
            host.evaluate_blocking(&prepared, &limits, &context);
        }
        let mut samples = Vec::with_capacity(n);
        let all = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            let e = host.evaluate_blocking(&prepared, &limits, &context);
            samples.push(t.elapsed());
            debug_assert!(e.outcome.is_ok());
        }
        let s = summarise(samples, all.elapsed());
        let extra = format!(
            "{n} calls, {} KiB, {fuel} fuel a call, compiled once in {} ms",
            ex.bytes.len() / 1024,
            compile.as_millis()
        );
        row(ex.label, &s, &extra);
    }

    if steps == 0 && logins == 0 {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(in_the_login(&examples, steps, logins));
}

async fn in_the_login(examples: &[Example], steps: usize, logins: usize) {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let mut cfg = Config::for_tests(&base, dir.path(), "");
    cfg.password = Default::default();
    let db = Db::connect(&cfg).await.unwrap();
    // A clock that moves only when told: the user's password was set two days "ago", so that
    // every variant sees an ordinary sign-in (known device and address, no recent change)
    // and ends the same way: `risk-based` keeps the static policy.
    let clock = ManualClock::starting_now();
    let state = AppState::with_db(cfg, db, clock.clone()).await.unwrap();
    let spec = UserSpec {
        username: "bench-user",
        password: PASSWORD,
        email: Some("bench@example.test"),
        display_name: None,
        is_admin: false,
        groups: &["staff".to_string()],
    };
    let user = admin::add_user(&state, &spec).await.unwrap();
    clock.advance(2 * 86_400);
    let origin = Origin { ip: Some("127.0.0.1".into()) };
    portcullis::mfa::selector::record_sightings(&state, &user.id, origin.ip.as_deref(), Some(AGENT)).await.unwrap();
    let actor = Actor { user_id: None, origin: &origin };
    let mut plugins = vec![];
    for ex in examples {
        let up =
            Upload { name: ex.name, description: "", bytes: &ex.bytes, fuel: None, memory_mib: None, timeout_ms: None };
        plugins.push((ex.label, registry::upload(&state, &up, &actor).await.unwrap()));
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(portcullis::server::serve(listener, state.clone(), async {
        let _ = stop_rx.await;
    }));

    // Each variant: no plugin, then each example active for everyone.
    let mut variants: Vec<(String, Option<&portcullis::store::plugins::Plugin>)> = vec![("no plugin".into(), None)];
    variants.extend(plugins.iter().map(|(label, p)| (format!("{label} plugin active"), Some(p))));

    header("2. MFA step (mfa::step::decide: policy, context, evaluation, decision log)", "steps/s");
    for (label, plugin) in variants.iter().filter(|_| steps > 0) {
        if let Some(p) = plugin {
            registry::assign(&state, p, "global", "active", None, &actor).await.unwrap();
        }
        let ctx = LoginCtx {
            user: &user,
            app_id: None,
            step_up: StepUp::None,
            freshness_demanded: false,
            session: None,
            device_token: None,
            request: None,
            origin: &origin,
            user_agent: Some(AGENT),
            plugin: PluginRun::Evaluate,
        };
        for _ in 0..steps / 10 {
            portcullis::mfa::step::decide(&state, &ctx).await.unwrap();
        }
        let mut samples = Vec::with_capacity(steps);
        let all = Instant::now();
        for _ in 0..steps {
            let t = Instant::now();
            let out = portcullis::mfa::step::decide(&state, &ctx).await.unwrap();
            samples.push(t.elapsed());
            assert_eq!(out.evaluated.is_some_and(|v| v.is_some()), plugin.is_some());
        }
        row(label, &summarise(samples, all.elapsed()), &format!("{steps} steps"));
        if let Some(p) = plugin {
            registry::unassign(&state, p, "global", &actor).await.unwrap();
        }
    }

    header("3. JSON sign-in over HTTP (POST /api/v1/auth/login, production Argon2id)", "logins/s");
    let http = reqwest::Client::builder().user_agent(AGENT).build().unwrap();
    let url = format!("{base}/api/v1/auth/login");
    let body = serde_json::json!({"username": "bench-user", "password": PASSWORD});
    for (label, plugin) in variants.iter().filter(|_| logins > 0) {
        if let Some(p) = plugin {
            registry::assign(&state, p, "global", "active", None, &actor).await.unwrap();
        }
        let login = || async {
            let r = http.post(&url).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
        };
        for _ in 0..(logins / 10).max(2) {
            login().await;
        }
        let mut samples = Vec::with_capacity(logins);
        let all = Instant::now();
        for _ in 0..logins {
            let t = Instant::now();
            login().await;
            samples.push(t.elapsed());
        }
        row(label, &summarise(samples, all.elapsed()), &format!("{logins} sign-ins, one at a time"));
        if let Some(p) = plugin {
            registry::unassign(&state, p, "global", &actor).await.unwrap();
        }
    }
    let _ = stop_tx.send(());
    let _ = server.await;
}
