//! Selector plugin benchmark: what a plugin costs, alone and inside the login path, on one core.
//!
//! 1. **Alone**: `PluginHost::evaluate_blocking` in a loop, i.e. a fresh store, pooled
//!    instantiation from the `InstancePre`, the `evaluate` call, the decision's validation and
//!    teardown, for the Rust and the JavaScript `risk-based` examples on the same context; then
//!    the same with a standby instance made before each call (as an evaluator thread keeps
//!    one), timing only what a login waits for: the call and the decision's validation.
//! 2. **MFA step**: `mfa::step::decide` on a real state (SQLite on disk) with no plugin, then
//!    with each example active globally: the policy reads, the login context (user, groups,
//!    factors, sightings, recent failures), the evaluation and the decision-log write.
//! 3. **JSON login over HTTP**: `POST /api/v1/auth/login` against a real server on 127.0.0.1:0
//!    with production Argon2id parameters, with no plugin and with each example: what a user
//!    waits for.
//!
//! 4. **Noisy neighbour**: sign-ins to an app with no plugin and to an app with a fast plugin,
//!    quiet and while users flood a third app whose plugin burns its whole deadline: p50/p99
//!    side by side, the bystanders' logins weakened by the flood (the goal is 0, and p99 within
//!    2× of quiet), and how far the flooded plugin's runs went past their deadline.
//! 5. **Deadline overshoot** by one uninterruptible bulk instruction over the plugin's memory.
//!
//! Sections 1 to 3 run pinned to one CPU (the bench re-runs itself under `taskset -c 0` when
//! it can) so the figures are per core; 4 and 5 run on every CPU, as deployed. The examples must be built first: `plugins/examples/js/build.sh`
//! and `plugins/examples/rust/build.sh` (the README's test command builds both).
//!
//! Run: `cargo bench --bench plugins` (env: BENCH_ALONE=20000 iterations for Rust (a tenth
//! of it for JavaScript), BENCH_STEPS=2000, BENCH_LOGINS=100, each 0 to skip that part;
//! BENCH_ONLY=rust or js for one example; BENCH_NOISY=200 sign-ins per row and
//! BENCH_OVERSHOOT=20 runs per row for sections 4 and 5).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use portcullis::admin::Admin;
use portcullis::admin::apps::{self, OidcAppSpec};
use portcullis::admin::plugins::{self as registry, Upload};
use portcullis::admin::users::{self, UserSpec};
use portcullis::audit::Origin;
use portcullis::clock::ManualClock;
use portcullis::config::{Config, PluginsConfig};
use portcullis::mfa::assurance::Assurance;
use portcullis::mfa::step::{LoginCtx, PluginRun};
use portcullis::plugin_host::PluginHost;
use portcullis::plugin_host::context::LoginContext;
use portcullis::state::AppState;
use portcullis::store::Db;

const PASSWORD: &str = "benchmark password 123";
const CONTEXT: &str = include_str!("../plugins/examples/js/context.json");
const AGENT: &str = "Mozilla/5.0 (portcullis plugin bench)";

/// The default caps, with the `portcullis` executable compiling plugins (this bench is not one).
/// `BENCH_USER_RATE` sets `user_evaluations_per_minute` (0: off, as when the flood comes from
/// many accounts, each within its own rate).
fn caps() -> PluginsConfig {
    caps_with_rate(PluginsConfig::default().user_evaluations_per_minute)
}

/// As `caps`, with `rate` evaluations a minute per user unless `BENCH_USER_RATE` says otherwise.
fn caps_with_rate(rate: u64) -> PluginsConfig {
    PluginsConfig {
        compiler_program: env!("CARGO_BIN_EXE_portcullis").into(),
        user_evaluations_per_minute: env_num("BENCH_USER_RATE", rate as usize) as u64,
        ..PluginsConfig::default()
    }
}

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

/// Runs sections 1 to 3 again in a child under `taskset -c 0`, so that everything there shares
/// one core. False when `taskset` is not available (they then run unpinned, here).
fn ran_pinned() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = std::process::Command::new("taskset")
        .arg("-c")
        .arg("0")
        .arg(std::env::current_exe().unwrap())
        .args(&args)
        .env("BENCH_PINNED", "1")
        .status();
    match status {
        Ok(s) if s.success() => true,
        Ok(s) => std::process::exit(s.code().unwrap_or(1)),
        Err(e) => {
            println!("(taskset unavailable: {e}; running unpinned)");
            false
        }
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
    let pinned = std::env::var_os("BENCH_PINNED").is_some();
    if pinned || !ran_pinned() {
        per_core();
    }
    if !pinned {
        // Sections 4 and 5 measure interference between threads: on every CPU, as deployed.
        under_load();
    }
}

fn per_core() {
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
    let host = PluginHost::new(&caps(), None).unwrap();
    for ex in examples.iter().filter(|_| alone > 0) {
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
            "{n} calls, {} KiB, {fuel} fuel a call, compiled once in {} ms (in a child process)",
            ex.bytes.len() / 1024,
            compile.as_millis()
        );
        row(ex.label, &s, &extra);
        // What a login waits for on an evaluator thread that keeps a standby (`Standby`): the
        // call alone. The standby is made, and the used store dropped, after the answer; the
        // rate counts all of it, so it is the same work per evaluation as above.
        let mut samples = Vec::with_capacity(n);
        let all = Instant::now();
        for _ in 0..n {
            let (standby, _) = host.standby(&prepared, &limits);
            assert!(standby.is_some());
            let t = Instant::now();
            let (e, spent) = host.evaluate_with(standby, &prepared, &limits, &context);
            samples.push(t.elapsed());
            drop(spent);
            debug_assert!(e.outcome.is_ok());
        }
        let s = summarise(samples, all.elapsed());
        row(&format!("{}, with a standby", ex.label), &s, "what the login waits for (the evaluate call)");
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
    // One user signs in back to back: the per-user rate would make every step after the 30th
    // wait for its turn, which is the rate at work, not the step. Off unless BENCH_USER_RATE.
    cfg.plugins = caps_with_rate(0);
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
        email_verified: false,
        display_name: None,
        is_admin: false,
        groups: &["staff".to_string()],
    };
    let user = users::add(&state, &Admin::operator(), &spec).await.unwrap();
    clock.advance(2 * 86_400);
    let origin = Origin { ip: Some("127.0.0.1".into()) };
    portcullis::mfa::selector::record_sightings(&state, &user.id, origin.ip.as_deref(), Some(AGENT)).await.unwrap();
    let actor = Admin::operator();
    let mut plugins = vec![];
    for ex in examples {
        let up =
            Upload { name: ex.name, description: "", bytes: &ex.bytes, fuel: None, memory_mib: None, timeout_ms: None };
        plugins.push((ex.label, registry::upload(&state, &actor, &up).await.unwrap()));
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server =
        tokio::spawn(portcullis::server::serve(listener, state.clone(), portcullis::app(state.clone()), async {
            let _ = stop_rx.await;
        }));

    // Each variant: no plugin, then each example active for everyone.
    let mut variants: Vec<(String, Option<&portcullis::store::plugins::Plugin>)> = vec![("no plugin".into(), None)];
    variants.extend(plugins.iter().map(|(label, p)| (format!("{label} plugin active"), Some(p))));

    header("2. MFA step (mfa::step::decide: policy, context, evaluation, decision log)", "steps/s");
    for (label, plugin) in variants.iter().filter(|_| steps > 0) {
        if let Some(p) = plugin {
            registry::assign(&state, &actor, p, "global", "active", None).await.unwrap();
        }
        let ctx = LoginCtx {
            user: &user,
            app_id: None,
            step_up: Assurance::Password,
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
            registry::unassign(&state, &actor, p, "global").await.unwrap();
        }
    }

    header("3. JSON sign-in over HTTP (POST /api/v1/auth/login, production Argon2id)", "logins/s");
    let http = reqwest::Client::builder().user_agent(AGENT).build().unwrap();
    let url = format!("{base}/api/v1/auth/login");
    let body = serde_json::json!({"username": "bench-user", "password": PASSWORD});
    for (label, plugin) in variants.iter().filter(|_| logins > 0) {
        if let Some(p) = plugin {
            registry::assign(&state, &actor, p, "global", "active", None).await.unwrap();
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
            registry::unassign(&state, &actor, p, "global").await.unwrap();
        }
    }
    let _ = stop_tx.send(());
    let _ = server.await;
}

#[allow(dead_code)]
#[path = "../tests/it/plugin_fixtures.rs"]
mod fx;

fn under_load() {
    let n = env_num("BENCH_NOISY", 200);
    if n == 0 {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(noisy_neighbour(n));
    deadline_overshoot(env_num("BENCH_OVERSHOOT", 20));
}

const FLOOD_USERS: usize = 8;
const FLOOD_LOOPS: usize = 2;
const REDIRECT: &str = "http://127.0.0.1:9/cb";

async fn noisy_neighbour(n: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    header(
        &format!(
            "4. Noisy neighbour on {cpus} CPUs: sign-ins (GET /oauth2/authorize with a session) one at a time to\n   \
             app N (no plugin) and app C (a fast plugin asking for a code, fail_open), quiet, then while\n   \
             {FLOOD_USERS} users flood app F ({} requests at a time) whose plugin loops until its 100 ms deadline (fail_open)",
            FLOOD_USERS * FLOOD_LOOPS
        ),
        "logins/s",
    );
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let mut cfg = Config::for_tests(&base, dir.path(), "");
    cfg.password = Default::default();
    cfg.plugins = caps();
    let db = Db::connect(&cfg).await.unwrap();
    let state = AppState::with_db(cfg, db, std::sync::Arc::new(portcullis::clock::SystemClock)).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server =
        tokio::spawn(portcullis::server::serve(listener, state.clone(), portcullis::app(state.clone()), async {
            let _ = stop_rx.await;
        }));
    // Bystanders take turns, each within its per-user evaluation rate (a real app has many users;
    // one user signing in hundreds of times a minute would be a flood of its own).
    let per_user = (caps().user_evaluations_per_minute as usize / 2).max(1);
    let bystanders = (2 * ((n / 10).max(2) + n)).div_ceil(per_user).max(1);
    let mut names: Vec<String> = (0..bystanders).map(|i| format!("bystander{i}")).collect();
    names.extend((0..FLOOD_USERS).map(|i| format!("flood{i}")));
    for name in &names {
        let spec = UserSpec {
            username: name,
            password: PASSWORD,
            email: None,
            email_verified: false,
            display_name: None,
            is_admin: false,
            groups: &[],
        };
        users::add(&state, &Admin::operator(), &spec).await.unwrap();
    }
    let app = |name: &'static str| {
        let state = state.clone();
        async move {
            let spec = OidcAppSpec {
                name,
                client_id: None,
                redirect_uris: &[REDIRECT.to_string()],
                post_logout_redirect_uris: &[],
                public: true,
                extra_scopes: &[],
                client_credentials: false,
            };
            apps::add_oidc(&state, &Admin::operator(), &spec).await.unwrap()
        }
    };
    let (f, c, none) = (app("flooded").await, app("with-plugin").await, app("no-plugin").await);
    let actor = Admin::operator();
    let loops = fx::infinite_loop();
    let slow = Upload {
        name: "burns-its-deadline",
        description: "",
        bytes: &loops,
        fuel: Some(1_000_000_000),
        memory_mib: None,
        timeout_ms: Some(100),
    };
    let slow = registry::upload(&state, &actor, &slow).await.unwrap();
    registry::assign(&state, &actor, &slow, &f.app_id, "active", Some("fail_open")).await.unwrap();
    let otp = fx::fixed(portcullis::mfa::policy::Policy::Otp);
    let fast = Upload {
        name: "asks-for-a-code",
        description: "",
        bytes: &otp,
        fuel: None,
        memory_mib: None,
        timeout_ms: None,
    };
    let fast = registry::upload(&state, &actor, &fast).await.unwrap();
    registry::assign(&state, &actor, &fast, &c.app_id, "active", Some("fail_open")).await.unwrap();
    // Both are compiled (at upload) before anything is measured.

    let session = |name: String| {
        let url = format!("{base}/api/v1/auth/login");
        async move {
            let http = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(AGENT)
                .build()
                .unwrap();
            let r = http.post(url).json(&serde_json::json!({"username": name, "password": PASSWORD})).send().await;
            assert_eq!(r.unwrap().status(), 200);
            http
        }
    };
    let mut bystander = Vec::with_capacity(bystanders);
    for i in 0..bystanders {
        bystander.push(session(format!("bystander{i}")).await);
    }
    let mut turn = 0usize;
    let mut next = move || {
        turn += 1;
        bystander[turn % bystanders].clone()
    };
    let authorize = |client_id: &str| {
        let mut u = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
        u.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", "openid")
            .append_pair("state", "s")
            .append_pair("code_challenge", &"x".repeat(43))
            .append_pair("code_challenge_method", "S256");
        u.to_string()
    };
    // One sign-in: the answer's Location (a code for the app, or the MFA step).
    let sign_in = |http: reqwest::Client, url: String| async move {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "{url}");
        r.headers()["location"].to_str().unwrap().to_owned()
    };
    let flooding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut quiet_p99 = [0.0f64; 2];
    let mut flood_time = Duration::ZERO;
    for phase in ["quiet", "flooded"] {
        let mut flood = tokio::task::JoinSet::new();
        let phase_started = Instant::now();
        if phase == "flooded" {
            flooding.store(true, std::sync::atomic::Ordering::SeqCst);
            for i in 0..FLOOD_USERS {
                let http = session(format!("flood{i}")).await;
                for _ in 0..FLOOD_LOOPS {
                    let (http, url, on) = (http.clone(), authorize(&f.client_id), flooding.clone());
                    flood.spawn(async move {
                        let mut n = 0u64;
                        while on.load(std::sync::atomic::Ordering::SeqCst) {
                            let _ = http.get(&url).send().await.and_then(|r| r.error_for_status());
                            n += 1;
                        }
                        n
                    });
                }
            }
            // A sustained flood: past the first seconds, in which F's scope may spend the
            // burst of its processor-time share (plugins.scope_cpu_ms_per_second).
            tokio::time::sleep(Duration::from_millis(2000)).await;
        }
        for (k, (label, app)) in [("app N, no plugin", &none), ("app C, fast plugin", &c)].into_iter().enumerate() {
            let url = authorize(&app.client_id);
            for _ in 0..(n / 10).max(2) {
                sign_in(next(), url.clone()).await;
            }
            let (mut samples, mut weakened) = (Vec::with_capacity(n), 0);
            let all = Instant::now();
            for _ in 0..n {
                let t = Instant::now();
                let to = sign_in(next(), url.clone()).await;
                samples.push(t.elapsed());
                // C's plugin asks for a code: a redirect straight back to C would be a login
                // weakened by the flood.
                if k == 1 && to.starts_with(REDIRECT) {
                    weakened += 1;
                }
            }
            let s = summarise(samples, all.elapsed());
            let mut extra = format!("{n} sign-ins");
            if k == 1 {
                extra.push_str(&format!(", {weakened} weakened"));
            }
            if phase == "quiet" {
                quiet_p99[k] = s.p99_us;
            } else {
                extra.push_str(&format!(", p99 {:.2}× quiet", s.p99_us / quiet_p99[k]));
            }
            row(&format!("{label}, {phase}"), &s, &extra);
        }
        flooding.store(false, std::sync::atomic::Ordering::SeqCst);
        let sent: u64 = flood.join_all().await.into_iter().sum();
        if phase == "flooded" {
            flood_time = phase_started.elapsed();
            println!("{:<34} {sent} requests to app F during the {:.1} s flood", "", flood_time.as_secs_f64());
        }
    }
    // How far past its deadline F's plugin ran under the flood, from the decision log.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rows: Vec<_> = portcullis::store::plugins::decisions(&state.db, Some(&slow.id), 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.decision)
        .collect();
    let over: Vec<Duration> = rows
        .iter()
        .filter(|r| r.error_kind.as_deref() == Some("timeout"))
        .map(|r| Duration::from_micros(r.duration_us.max(0) as u64).saturating_sub(Duration::from_millis(100)))
        .collect();
    let busy = rows.iter().filter(|r| r.error_kind.as_deref() == Some("busy")).count();
    let ran: u64 =
        rows.iter().filter(|r| r.error_kind.as_deref() != Some("busy")).map(|r| r.duration_us.max(0) as u64).sum();
    println!(
        "{:<34} F's plugin ran {:.0} ms a second of the flood (its scope's share: {} ms a second)",
        "",
        ran as f64 / 1000.0 / flood_time.as_secs_f64().max(0.001),
        caps().scope_cpu_ms_per_second
    );
    if !over.is_empty() {
        let count = over.len();
        let s = summarise(over, Duration::from_secs(1));
        println!(
            "{:<34} {:>11} {:>10.1} {:>10.1} {:>10.1} {:>10.1}  {count} timed-out runs of F's plugin: time past the \
             100 ms deadline; {busy} found no slot (busy)",
            "F's deadline overshoot", "", s.p50_us, s.p90_us, s.p99_us, s.max_us
        );
    }
    let _ = stop_tx.send(());
    let _ = server.await;
}

/// Section 5, the deadline against one uninterruptible instruction: a plugin filling its whole memory
/// with `memory.fill` in a loop, at 32 and 256 MiB, with the most fuel allowed and a 100 ms
/// deadline, alone. wasmtime charges a bulk instruction one unit of fuel per byte and checks
/// fuel and deadline before it, so a run ends by one or the other; what matters is how far past
/// the deadline it can get.
fn deadline_overshoot(n: usize) {
    if n == 0 {
        return;
    }
    header(
        "5. Deadline overshoot by one bulk instruction (memory.fill over all of the plugin's memory, 100 ms deadline)",
        "runs/s",
    );
    let host = PluginHost::new(&caps(), None).unwrap();
    let context: LoginContext = serde_json::from_str(CONTEXT).unwrap();
    for mib in [32u32, 256] {
        let bytes = fx::bulk_fill(mib);
        let p = host.compile(&hex::encode(portcullis::crypto::sha256(&bytes)), &bytes).unwrap();
        let limits = portcullis::plugin_host::Limits {
            fuel: host.caps().max_fuel,
            memory_bytes: u64::from(mib) * 1024 * 1024,
            timeout_ms: 100,
        };
        let (mut samples, mut kinds) = (Vec::with_capacity(n), std::collections::BTreeMap::new());
        let all = Instant::now();
        for _ in 0..n {
            let e = host.evaluate_blocking(&p, &limits, &context);
            let kind = e.outcome.as_ref().err().map_or("decided", |f| f.kind.as_str());
            *kinds.entry(kind).or_insert(0) += 1;
            samples.push(Duration::from_micros(e.duration_us).saturating_sub(Duration::from_millis(100)));
        }
        let ended: Vec<String> = kinds.iter().map(|(k, v)| format!("{v} {k}")).collect();
        row(
            &format!("{mib} MiB: time past the deadline"),
            &summarise(samples, all.elapsed()),
            &format!("{n} runs, ended by: {}", ended.join(", ")),
        );
    }
}
