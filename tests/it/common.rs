//! A real Portcullis server on port 0 for each test, on SQLite (temp dir) or PostgreSQL (a
//! fresh schema in `PORTCULLIS_TEST_POSTGRES_URL`), driven over HTTP by real clients.

use std::str::FromStr;
use std::sync::Arc;

use portcullis::admin::apps::{self, CreatedOidcApp, OidcAppSpec};
use portcullis::admin::users::{self, UserSpec};
use portcullis::admin::{Admin, settings};
use portcullis::clock::{Clock, ManualClock, SystemClock};
use portcullis::config::Config;
use portcullis::state::AppState;
use portcullis::store::Db;
use reqwest::redirect::Policy;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `sqlite` and `postgres` test functions for each async test fn taking a Backend.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name($crate::common::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name($crate::common::Backend::Postgres).await }
        }
    )* };
}

pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT: &str = "http://127.0.0.1:9/cb";

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub clock: Option<Arc<ManualClock>>,
    pub demo_password: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    pg_schema: Option<PgSchema>,
}

pub struct Options {
    /// Use `https://...` as issuer (production cookie names and flags) while serving plain http.
    pub https_issuer: bool,
    /// Use `http://localhost:PORT` as issuer: a domain name, which WebAuthn needs as RP ID.
    pub localhost_issuer: bool,
    /// Serve the built-in demo relying party (`serve --demo`); its user's password is in
    /// `TestServer::demo_password`.
    pub demo: bool,
    pub manual_clock: bool,
    pub tweak: Box<dyn FnOnce(&mut Config) + Send>,
    /// A PostgreSQL server of the test's own instead of `PORTCULLIS_TEST_POSTGRES_URL`.
    pub postgres_url: Option<String>,
    /// A schema the test made and filled (`test_schema`), in place of a new one; dropped with
    /// the server all the same.
    pub postgres_schema: Option<PgSchema>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            https_issuer: false,
            localhost_issuer: false,
            demo: false,
            manual_clock: false,
            tweak: Box::new(|_| {}),
            postgres_url: None,
            postgres_schema: None,
        }
    }
}

/// A new, empty schema on the PostgreSQL server at `url`.
pub async fn test_schema(url: &str) -> PgSchema {
    PgSchema::create(url, "t").await
}

/// A test's own PostgreSQL schema, dropped when this is, a failed test's included.
pub struct PgSchema {
    url: String,
    pub name: String,
}

impl PgSchema {
    /// A new, empty schema `{prefix}_{a UUID}` on the server at `url`.
    pub async fn create(url: &str, prefix: &str) -> PgSchema {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(url).await.expect("connect to PORTCULLIS_TEST_POSTGRES_URL");
        // The schema name is generated here from a UUID: nothing external reaches the SQL.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).execute(&admin).await.unwrap();
        admin.close().await;
        PgSchema { url: url.to_owned(), name }
    }

    /// A connection URL whose sessions work in this schema.
    pub fn db_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.url, self.name)
    }
}

impl Drop for PgSchema {
    /// From a thread of its own: `Drop` cannot await.
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                        .execute(&pool)
                        .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

pub fn postgres_url() -> Option<String> {
    match std::env::var("PORTCULLIS_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but PORTCULLIS_TEST_POSTGRES_URL is not set: the PostgreSQL run is required in CI");
            }
            None
        }
    }
}

impl TestServer {
    /// Starts a server; `None` only for PostgreSQL outside CI when no database is configured.
    pub async fn start(backend: Backend) -> Option<TestServer> {
        Self::start_with(backend, Options::default()).await
    }

    pub async fn start_with(backend: Backend, opts: Options) -> Option<TestServer> {
        let pg_url = match backend {
            Backend::Postgres if opts.postgres_url.is_some() => opts.postgres_url.clone(),
            Backend::Postgres => match postgres_url() {
                Some(u) => Some(u),
                None => {
                    skip("the PostgreSQL runs: PORTCULLIS_TEST_POSTGRES_URL is not set");
                    return None;
                }
            },
            Backend::Sqlite => None,
        };
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://127.0.0.1:{}", addr.port());
        let issuer = if opts.https_issuer {
            format!("https://127.0.0.1:{}", addr.port())
        } else if opts.localhost_issuer {
            format!("http://localhost:{}", addr.port())
        } else {
            base.clone()
        };
        let mut cfg = Config::for_tests(&issuer, dir.path(), "");
        cfg.plugins = plugin_caps();
        (opts.tweak)(&mut cfg);
        cfg.validate().unwrap();
        let manual = opts.manual_clock.then(ManualClock::starting_now);
        let clock: Arc<dyn Clock> = match &manual {
            Some(m) => m.clone(),
            None => Arc::new(SystemClock),
        };
        let (db, pg_schema) = match &pg_url {
            None => (Db::connect(&cfg).await.unwrap(), None),
            Some(url) => {
                let schema = match opts.postgres_schema {
                    Some(schema) => schema,
                    None => test_schema(url).await,
                };
                let opts = PgConnectOptions::from_str(url).unwrap().options([("search_path", schema.name.as_str())]);
                // Two groups of rotations at once (an eighth of the pool), as in production, so
                // that concurrent groups on one node race for the same tokens in the tests too.
                cfg.database.max_connections = 16;
                (Db::connect_postgres(opts, &cfg).await.unwrap(), Some(schema))
            }
        };
        let state = AppState::with_db(cfg, db, clock).await.unwrap();
        let demo_password = if opts.demo { Some(portcullis::demo::register(&state).await.unwrap()) } else { None };
        let app = if opts.demo { portcullis::app_with_demo(state.clone()) } else { portcullis::app(state.clone()) };
        let (tx, rx) = oneshot::channel::<()>();
        let serve_state = state.clone();
        let handle = tokio::spawn(async move {
            portcullis::server::serve(listener, serve_state, app, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Some(TestServer {
            base,
            state,
            clock: manual,
            demo_password,
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: dir,
            pg_schema,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn issuer(&self) -> &str {
        self.state.issuer()
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.as_ref().expect("started with manual_clock").advance(seconds);
    }

    pub async fn add_user(&self, username: &str) -> portcullis::store::users::User {
        users::add(
            &self.state,
            &Admin::operator(),
            &UserSpec {
                username,
                password: PASSWORD,
                email: Some(&format!("{username}@example.test")),
                email_verified: false,
                display_name: None,
                is_admin: false,
                groups: &["staff".to_string()],
            },
        )
        .await
        .unwrap()
    }

    /// An administrator in no group, with no factors.
    pub async fn add_admin(&self, username: &str) -> portcullis::store::users::User {
        users::add(
            &self.state,
            &Admin::operator(),
            &UserSpec {
                username,
                password: PASSWORD,
                email: None,
                email_verified: false,
                display_name: None,
                is_admin: true,
                groups: &[],
            },
        )
        .await
        .unwrap()
    }

    pub async fn add_client(&self, public: bool) -> CreatedOidcApp {
        apps::add_oidc(
            &self.state,
            &Admin::operator(),
            &OidcAppSpec {
                name: "Test RP",
                client_id: None,
                redirect_uris: &[REDIRECT.to_string()],
                post_logout_redirect_uris: &["http://127.0.0.1:9/bye".to_string()],
                public,
                extra_scopes: &[],
                client_credentials: false,
            },
        )
        .await
        .unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // After the shutdown is sent: the schema goes last.
        drop(self.pg_schema.take());
    }
}

/// Waits up to 10 s for `/readyz` at `base` to answer 200.
pub async fn wait_ready(base: &str) -> bool {
    for _ in 0..200 {
        if reqwest::get(format!("{base}/readyz")).await.map(|r| r.status() == 200).unwrap_or(false) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// A port nothing listens on right now (it may be taken before it is used: see
/// `Nodes::serve_at`).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `portcullis serve` child that listens, on `port`.
pub struct Listening {
    pub child: std::process::Child,
    pub port: u16,
    /// Everything the child prints on its standard output, once it has exited.
    pub stdout: std::thread::JoinHandle<String>,
}

/// Starts `portcullis serve` as `command(port)` builds it (`PORTCULLIS_LISTEN` on that port;
/// standard output is taken here) and returns once it listens. A port picked free can be
/// taken before the child binds it (another test's server, or a connection's local port), and
/// a check of `/readyz` could then reach that other server: the child says when it listens,
/// on its standard output, and one that could not is started again on another port. `first`
/// is the port to try first (default: any free one). A child's standard error, when
/// `command` leaves it to its caller, shows why it did not listen.
pub fn listening(first: Option<u16>, mut command: impl FnMut(u16) -> std::process::Command) -> Listening {
    use std::io::BufRead;
    const TRIES: usize = 5;
    let mut port = first.unwrap_or_else(free_port);
    for _ in 0..TRIES {
        let mut child = command(port).stdout(std::process::Stdio::piped()).spawn().unwrap();
        // The output is read to its end (a closed pipe would fail the child's later prints).
        let out = child.stdout.take().unwrap();
        let (listens, heard) = std::sync::mpsc::channel();
        let stdout = std::thread::spawn(move || {
            let mut all = String::new();
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("Portcullis is running at") {
                    let _ = listens.send(());
                }
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        let wait = std::time::Duration::from_secs(60);
        if tokio::task::block_in_place(|| heard.recv_timeout(wait)).is_ok() {
            return Listening { child, port, stdout };
        }
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("`portcullis serve` did not listen on {port}: {}", stdout.join().unwrap_or_default());
        port = free_port();
    }
    panic!("`portcullis serve` could not start in {TRIES} tries (see above)");
}

/// A browser-like client: cookie jar, no automatic redirects (tests follow them by hand).
/// A browser: cookies, no redirects followed. Idle connections are dropped after 5 s, before
/// the server's 10 s `header_read_timeout` closes them: reusing one just as the server closes it
/// fails the request with a broken pipe (a browser would retry; reqwest does not).
/// A test that cannot run here says why: on standard error, and in the file named by
/// `PORTCULLIS_TEST_SKIP_LOG` (the test command prints those reasons at the end, so a skip is
/// visible whether or not the output was captured).
pub fn skip(why: &str) {
    eprintln!("skipping: {why}");
    if let Ok(path) = std::env::var("PORTCULLIS_TEST_SKIP_LOG")
        && !path.is_empty()
        && let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path)
    {
        use std::io::Write;
        let _ = writeln!(f, "{why}");
    }
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Sends the server's email over plain SMTP to a test receiver on `port`.
pub fn mail_to(c: &mut Config, port: u16) {
    c.email.transport = portcullis::config::EmailTransportKind::Smtp;
    c.email.smtp.host = "127.0.0.1".into();
    c.email.smtp.port = port;
    c.email.smtp.security = portcullis::config::SmtpSecurity::None;
}

/// A browser signed in with the password form as `username` (a user the policy lets in
/// without a second step).
pub async fn signed_in(srv: &TestServer, username: &str) -> reqwest::Client {
    let b = browser();
    assert_eq!(submit_login(srv, &b, "/login", username, PASSWORD).await, "/");
    b
}

/// A browser signed in as a new administrator `root` (no factors, the default policy).
pub async fn admin_browser(srv: &TestServer) -> reqwest::Client {
    srv.add_admin("root").await;
    signed_in(srv, "root").await
}

/// GETs a page that must answer 200, and returns its HTML.
pub async fn get_page(browser: &reqwest::Client, srv: &TestServer, path: &str) -> String {
    let resp = browser.get(srv.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

/// Posts a form as if from the page `from`, with that page's CSRF token.
pub async fn post_form(
    browser: &reqwest::Client,
    srv: &TestServer,
    from: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = get_page(browser, srv, from).await;
    let csrf = hidden_input(&html, "csrf").expect("csrf on the page");
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    browser.post(srv.url(action)).form(&form).send().await.unwrap()
}

/// The authenticator-app key an enrolment page shows (in groups of four), as one string.
pub fn totp_key_on_page(html: &str) -> String {
    let marker = "<code class=\"secret\">";
    let start = html.find(marker).unwrap_or_else(|| panic!("a key on the page: {html}")) + marker.len();
    let end = html[start..].find('<').unwrap() + start;
    html[start..end].chars().filter(|c| !c.is_whitespace()).collect()
}

/// The value of a hidden input in an HTML page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on {}", resp.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn query_param(url: &str, key: &str) -> Option<String> {
    let u = url::Url::parse(url).unwrap();
    u.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// PKCE pair (verifier, S256 challenge), computed independently of the server's code.
pub fn pkce() -> (String, String) {
    use base64::Engine;
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    (verifier, challenge)
}

/// Authorize URL for a client with the given extra parameters.
pub fn authorize_url(srv: &TestServer, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&srv.url("/oauth2/authorize")).unwrap();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("response_type", "code");
        q.append_pair("client_id", client_id);
        q.append_pair("redirect_uri", REDIRECT);
        q.append_pair("scope", "openid profile email groups");
        q.append_pair("state", "st-123");
        q.append_pair("nonce", "n-456");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    u.into()
}

/// Follows authorize → the login form it shows → submit; returns the final redirect to the
/// client (at once, when a session answers the request).
pub async fn sign_in(
    srv: &TestServer,
    browser: &reqwest::Client,
    authorize: &str,
    username: &str,
    password: &str,
) -> String {
    let resp = browser.get(authorize).send().await.unwrap();
    if resp.status() == 303 {
        let loc = location(&resp);
        assert!(loc.starts_with(REDIRECT), "authorize redirected elsewhere than to the client: {loc}");
        return loc;
    }
    assert_eq!(resp.status(), 200, "authorize should show the login form");
    let html = resp.text().await.unwrap();
    assert!(hidden_input(&html, "request").is_some(), "the form carries the waiting request");
    post_login_form(srv, browser, &html, username, password).await
}

/// The authorization endpoint answered with the sign-in form for the request it stored:
/// returns the path that shows the same form (`/login?request=…`).
pub async fn shown_login_form(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 200, "expected the sign-in form");
    let html = resp.text().await.unwrap();
    assert!(hidden_input(&html, "csrf").is_some(), "the form carries its CSRF token");
    let request = hidden_input(&html, "request").expect("the form carries the waiting request");
    format!("/login?request={request}")
}

/// GETs the login page at `path` and posts the form; returns the redirect target.
pub async fn submit_login(
    srv: &TestServer,
    browser: &reqwest::Client,
    path: &str,
    username: &str,
    password: &str,
) -> String {
    let page = browser.get(srv.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    post_login_form(srv, browser, &html, username, password).await
}

/// Posts the login form of `html` (its CSRF token and waiting request) with the credentials;
/// returns the redirect target.
pub async fn post_login_form(
    srv: &TestServer,
    browser: &reqwest::Client,
    html: &str,
    username: &str,
    password: &str,
) -> String {
    let csrf = hidden_input(html, "csrf").expect("csrf field");
    let mut form = vec![("csrf", csrf), ("username", username.to_owned()), ("password", password.to_owned())];
    if let Some(r) = hidden_input(html, "request") {
        form.push(("request", r));
    }
    let resp = browser.post(srv.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303, "login should redirect; body: {}", resp.text().await.unwrap());
    location(&resp)
}

/// Signs in and returns an authorization code (with the PKCE verifier used).
pub async fn get_code(
    srv: &TestServer,
    browser: &reqwest::Client,
    client_id: &str,
    username: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(srv, client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let redirect = sign_in(srv, browser, &url, username, PASSWORD).await;
    (query_param(&redirect, "code").expect("code in redirect"), verifier)
}

/// Posts to the token endpoint with client_secret_basic (or none for public clients).
pub async fn token_request(srv: &TestServer, client: &CreatedOidcApp, form: &[(&str, &str)]) -> reqwest::Response {
    let http = reqwest::Client::new();
    let mut req = http.post(srv.url("/oauth2/token")).form(form);
    match &client.client_secret {
        Some(secret) => req = req.basic_auth(&client.client_id, Some(secret.expose())),
        None => {
            let mut f: Vec<(&str, &str)> = form.to_vec();
            f.push(("client_id", &client.client_id));
            req = http.post(srv.url("/oauth2/token")).form(&f);
        }
    }
    req.send().await.unwrap()
}

pub async fn exchange_code(srv: &TestServer, client: &CreatedOidcApp, code: &str, verifier: &str) -> reqwest::Response {
    token_request(
        srv,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub async fn json(resp: reqwest::Response) -> serde_json::Value {
    resp.json().await.unwrap()
}

/// RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30-second steps), written here from the RFC so the
/// server's implementation is checked against an independent one.
pub fn totp_code(secret_base32: &str, unix: i64) -> String {
    let key = base32_decode(secret_base32);
    let counter = (unix / 30) as u64;
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key);
    let mac = aws_lc_rs::hmac::sign(&k, &counter.to_be_bytes());
    let h = mac.as_ref();
    let off = (h[h.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    format!("{:06}", bin % 1_000_000)
}

/// RFC 4648 base32 (upper-case alphabet, padding ignored).
pub fn base32_decode(s: &str) -> Vec<u8> {
    let (mut bits, mut acc, mut out) = (0u32, 0u64, Vec::new());
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {c}"),
        };
        acc = (acc << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

impl TestServer {
    pub fn now(&self) -> i64 {
        self.state.now()
    }

    /// The newest `limit` audit entries of `event`, about `user_id` when one is given.
    pub async fn audit(&self, user_id: Option<&str>, event: &str, limit: i64) -> Vec<portcullis::store::audit::Entry> {
        let filter = portcullis::store::audit::Filter { user_id, event: Some(event), ..Default::default() };
        portcullis::store::audit::list(&self.state.db, &filter, limit).await.unwrap()
    }

    /// Changes global MFA settings the way the admin API does.
    pub async fn set_settings(&self, patch: serde_json::Value) {
        settings::update(&self.state, &Admin::operator(), &patch).await.unwrap();
    }

    /// Enrols TOTP for a user directly (test set-up) and returns the base32 secret. Uses
    /// the current time step, so the clock is moved on one step afterwards.
    pub async fn enrol_totp(&self, user: &portcullis::store::users::User) -> String {
        let e = portcullis::mfa::totp::begin_enrolment(&self.state, user).await.unwrap();
        let code = totp_code(&e.secret, self.now());
        assert!(portcullis::mfa::totp::verify(&self.state, user, &code, true).await.unwrap());
        self.advance(30);
        e.secret
    }

    /// Enrols TOTP for a user on a server with the system clock (test set-up).
    pub async fn enrol_totp_now(&self, user: &portcullis::store::users::User) -> String {
        let e = portcullis::mfa::totp::begin_enrolment(&self.state, user).await.unwrap();
        let code = totp_code(&e.secret, self.now());
        assert!(portcullis::mfa::totp::verify(&self.state, user, &code, true).await.unwrap());
        e.secret
    }

    /// The current TOTP code for `secret`.
    pub fn code(&self, secret: &str) -> String {
        totp_code(secret, self.now())
    }
}

/// Options with a manual clock (TOTP steps and intervals move only when the test says so).
pub fn manual_clock() -> Options {
    Options { manual_clock: true, ..Default::default() }
}

/// Posts a form on one of the MFA pages with the page's CSRF token; returns the response.
pub async fn post_mfa_form(
    srv: &TestServer,
    browser: &reqwest::Client,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = browser.get(srv.url("/login/mfa")).send().await.unwrap();
    let html = page.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf").unwrap_or_else(|| panic!("csrf field on the MFA page: {html}"));
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    browser.post(srv.url(action)).form(&form).send().await.unwrap()
}

/// Decodes a JWT's payload without verifying it (the OIDC flow test verifies signatures).
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// JSON login; returns the response body and status.
pub async fn api_login(srv: &TestServer, http: &reqwest::Client, username: &str) -> (u16, serde_json::Value) {
    let resp = http
        .post(srv.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

pub async fn api_post(http: &reqwest::Client, url: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let resp = http.post(url).json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// Signs alice in at `base` (code flow with PKCE, public client); returns the tokens.
pub async fn tokens_from(base: &str, client_id: &str) -> serde_json::Value {
    let browser = browser();
    let (verifier, challenge) = pkce();
    let url = format!(
        "{base}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&code_challenge={challenge}&code_challenge_method=S256",
        urlencode(REDIRECT)
    );
    let resp = browser.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "authorize shows the login form");
    let html = resp.text().await.unwrap();
    let form = [
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("request", hidden_input(&html, "request").unwrap()),
        ("username", "alice".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let resp = browser.post(format!("{base}/login")).form(&form).send().await.unwrap();
    let code = query_param(&location(&resp), "code").expect("a code");
    let resp = reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Several `portcullis serve` processes ("nodes") on one database, as behind a load
/// balancer: one issuer, one data directory (so one master key), one PostgreSQL schema (or
/// one SQLite file). Nothing is shared between them but the database.
pub struct Nodes {
    pub bases: Vec<String>,
    children: Vec<std::process::Child>,
    dir: tempfile::TempDir,
    db_url: String,
    pg_schema: Option<PgSchema>,
}

impl Nodes {
    /// Starts `n` nodes; `None` only for PostgreSQL outside CI when no database is configured.
    pub async fn start(backend: Backend, n: usize) -> Option<Nodes> {
        Self::start_with_env(backend, n, &[]).await
    }

    /// `start`, with extra environment for the `serve` processes (configuration keys).
    pub async fn start_with_env(backend: Backend, n: usize, env: &[(&str, &str)]) -> Option<Nodes> {
        let dir = tempfile::tempdir().unwrap();
        let (db_url, pg_schema) = match backend {
            Backend::Sqlite => (String::new(), None),
            Backend::Postgres => {
                let schema = PgSchema::create(&postgres_url()?, "n").await;
                (schema.db_url(), Some(schema))
            }
        };
        let mut nodes = Nodes {
            bases: (0..n).map(|_| format!("http://127.0.0.1:{}", free_port())).collect(),
            children: Vec::new(),
            dir,
            db_url,
            pg_schema,
        };
        // The schema is migrated once, so the nodes do not race each other's migrations.
        let out = nodes.cli(&["migrate"]).output().unwrap();
        assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
        for i in 0..n {
            // The first node's address is every node's issuer: it is settled before the others
            // start.
            let child = nodes.serve_at(i, env);
            nodes.children.push(child);
        }
        for base in nodes.bases.clone() {
            assert!(wait_ready(&base).await, "node {base} did not become ready");
        }
        Some(nodes)
    }

    /// The nodes' state, opened in this process on their database and data directory (so with
    /// their master key) but serving nothing: for a test to act on the data directly.
    pub async fn state(&self, tweak: impl FnOnce(&mut Config)) -> AppState {
        let mut cfg = Config::for_tests(&self.bases[0], self.dir.path(), &self.db_url);
        tweak(&mut cfg);
        cfg.validate().unwrap();
        let db = Db::connect(&cfg).await.unwrap();
        AppState::with_db(cfg, db, Arc::new(SystemClock)).await.unwrap()
    }

    /// Starts one more node with `env` on top of the nodes' configuration; returns its index.
    pub async fn spawn(&mut self, env: &[(&str, &str)]) -> usize {
        self.bases.push(format!("http://127.0.0.1:{}", free_port()));
        let i = self.bases.len() - 1;
        let child = self.serve_at(i, env);
        self.children.push(child);
        assert!(wait_ready(&self.bases[i]).await, "node {} did not become ready", self.bases[i]);
        i
    }

    /// Starts node `i` on the port of `bases[i]` (see `listening`; `bases[i]` follows the
    /// port it ends up on).
    fn serve_at(&mut self, i: usize, env: &[(&str, &str)]) -> std::process::Child {
        let first: u16 = self.bases[i].rsplit(':').next().unwrap().parse().unwrap();
        let dir = self.dir.path().to_owned();
        let started = listening(Some(first), |port| {
            let mut c = self.cli(&["serve"]);
            c.envs(env.iter().copied())
                .env("PORTCULLIS_LISTEN", format!("127.0.0.1:{port}"))
                .stderr(std::fs::File::create(dir.join(format!("node-{port}.log"))).unwrap());
            c
        });
        self.bases[i] = format!("http://127.0.0.1:{}", started.port);
        started.child
    }

    /// Kills node `i` outright (SIGKILL: no shutdown, no cleanup), as a crash would.
    pub fn kill(&mut self, i: usize) {
        self.children[i].kill().unwrap();
        self.children[i].wait().unwrap();
    }

    /// Sends SIGTERM to node `i` and waits for it to exit; returns how long that took.
    pub fn terminate(&mut self, i: usize) -> (std::time::Duration, std::process::ExitStatus) {
        let started = std::time::Instant::now();
        let pid = self.children[i].id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = self.children[i].wait().unwrap();
        (started.elapsed(), status)
    }

    /// The process id of node `i`.
    pub fn pid(&self, i: usize) -> u32 {
        self.children[i].id()
    }

    /// The data directory the nodes share.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The `portcullis` command with the nodes' configuration (for set-up and admin work).
    pub fn cli(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORTCULLIS_DATA_DIR", self.dir.path())
            .env("PORTCULLIS_DATABASE_URL", &self.db_url)
            .env("PORTCULLIS_ISSUER", &self.bases[0])
            .env("PORTCULLIS_DEV_MODE", "true")
            .env("PORTCULLIS_PASSWORD__INSECURE_TEST_PARAMS", "true")
            .env("PORTCULLIS_PASSWORD__MEMORY_KIB", "64")
            .env("PORTCULLIS_PASSWORD__ITERATIONS", "1")
            .env("PORTCULLIS_LOG_LEVEL", "warn");
        c
    }

    /// Adds a user with `PASSWORD` through the CLI.
    pub fn add_user(&self, username: &str) {
        self.add(&["user", "add", username, "--password-stdin"]);
    }

    /// Adds an administrator with `PASSWORD` through the CLI.
    pub fn add_admin(&self, username: &str) {
        self.add(&["user", "add", username, "--admin", "--password-stdin"]);
    }

    fn add(&self, args: &[&str]) {
        use std::io::Write;
        let mut child = self
            .cli(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // A failed test shows what its nodes logged.
        if std::thread::panicking() {
            for base in &self.bases {
                let port = base.rsplit(':').next().unwrap();
                let log = std::fs::read_to_string(self.dir.path().join(format!("node-{port}.log")));
                eprintln!("--- node {base} ---\n{}", log.unwrap_or_default());
            }
        }
        // After the nodes are gone: the schema goes last.
        drop(self.pg_schema.take());
    }
}

/// The default plugin caps, with the `portcullis` executable as the plugin compiler (the
/// test binary running a server in-process is not one).
pub fn plugin_caps() -> portcullis::config::PluginsConfig {
    portcullis::config::PluginsConfig {
        compiler_program: env!("CARGO_BIN_EXE_portcullis").into(),
        ..Default::default()
    }
}
