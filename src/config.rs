//! Configuration: `config/portcullis.toml`, then `PORTCULLIS_<KEY>` environment variables
//! (nested keys with `__`, e.g. `PORTCULLIS_TOKENS__SIGNING_ALG`). Every key has a safe
//! default; `Config::validate` refuses anything unsafe and names the offending key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Public base URL; the OIDC issuer. https unless `dev_mode`.
    pub issuer: String,
    /// Socket address the HTTP server binds.
    pub listen: String,
    /// Where the SQLite database, master key and other local state live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; empty means SQLite under `data_dir`.
    pub database_url: String,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// tracing filter directive, e.g. `info` or `portcullis=debug,info`.
    pub log_level: String,
    /// Allows a plain-http issuer on a loopback host and drops the `__Host-` cookie prefix
    /// and `Secure` flag. For local development only.
    pub dev_mode: bool,
    /// Path of the 32-byte master key (base64). Empty: `<data_dir>/master.key`, generated
    /// with mode 0600 on first start.
    pub master_key_file: String,
    pub database: DatabaseConfig,
    pub tokens: TokenConfig,
    pub session: SessionConfig,
    pub password: PasswordConfig,
    pub limits: LimitsConfig,
    pub plugins: PluginsConfig,
    pub server: ServerConfig,
    pub delivery: DeliveryConfig,
    pub email: EmailConfig,
    pub sms: SmsConfig,
    pub branding: BrandingConfig,
    pub metrics: MetricsConfig,
}

/// `GET /metrics` in the Prometheus (OpenMetrics) text format.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// When set, a scrape must send `Authorization: Bearer <token>` (401 otherwise).
    pub token: crate::crypto::Secret,
    /// When set (`127.0.0.1:9464`), the metrics are served on this address only, not on
    /// `listen`: a port the public never reaches.
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true, token: Default::default(), listen: String::new() }
    }
}

/// How the pages look: the product's name, a logo and the accent colour.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrandingConfig {
    /// The name on every page and in page titles.
    pub name: String,
    /// An SVG or PNG file shown at the top of every page, at most 256 KiB; empty for none.
    pub logo_file: String,
    /// The accent colour of buttons and links (`#rrggbb`) in light mode; empty keeps the default.
    /// It must reach 4.5:1 against the page (WCAG AA).
    pub primary_color: String,
    /// The same for dark mode.
    pub primary_color_dark: String,
}

impl Default for BrandingConfig {
    fn default() -> Self {
        BrandingConfig {
            name: "Portcullis".into(),
            logo_file: String::new(),
            primary_color: String::new(),
            primary_color_dark: String::new(),
        }
    }
}

/// The delivery outbox (DESIGN §4): how each node's worker sends what was queued.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// How often a node looks for messages that another node or the command line queued, in
    /// milliseconds. A message this node queues leaves at once.
    pub poll_interval_ms: u64,
    /// Seconds a node holds a message it claimed; if it dies mid-send, another node sends the
    /// message once this has passed. Longer than `attempt_timeout_seconds`.
    pub lease_seconds: i64,
    /// Seconds one delivery attempt (connect, send, answer) may take.
    pub attempt_timeout_seconds: u64,
    /// Messages one node sends at once.
    pub max_in_flight: usize,
    /// Seconds a message is retried (with growing pauses) before it is given up and kept as
    /// failed. A message holding a code gives up sooner: when the code expires.
    pub give_up_after_seconds: i64,
    /// Days the record of a sent or failed message (never its body) is kept.
    pub keep_days: i64,
    /// Let administrators register webhook endpoints over plain `http://` (development only:
    /// events carry user ids and addresses).
    pub allow_insecure_webhooks: bool,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            poll_interval_ms: 1000,
            lease_seconds: 60,
            attempt_timeout_seconds: 15,
            max_in_flight: 16,
            give_up_after_seconds: 3600,
            keep_days: 30,
            allow_insecure_webhooks: false,
        }
    }
}

/// Where email goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransportKind {
    /// No email: features that need it are unavailable.
    Off,
    /// Printed to the server log, codes included. For development and the demo only.
    Log,
    Smtp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    pub transport: EmailTransportKind,
    /// The `From` mailbox, e.g. `Example Sign-in <no-reply@example.com>`.
    pub from: String,
    /// An optional `Reply-To` mailbox.
    pub reply_to: String,
    pub smtp: SmtpConfig,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            transport: EmailTransportKind::Off,
            from: "Portcullis <no-reply@localhost>".into(),
            reply_to: String::new(),
            smtp: SmtpConfig::default(),
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a trusted network.
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Credentials for SMTP AUTH; none when `username` is empty.
    pub username: String,
    pub password: crate::crypto::Secret,
    /// A PEM file of extra certificate authorities to trust (a private relay's CA).
    pub ca_file: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            password: Default::default(),
            ca_file: String::new(),
        }
    }
}

/// Where text messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransportKind {
    /// No SMS: features that need it are unavailable.
    Off,
    /// Printed to the server log, codes included. For development only.
    Log,
    /// Twilio's Messages REST API.
    Twilio,
    /// AWS SNS `Publish` to a phone number, signed with SigV4.
    Sns,
    /// A JSON POST to your own HTTPS endpoint, signed as Standard Webhooks do.
    Webhook,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub transport: SmsTransportKind,
    /// Country calling codes text messages may go to (`[1, 44]`: North America, the UK). Empty:
    /// none, except with the `log` transport. Anything else is refused before it costs money.
    pub allowed_country_codes: Vec<u16>,
    pub twilio: TwilioConfig,
    pub sns: SnsConfig,
    pub webhook: SmsWebhookConfig,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            transport: SmsTransportKind::Off,
            allowed_country_codes: Vec::new(),
            twilio: TwilioConfig::default(),
            sns: SnsConfig::default(),
            webhook: SmsWebhookConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwilioConfig {
    /// `AC…`
    pub account_sid: String,
    pub auth_token: crate::crypto::Secret,
    /// The sending number (E.164) — or leave empty and set `messaging_service_sid` (`MG…`).
    pub from: String,
    pub messaging_service_sid: String,
    /// The API's base URL (a test double's, or a regional edge).
    pub api_base: String,
}

impl Default for TwilioConfig {
    fn default() -> Self {
        TwilioConfig {
            account_sid: String::new(),
            auth_token: Default::default(),
            from: String::new(),
            messaging_service_sid: String::new(),
            api_base: "https://api.twilio.com".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnsConfig {
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: crate::crypto::Secret,
    /// The endpoint; empty: `https://sns.<region>.amazonaws.com`.
    pub endpoint: String,
    /// An alphanumeric sender id, where the destination country supports one.
    pub sender_id: String,
}

impl Default for SnsConfig {
    fn default() -> Self {
        SnsConfig {
            region: "us-east-1".into(),
            access_key_id: String::new(),
            secret_access_key: Default::default(),
            endpoint: String::new(),
            sender_id: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsWebhookConfig {
    /// Your endpoint (https; http only on a loopback host).
    pub url: String,
    /// The signing secret, `whsec_` and base64 of at least 24 random bytes
    /// (`echo whsec_$(openssl rand -base64 32)`).
    pub secret: crate::crypto::Secret,
}

/// How the HTTP server treats slow and idle clients, and how long it drains on shutdown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Seconds a client has to send a request's headers, counted from the connection's start
    /// or from the end of the previous response (so also the idle keep-alive timeout).
    pub header_read_timeout_seconds: u64,
    /// Seconds allowed between two pieces of a request body.
    pub body_read_timeout_seconds: u64,
    /// Seconds a request may take in all before it is answered 503.
    pub request_timeout_seconds: u64,
    /// Open connections at most; further clients wait in the kernel's accept queue. Lowered
    /// at start to fit the process's file-descriptor limit.
    pub max_connections: usize,
    /// Seconds in-flight requests get to finish after SIGTERM before the process exits.
    pub shutdown_grace_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout_seconds: 10,
            body_read_timeout_seconds: 10,
            request_timeout_seconds: 30,
            max_connections: 4096,
            shutdown_grace_seconds: 10,
        }
    }
}

/// Selector plugins (DESIGN §3): defaults for new plugins and the caps no plugin may exceed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Largest component accepted at upload, in bytes.
    pub max_upload_bytes: usize,
    /// Fuel (instructions) per evaluation for a new plugin, and the most a plugin may have.
    pub default_fuel: u64,
    pub max_fuel: u64,
    /// Linear memory per evaluation, in MiB.
    pub default_memory_mib: u64,
    pub max_memory_mib: u64,
    /// Wall-clock deadline per evaluation, in milliseconds (a backstop behind fuel).
    pub default_timeout_ms: u64,
    pub max_timeout_ms: u64,
    /// Log lines and bytes kept per evaluation; the rest is dropped and counted.
    pub max_log_lines: usize,
    pub max_log_bytes: usize,
    /// Bytes of text (`deny` and `reason`) a decision may carry.
    pub max_output_bytes: usize,
    /// Active evaluations running at once; 0: two per core (at least 4). One scope (the
    /// global assignment or one app) gets at most half, one user two; shadow runs have half
    /// as many slots again of their own.
    pub max_concurrent: usize,
    /// Active evaluations one user may start per minute on this node (a burst of that many,
    /// refilled evenly); beyond it a login waits up to one token's worth of time for the next
    /// one, else fails `busy` (secure) without running the plugin. 0: no limit.
    pub user_evaluations_per_minute: u64,
    /// Processor time one scope's plugin (the global assignment, one app; all shadow runs
    /// count as one scope) may take on a node, in milliseconds per second, with a burst of four
    /// seconds' worth. A scope past its share starts nothing until the refill has paid for what it
    /// spent: its logins wait up to the plugin's deadline, then fail `busy` (secure); shadow
    /// runs are dropped. 0: no limit.
    pub scope_cpu_ms_per_second: u64,
    /// Decision log retention: at most this many rows, none older than this many days.
    pub decision_log_max_rows: i64,
    pub decision_log_days: i64,
    /// Compiled plugins are cached here. Empty: `<data_dir>/plugin-cache`.
    pub cache_dir: String,
    /// The budget of one compilation, which runs in a child process that the kernel stops
    /// at these limits: CPU seconds (the wall clock gets twice as long, then the child is
    /// killed) and MiB of memory.
    pub compile_seconds: u64,
    pub compile_memory_mib: u64,
    /// The program run as that child (`<program> __compile-plugin`). Empty: this executable.
    /// Only for embedding Portcullis in another program (its tests, say).
    pub compiler_program: String,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            max_upload_bytes: 16 * 1024 * 1024,
            default_fuel: 50_000_000,
            max_fuel: 1_000_000_000,
            default_memory_mib: 32,
            max_memory_mib: 256,
            default_timeout_ms: 100,
            max_timeout_ms: 2_000,
            max_log_lines: 32,
            max_log_bytes: 4_096,
            max_output_bytes: 4_096,
            max_concurrent: 0,
            user_evaluations_per_minute: 30,
            scope_cpu_ms_per_second: 250,
            decision_log_max_rows: 10_000,
            decision_log_days: 30,
            cache_dir: String::new(),
            compile_seconds: 20,
            compile_memory_mib: 1024,
            compiler_program: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub max_connections: u32,
    /// How long a query waits for a connection before failing, in seconds.
    pub acquire_timeout_seconds: u64,
    /// When SQLite makes a commit durable (ignored on PostgreSQL, whose own
    /// `synchronous_commit` decides).
    pub sqlite_synchronous: SqliteSync,
}

/// SQLite's `synchronous` setting in WAL mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSync {
    /// The WAL is synced when it is checkpointed, which the checkpoint task does within about a
    /// second of a write: a crash of the process loses nothing; a power loss or a crash of the
    /// operating system may lose the commits of that last second, never the database itself.
    Normal,
    /// Every commit syncs the WAL before it is answered: nothing answered is lost to a power
    /// loss either, for one disk sync per commit (a group of rotations shares one).
    Full,
}

impl SqliteSync {
    /// The value of SQLite's `synchronous` pragma.
    pub fn pragma(self) -> &'static str {
        match self {
            SqliteSync::Normal => "NORMAL",
            SqliteSync::Full => "FULL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
}

impl SigningAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(SigningAlg::RS256),
            "ES256" => Some(SigningAlg::ES256),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// Algorithm of the key generated on first start and by `keys rotate`.
    pub signing_alg: SigningAlg,
    pub access_token_ttl_seconds: i64,
    pub id_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    /// Authorization code lifetime; RFC 9700 §4.2.1 asks for a short one.
    pub code_ttl_seconds: i64,
    /// How long an authorization request waits for the user to sign in.
    pub auth_request_ttl_seconds: i64,
    /// After rotation, old public keys stay in the JWKS this long.
    pub retired_key_publish_seconds: i64,
    /// How often each node re-reads signing keys from the database.
    pub key_reload_seconds: u64,
    /// Token requests worked on at once by this node; past that, each client's requests wait
    /// in a queue of their own and freed slots go to the waiting clients in turn (one client's
    /// flood does not hold up another's grants).
    pub grants_in_flight: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// SSO session ends after this much inactivity.
    pub idle_timeout_minutes: i64,
    /// SSO session ends this long after sign-in, whatever the activity.
    pub absolute_timeout_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    /// Argon2id memory in KiB (OWASP: 19456).
    pub memory_kib: u32,
    /// Argon2id iterations (OWASP: 2).
    pub iterations: u32,
    /// Argon2id lanes (OWASP: 1).
    pub parallelism: u32,
    /// Hashes computed at once; 0 = number of CPU cores.
    pub max_concurrent: usize,
    /// Logins allowed to wait for a hashing slot; beyond that, 503 with Retry-After.
    pub max_queue: usize,
    /// Cheap Argon2 parameters below the OWASP floor. Only for test suites: never in production.
    pub insecure_test_params: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: "http://localhost:8080".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            dev_mode: false,
            master_key_file: String::new(),
            database: DatabaseConfig::default(),
            tokens: TokenConfig::default(),
            session: SessionConfig::default(),
            password: PasswordConfig::default(),
            limits: LimitsConfig::default(),
            plugins: PluginsConfig::default(),
            server: ServerConfig::default(),
            delivery: DeliveryConfig::default(),
            email: EmailConfig::default(),
            sms: SmsConfig::default(),
            branding: BrandingConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { max_connections: 16, acquire_timeout_seconds: 3, sqlite_synchronous: SqliteSync::Normal }
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            signing_alg: SigningAlg::RS256,
            access_token_ttl_seconds: 600,
            id_token_ttl_seconds: 600,
            refresh_token_ttl_seconds: 30 * 24 * 3600,
            code_ttl_seconds: 60,
            auth_request_ttl_seconds: 1800,
            retired_key_publish_seconds: 7 * 24 * 3600,
            key_reload_seconds: 60,
            grants_in_flight: 64,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { idle_timeout_minutes: 60, absolute_timeout_minutes: 12 * 60 }
    }
}

/// Failed-attempt limits (ASVS 2.2.1), counted in the database so every node sees them.
/// Lockouts are temporary and audited.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Window in which failures are counted, in seconds.
    pub window_seconds: i64,
    /// Wrong passwords per account name in a window before a lockout.
    pub password_failures_per_account: i64,
    /// Wrong passwords from one client address in a window before a lockout.
    pub password_failures_per_ip: i64,
    /// Wrong second factors per account, across all sessions, before a lockout.
    pub mfa_failures_per_account: i64,
    /// How long a lockout lasts, in seconds.
    pub lockout_seconds: i64,
    /// Read the client address from the last `X-Forwarded-For` entry of the last such header
    /// line, which the proxy wrote (behind a proxy you trust, and only then: a client reaching
    /// the server directly could name any address).
    pub trust_forwarded_for: bool,
    /// Seconds before a user may have another code of the same kind sent (resend cooldown).
    pub code_resend_seconds: i64,
    /// Codes (SMS and email) sent per hour at most: to one user, to one destination (a phone
    /// number or address, whoever asks), at the request of one client address, and SMS in all
    /// (SMS pumping and toll fraud are the known attacks on text-message codes).
    pub codes_per_user_per_hour: i64,
    pub codes_per_destination_per_hour: i64,
    pub codes_per_ip_per_hour: i64,
    pub sms_per_hour: i64,
    /// Code emails per hour in all (a flood must not burn the mail relay's reputation).
    pub code_emails_per_hour: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            window_seconds: 900,
            password_failures_per_account: 10,
            password_failures_per_ip: 100,
            mfa_failures_per_account: 5,
            lockout_seconds: 900,
            trust_forwarded_for: false,
            code_resend_seconds: 30,
            codes_per_user_per_hour: 10,
            codes_per_destination_per_hour: 5,
            codes_per_ip_per_hour: 30,
            sms_per_hour: 500,
            code_emails_per_hour: 2000,
        }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 0,
            max_queue: 64,
            insecure_test_params: false,
        }
    }
}

impl Config {
    /// Defaults, then the TOML file (if given or present at the default path), then the
    /// environment. Unknown keys are errors, so a typo never silently falls back to a default.
    /// The caller applies command-line overrides and then calls `validate`.
    pub fn load(path: Option<&Path>) -> Result<Config, String> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match path {
            Some(p) => {
                if !p.exists() {
                    return Err(format!("configuration file {} does not exist", p.display()));
                }
                fig = fig.merge(Toml::file(p));
            }
            None => {
                let default = Path::new("config/portcullis.toml");
                if default.exists() {
                    fig = fig.merge(Toml::file(default));
                }
            }
        }
        // PORTCULLIS_TEST_* belongs to the test suite, not to the server.
        fig = fig.merge(Env::prefixed("PORTCULLIS_").filter(|k| !k.starts_with("test_")).split("__"));
        let cfg: Config = fig.extract().map_err(|e| {
            let mut msgs = Vec::new();
            for err in e {
                let key = err.path.join(".");
                if key.is_empty() {
                    msgs.push(err.to_string());
                } else {
                    msgs.push(format!("key `{key}`: {}", err.kind));
                }
            }
            format!("invalid configuration: {}", msgs.join("; "))
        })?;
        Ok(cfg)
    }

    /// Refuses unsafe or inconsistent values; each message names its key.
    pub fn validate(&self) -> Result<(), String> {
        crate::web::brand::check(&self.branding)?;
        if !self.metrics.listen.is_empty() && self.metrics.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err("key `metrics.listen`: not an address like 127.0.0.1:9464".into());
        }
        let issuer = Url::parse(&self.issuer).map_err(|e| format!("key `issuer`: not a URL ({e})"))?;
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err("key `issuer`: must not have a query or fragment (OIDC Discovery §2)".into());
        }
        if self.issuer.ends_with('/') {
            return Err("key `issuer`: must not end with a slash".into());
        }
        if !matches!(issuer.scheme(), "https" | "http") {
            return Err("key `issuer`: must be an https URL".into());
        }
        self.listen
            .parse::<SocketAddr>()
            .map_err(|_| format!("key `listen`: `{}` is not a socket address like 127.0.0.1:8080", self.listen))?;
        let db_url_ok = self.database_url.is_empty()
            || ["sqlite:", "postgres://", "postgresql://"].iter().any(|p| self.database_url.starts_with(p));
        if !db_url_ok {
            return Err("key `database_url`: must start with sqlite:, postgres:// or postgresql://".into());
        }
        if self.database.max_connections == 0 {
            return Err("key `database.max_connections`: must be at least 1".into());
        }
        let sv = &self.server;
        for (key, v, min, max) in [
            ("server.header_read_timeout_seconds", sv.header_read_timeout_seconds, 1, 3600),
            ("server.body_read_timeout_seconds", sv.body_read_timeout_seconds, 1, 3600),
            ("server.request_timeout_seconds", sv.request_timeout_seconds, 1, 3600),
            ("server.max_connections", sv.max_connections as u64, 1, 1_000_000),
            ("server.shutdown_grace_seconds", sv.shutdown_grace_seconds, 0, 3600),
        ] {
            if v < min || v > max {
                return Err(format!("key `{key}`: {v} is outside {min}..={max}"));
            }
        }
        let t = &self.tokens;
        for (key, v, min, max) in [
            ("tokens.access_token_ttl_seconds", t.access_token_ttl_seconds, 30, 86_400),
            ("tokens.id_token_ttl_seconds", t.id_token_ttl_seconds, 30, 86_400),
            ("tokens.refresh_token_ttl_seconds", t.refresh_token_ttl_seconds, 60, 400 * 86_400),
            ("tokens.code_ttl_seconds", t.code_ttl_seconds, 5, 600),
            ("tokens.auth_request_ttl_seconds", t.auth_request_ttl_seconds, 60, 86_400),
            ("tokens.retired_key_publish_seconds", t.retired_key_publish_seconds, 0, 400 * 86_400),
            ("tokens.grants_in_flight", t.grants_in_flight as i64, 1, 100_000),
            ("session.idle_timeout_minutes", self.session.idle_timeout_minutes, 1, 525_600),
            ("session.absolute_timeout_minutes", self.session.absolute_timeout_minutes, 1, 525_600),
        ] {
            if v < min || v > max {
                return Err(format!("key `{key}`: {v} is outside {min}..={max}"));
            }
        }
        if t.key_reload_seconds == 0 {
            return Err("key `tokens.key_reload_seconds`: must be at least 1".into());
        }
        let p = &self.password;
        if !p.insecure_test_params {
            if p.memory_kib < 19456 {
                return Err("key `password.memory_kib`: below the OWASP minimum of 19456".into());
            }
            if p.iterations < 2 {
                return Err("key `password.iterations`: below the OWASP minimum of 2".into());
            }
        }
        if p.parallelism == 0 {
            return Err("key `password.parallelism`: must be at least 1".into());
        }
        let l = &self.limits;
        for (key, v) in [
            ("limits.window_seconds", l.window_seconds),
            ("limits.password_failures_per_account", l.password_failures_per_account),
            ("limits.password_failures_per_ip", l.password_failures_per_ip),
            ("limits.mfa_failures_per_account", l.mfa_failures_per_account),
            ("limits.lockout_seconds", l.lockout_seconds),
            ("limits.code_resend_seconds", l.code_resend_seconds),
            ("limits.codes_per_user_per_hour", l.codes_per_user_per_hour),
            ("limits.codes_per_destination_per_hour", l.codes_per_destination_per_hour),
            ("limits.codes_per_ip_per_hour", l.codes_per_ip_per_hour),
            ("limits.sms_per_hour", l.sms_per_hour),
            ("limits.code_emails_per_hour", l.code_emails_per_hour),
        ] {
            if v < 1 {
                return Err(format!("key `{key}`: must be at least 1"));
            }
        }
        if l.mfa_failures_per_account > 20 {
            return Err(
                "key `limits.mfa_failures_per_account`: at most 20 (a 6-digit code must not be guessable)".into()
            );
        }
        self.validate_plugins()?;
        self.validate_delivery()
    }

    /// `[delivery]`, `[email]` and `[sms]`: a transport that is on has what it needs.
    pub fn validate_delivery(&self) -> Result<(), String> {
        let d = &self.delivery;
        for (key, v, min, max) in [
            ("delivery.poll_interval_ms", d.poll_interval_ms as i64, 50, 60_000),
            ("delivery.attempt_timeout_seconds", d.attempt_timeout_seconds as i64, 1, 300),
            ("delivery.lease_seconds", d.lease_seconds, d.attempt_timeout_seconds as i64 + 5, 3600),
            ("delivery.max_in_flight", d.max_in_flight as i64, 1, 1024),
            ("delivery.give_up_after_seconds", d.give_up_after_seconds, 60, 7 * 86_400),
            ("delivery.keep_days", d.keep_days, 1, 3650),
        ] {
            if v < min || v > max {
                return Err(format!("key `{key}`: {v} is outside {min}..={max}"));
            }
        }
        let e = &self.email;
        if e.transport != EmailTransportKind::Off {
            crate::delivery::email::mailbox(&e.from).map_err(|m| format!("key `email.from`: {m}"))?;
            if !e.reply_to.is_empty() {
                crate::delivery::email::mailbox(&e.reply_to).map_err(|m| format!("key `email.reply_to`: {m}"))?;
            }
        }
        if e.transport == EmailTransportKind::Smtp {
            if e.smtp.host.is_empty() {
                return Err("key `email.smtp.host`: required when email.transport = \"smtp\"".into());
            }
            if e.smtp.username.is_empty() != e.smtp.password.is_empty() {
                return Err("key `email.smtp.username`: set both username and password, or neither".into());
            }
        }
        let s = &self.sms;
        match s.transport {
            SmsTransportKind::Off | SmsTransportKind::Log => {}
            SmsTransportKind::Twilio => {
                let t = &s.twilio;
                if !t.account_sid.starts_with("AC") || t.auth_token.is_empty() {
                    return Err(
                        "key `sms.twilio.account_sid`: an `AC…` account SID and its auth_token are required".into()
                    );
                }
                if t.from.is_empty() == t.messaging_service_sid.is_empty() {
                    return Err("key `sms.twilio.from`: set either `from` or `messaging_service_sid`".into());
                }
                endpoint_url(&t.api_base).map_err(|m| format!("key `sms.twilio.api_base`: {m}"))?;
            }
            SmsTransportKind::Sns => {
                let n = &s.sns;
                if n.region.is_empty() || n.access_key_id.is_empty() || n.secret_access_key.is_empty() {
                    return Err(
                        "key `sms.sns.access_key_id`: region, access_key_id and secret_access_key are required".into(),
                    );
                }
                if !n.endpoint.is_empty() {
                    endpoint_url(&n.endpoint).map_err(|m| format!("key `sms.sns.endpoint`: {m}"))?;
                }
            }
            SmsTransportKind::Webhook => {
                endpoint_url(&s.webhook.url).map_err(|m| format!("key `sms.webhook.url`: {m}"))?;
                crate::delivery::sms::webhook_key(&s.webhook.secret)
                    .map_err(|m| format!("key `sms.webhook.secret`: {m}"))?;
            }
        }
        Ok(())
    }

    /// The `[plugins]` section alone (all that `portcullis plugin test` needs).
    /// `validate`, plus what only matters to a server facing browsers: the issuer must be
    /// https, except http on a loopback host in `dev_mode`. Admin subcommands that never
    /// serve HTTP skip this, so `portcullis user add` works in an empty directory.
    pub fn validate_for_serving(&self) -> Result<(), String> {
        self.validate()?;
        let issuer = Url::parse(&self.issuer).map_err(|e| format!("key `issuer`: not a URL ({e})"))?;
        match issuer.scheme() {
            "https" => Ok(()),
            "http" if self.dev_mode => {
                let host = issuer.host_str().unwrap_or("");
                if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
                    Ok(())
                } else {
                    Err("key `issuer`: dev_mode allows http only on localhost, 127.0.0.1 or [::1]".into())
                }
            }
            _ => {
                Err("key `issuer`: must be https (set dev_mode = true for http://localhost during development)".into())
            }
        }
    }

    pub fn validate_plugins(&self) -> Result<(), String> {
        let pl = &self.plugins;
        for (key, v, min, max) in [
            ("plugins.max_upload_bytes", pl.max_upload_bytes as u64, 1024, 256 * 1024 * 1024),
            ("plugins.max_fuel", pl.max_fuel, 1_000, 100_000_000_000),
            ("plugins.default_fuel", pl.default_fuel, 1_000, pl.max_fuel),
            ("plugins.max_memory_mib", pl.max_memory_mib, 1, 4_096),
            ("plugins.default_memory_mib", pl.default_memory_mib, 1, pl.max_memory_mib),
            ("plugins.max_timeout_ms", pl.max_timeout_ms, 1, 60_000),
            ("plugins.default_timeout_ms", pl.default_timeout_ms, 1, pl.max_timeout_ms),
            ("plugins.max_log_lines", pl.max_log_lines as u64, 0, 10_000),
            ("plugins.max_log_bytes", pl.max_log_bytes as u64, 0, 1024 * 1024),
            ("plugins.max_output_bytes", pl.max_output_bytes as u64, 64, 1024 * 1024),
            ("plugins.max_concurrent", pl.max_concurrent as u64, 0, 10_000),
            ("plugins.user_evaluations_per_minute", pl.user_evaluations_per_minute, 0, 1_000_000),
            ("plugins.scope_cpu_ms_per_second", pl.scope_cpu_ms_per_second, 0, 1_000_000),
            ("plugins.decision_log_max_rows", pl.decision_log_max_rows.max(0) as u64, 0, 100_000_000),
            ("plugins.decision_log_days", pl.decision_log_days.max(0) as u64, 1, 3_650),
            ("plugins.compile_seconds", pl.compile_seconds, 1, 600),
            ("plugins.compile_memory_mib", pl.compile_memory_mib, 64, 65_536),
        ] {
            if v < min || v > max {
                return Err(format!("key `{key}`: {v} is outside {min}..={max}"));
            }
        }
        Ok(())
    }

    /// Where compiled plugins are cached.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        if self.plugins.cache_dir.is_empty() {
            self.data_dir.join("plugin-cache")
        } else {
            PathBuf::from(&self.plugins.cache_dir)
        }
    }

    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The issuer's origin (RFC 6454 §6.2), as browsers send it in `Origin`.
    pub fn issuer_origin(&self) -> String {
        url::Url::parse(&self.issuer).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
    }

    /// SQLite under the data dir unless a URL is configured.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("portcullis.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn master_key_path(&self) -> PathBuf {
        if self.master_key_file.is_empty() {
            self.data_dir.join("master.key")
        } else {
            PathBuf::from(&self.master_key_file)
        }
    }

    /// A configuration for test suites: loopback issuer, dev mode, cheap hashing.
    pub fn for_tests(issuer: &str, data_dir: &Path, database_url: &str) -> Config {
        Config {
            issuer: issuer.to_string(),
            data_dir: data_dir.to_path_buf(),
            database_url: database_url.to_string(),
            dev_mode: issuer.starts_with("http://"),
            password: PasswordConfig {
                memory_kib: 64,
                iterations: 1,
                insecure_test_params: true,
                ..PasswordConfig::default()
            },
            ..Config::default()
        }
    }
}

/// An endpoint messages are posted to: https, or http on a loopback host (a local relay or a
/// test double), never plain http across a network.
fn endpoint_url(s: &str) -> Result<Url, String> {
    let u = Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    let loopback = matches!(u.host(), Some(url::Host::Ipv4(a)) if a.is_loopback())
        || matches!(u.host(), Some(url::Host::Ipv6(a)) if a.is_loopback())
        || u.host_str() == Some("localhost");
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        _ => Err("must be an https URL (http only on a loopback host)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_issuer_needs_dev_mode() {
        let cfg = Config::default();
        assert!(cfg.validate_for_serving().unwrap_err().contains("`issuer`"));
        // Admin subcommands never serve HTTP: the scheme is not theirs to refuse.
        cfg.validate().unwrap();
        let cfg = Config { dev_mode: true, ..Config::default() };
        cfg.validate_for_serving().unwrap();
        let cfg = Config { dev_mode: true, issuer: "http://example.com".into(), ..Config::default() };
        assert!(cfg.validate_for_serving().unwrap_err().contains("`issuer`"));
        let cfg = Config { issuer: "ftp://example.com".into(), ..Config::default() };
        assert!(cfg.validate().unwrap_err().contains("`issuer`"));
    }

    #[test]
    fn weak_argon2_refused_without_test_flag() {
        let mut cfg = Config { issuer: "https://idp.example".into(), ..Config::default() };
        cfg.password.memory_kib = 1024;
        assert!(cfg.validate().unwrap_err().contains("password.memory_kib"));
        cfg.password.insecure_test_params = true;
        cfg.validate().unwrap();
    }
}
