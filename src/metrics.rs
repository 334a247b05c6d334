//! What an operator's Prometheus scrapes at `GET /metrics`: counters and histograms kept in
//! this process's registry (owned by the state, never a global, so every server in a test
//! process counts its own), and gauges read from the database when scraped. Every label value
//! comes from a closed set (route templates, event names, factor kinds, plugin names an
//! administrator uploaded), never from what a client sends, so a caller cannot grow the
//! series without bound. The README lists each metric.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::audit::event;
use crate::mfa::policy::Factor;

/// The media type of what `encode` writes (OpenMetrics 1.0, which Prometheus asks for first).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FactorLabels {
    factor: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant_type: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
    mode: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginName {
    plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    channel: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
    state: &'static str,
}

/// Request latency: 0.5 ms to about 8 s, doubling.
fn http_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// Plugin run time: 50 µs to about 0.8 s, doubling.
fn plugin_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.00005, 2.0, 15))
}

/// The audit events that count as their own series (the rest only in `audit_events`).
const EVENTS: [&str; 24] = [
    event::LOGIN_SUCCESS,
    event::LOGIN_FAILURE,
    event::LOCKOUT,
    event::MFA_CHALLENGE,
    event::MFA_PASSED,
    event::MFA_FAILED,
    event::MFA_ENROLLMENT_POSTPONED,
    event::MFA_DENIED,
    event::FACTOR_ENROLLED,
    event::FACTOR_REMOVED,
    event::BACKUP_CODES_GENERATED,
    event::BACKUP_CODE_USED,
    event::DEVICE_TRUSTED,
    event::DEVICE_REVOKED,
    event::SECURITY_EVENT,
    event::PLUGIN_FAILED,
    event::CODE_SENT,
    event::CODE_REFUSED,
    event::DELIVERY_FAILED,
    event::RECOVERY_REQUESTED,
    event::RECOVERY_USED,
    event::PASSWORD_RESET,
    event::PASSWORD_CHANGED,
    event::FACTOR_REMOVED_BY_ADMIN,
];

/// A request method as a label: the standard ones by name, anything else as `OTHER`.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    audit_events: Family<EventLabels, Counter>,
    sign_ins: Family<OutcomeLabels, Counter>,
    mfa_challenges: Counter,
    mfa_verifications: Family<FactorLabels, Counter>,
    lockouts: Counter,
    token_grants: Family<GrantLabels, Counter>,
    plugin_runs: Family<PluginLabels, Counter>,
    plugin_duration: Family<PluginName, Histogram, fn() -> Histogram>,
    plugin_standbys: Counter,
    plugin_standbys_held: Gauge,
    token_grants_in_flight: Gauge,
    token_grants_waiting: Gauge,
    /// The plugin host's count behind `plugin_standbys` (set before a scrape).
    standbys_total: AtomicU64,
    deliveries: Family<DeliveryLabels, Counter>,
    outbox: Family<StatusLabels, Gauge>,
    db_connections: Family<PoolLabels, Gauge>,
    sqlite_writer_queue: Gauge,
    /// Writers waiting for SQLite's write gate right now (kept by `store`, read on scrape).
    pub writers_waiting: std::sync::Arc<AtomicI64>,
    /// SQLite's group commit: groups, the writes they carried, and the groups written as one
    /// statement (kept by `store`, copied into the counters on scrape).
    group_commits: Counter,
    grouped_writes: Counter,
    group_statements: Counter,
    pub groups: std::sync::Arc<crate::store::group_commit::GroupStats>,
    /// Checkpoints run beside the SQLite writer (kept by `store::checkpoint`, copied on scrape).
    sqlite_checkpoints: Counter,
    pub checkpoints: std::sync::Arc<AtomicU64>,
    /// One scrape at a time brings the counters kept elsewhere up to date: two at once would
    /// each add the same difference.
    scraping: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(std::sync::Arc::default(), std::sync::Arc::default(), std::sync::Arc::default())
    }
}

impl Metrics {
    /// A registry with every metric at zero; `writers_waiting`, `groups` and `checkpoints` are
    /// the database's own counts.
    pub fn new(
        writers_waiting: std::sync::Arc<AtomicI64>,
        groups: std::sync::Arc<crate::store::group_commit::GroupStats>,
        checkpoints: std::sync::Arc<AtomicU64>,
    ) -> Metrics {
        let mut r = Registry::with_prefix("portcullis");
        let m = Metrics {
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(http_buckets),
            audit_events: Family::default(),
            sign_ins: Family::default(),
            mfa_challenges: Counter::default(),
            mfa_verifications: Family::default(),
            lockouts: Counter::default(),
            token_grants: Family::default(),
            plugin_runs: Family::default(),
            plugin_duration: Family::new_with_constructor(plugin_buckets),
            plugin_standbys: Counter::default(),
            plugin_standbys_held: Gauge::default(),
            token_grants_in_flight: Gauge::default(),
            token_grants_waiting: Gauge::default(),
            standbys_total: AtomicU64::new(0),
            deliveries: Family::default(),
            outbox: Family::default(),
            db_connections: Family::default(),
            sqlite_writer_queue: Gauge::default(),
            writers_waiting,
            group_commits: Counter::default(),
            grouped_writes: Counter::default(),
            group_statements: Counter::default(),
            groups,
            sqlite_checkpoints: Counter::default(),
            checkpoints,
            scraping: std::sync::Mutex::new(()),
            registry: Registry::default(),
        };
        r.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            m.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            m.http_duration.clone(),
        );
        r.register("audit_events", "Audit events recorded by this node, by event", m.audit_events.clone());
        r.register("sign_ins", "First-factor sign-ins, by outcome (success, failure)", m.sign_ins.clone());
        r.register(
            "mfa_challenges",
            "Second steps started (a sign-in asked for a second factor)",
            m.mfa_challenges.clone(),
        );
        r.register(
            "mfa_verifications",
            "Second-factor checks, by factor and outcome (passed, failed)",
            m.mfa_verifications.clone(),
        );
        r.register("lockouts", "Accounts or addresses locked after failed attempts", m.lockouts.clone());
        r.register("token_grants", "Token endpoint requests, by grant type and outcome", m.token_grants.clone());
        r.register(
            "token_grants_in_flight",
            "Token requests being worked on by this node (read when scraped)",
            m.token_grants_in_flight.clone(),
        );
        r.register(
            "token_grants_waiting",
            "Token requests waiting for their client's turn (read when scraped)",
            m.token_grants_waiting.clone(),
        );
        r.register("plugin_evaluations", "Selector plugin runs, by plugin, mode and outcome", m.plugin_runs.clone());
        r.register(
            "plugin_evaluation_duration_seconds",
            "Time of a selector plugin run (instantiation and call), by plugin",
            m.plugin_duration.clone(),
        );
        r.register(
            "plugin_standbys_used",
            "Selector plugin runs that found their instance made ahead on their evaluator thread (read when scraped)",
            m.plugin_standbys.clone(),
        );
        r.register(
            "plugin_standbys_held",
            "Selector plugin instances made ahead and held by evaluator threads (read when scraped)",
            m.plugin_standbys_held.clone(),
        );
        r.register("deliveries", "Outbox delivery attempts, by channel and outcome", m.deliveries.clone());
        r.register("outbox_messages", "Messages in the outbox, by status (read when scraped)", m.outbox.clone());
        r.register(
            "db_connections",
            "Database pool connections, by pool and state (read when scraped)",
            m.db_connections.clone(),
        );
        r.register(
            "sqlite_writer_queue",
            "Writes waiting for the SQLite writer (read when scraped; 0 on PostgreSQL)",
            m.sqlite_writer_queue.clone(),
        );
        r.register("group_commits", "Groups of refresh-token rotations committed together", m.group_commits.clone());
        r.register("grouped_writes", "Writes carried by those groups", m.grouped_writes.clone());
        r.register(
            "group_statements",
            "Groups written as one statement (the rest were written one by one, after that statement failed)",
            m.group_statements.clone(),
        );
        r.register(
            "sqlite_checkpoints",
            "WAL checkpoints run beside the SQLite writer while the WAL grew (0 on PostgreSQL)",
            m.sqlite_checkpoints.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// One answered request. `route` is the matched route template (`/admin/users/{id}`),
    /// `None` for a path no route matched.
    pub fn http(&self, method: &axum::http::Method, route: Option<&str>, status: u16, seconds: f64) {
        let (method, route) = (method_label(method), route.unwrap_or("unmatched").to_owned());
        self.http_requests.get_or_create(&HttpLabels { method, route: route.clone(), status }).inc();
        self.http_duration.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }

    /// An audit event recorded (`audit::Record::announce`): the events counter, and the
    /// sign-in, second-step and lockout series it feeds.
    pub fn event(&self, name: &str, detail: Option<&str>) {
        let Some(event) = EVENTS.iter().copied().find(|e| *e == name) else { return };
        self.audit_events.get_or_create(&EventLabels { event }).inc();
        match event {
            event::LOGIN_SUCCESS => {
                self.sign_ins.get_or_create(&OutcomeLabels { outcome: "success" }).inc();
            }
            event::LOGIN_FAILURE => {
                self.sign_ins.get_or_create(&OutcomeLabels { outcome: "failure" }).inc();
            }
            event::LOCKOUT => {
                self.lockouts.inc();
            }
            event::MFA_CHALLENGE => {
                self.mfa_challenges.inc();
            }
            event::MFA_PASSED | event::MFA_FAILED => {
                let outcome = if event == event::MFA_PASSED { "passed" } else { "failed" };
                let factor = detail.and_then(Factor::parse).map_or("other", Factor::as_str);
                self.mfa_verifications.get_or_create(&FactorLabels { factor, outcome }).inc();
            }
            _ => {}
        }
    }

    /// A token request answered: `grant_type` as asked (unknown ones as `other`).
    pub fn token_grant(&self, grant_type: &str, ok: bool) {
        let grant_type = match grant_type {
            "authorization_code" => "authorization_code",
            "refresh_token" => "refresh_token",
            "client_credentials" => "client_credentials",
            _ => "other",
        };
        let outcome = if ok { "issued" } else { "refused" };
        self.token_grants.get_or_create(&GrantLabels { grant_type, outcome }).inc();
    }

    /// The token endpoint's grants worked on and waiting (`GrantGate`), set before a scrape.
    pub fn set_token_grants(&self, in_flight: usize, waiting: usize) {
        self.token_grants_in_flight.set(in_flight as i64);
        self.token_grants_waiting.set(waiting as i64);
    }

    /// A selector plugin run: its outcome (`ok`, or the failure's kind) and its time.
    pub fn plugin_run(&self, plugin: &str, mode: &'static str, outcome: &'static str, seconds: f64) {
        let plugin = plugin.to_owned();
        self.plugin_runs.get_or_create(&PluginLabels { plugin: plugin.clone(), mode, outcome }).inc();
        self.plugin_duration.get_or_create(&PluginName { plugin }).observe(seconds);
    }

    /// The plugin host's standbys: runs served by one since start (`PluginHost::standbys_used`)
    /// and those held now (`PluginHost::standbys_held`).
    pub fn set_plugin_standbys(&self, used: u64, held: usize) {
        self.standbys_total.fetch_max(used, Ordering::Relaxed);
        self.plugin_standbys_held.set(held as i64);
    }

    /// A delivery attempt's outcome: `sent`, `retry` or `failed`.
    pub fn delivery(&self, channel: &'static str, outcome: &'static str) {
        self.deliveries.get_or_create(&DeliveryLabels { channel, outcome }).inc();
    }

    /// The gauges read at scrape time.
    pub fn set_outbox(&self, status: &'static str, count: i64) {
        self.outbox.get_or_create(&StatusLabels { status }).set(count);
    }

    pub fn set_pool(&self, pool: &'static str, size: u32, idle: usize) {
        let idle = idle as i64;
        self.db_connections.get_or_create(&PoolLabels { pool, state: "idle" }).set(idle);
        self.db_connections.get_or_create(&PoolLabels { pool, state: "in_use" }).set(size as i64 - idle);
    }

    /// Everything in the text format (`CONTENT_TYPE`).
    pub fn encode(&self) -> String {
        let _one = self.scraping.lock().unwrap_or_else(|e| e.into_inner());
        self.sqlite_writer_queue.set(self.writers_waiting.load(Ordering::Relaxed));
        let catch_up = |counter: &Counter, total: &AtomicU64| {
            counter.inc_by(total.load(Ordering::Relaxed).saturating_sub(counter.get()));
        };
        catch_up(&self.group_commits, &self.groups.commits);
        catch_up(&self.grouped_writes, &self.groups.writes);
        catch_up(&self.group_statements, &self.groups.statements);
        catch_up(&self.sqlite_checkpoints, &self.checkpoints);
        catch_up(&self.plugin_standbys, &self.standbys_total);
        let mut out = String::new();
        // Writing into a String cannot fail; the encoder only reports the writer's errors.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_count_and_encode() {
        let m = Metrics::default();
        m.http(&axum::http::Method::GET, Some("/admin/users/{id}"), 200, 0.003);
        m.http(&axum::http::Method::from_bytes(b"BREW").unwrap(), None, 404, 0.0001);
        m.event(event::MFA_FAILED, Some("totp"));
        m.event(event::MFA_FAILED, Some("<script>"));
        m.event("made.up", None);
        m.token_grant("refresh_token", true);
        m.token_grant("urn:x", false);
        let text = m.encode();
        for line in [
            r#"portcullis_http_requests_total{method="GET",route="/admin/users/{id}",status="200"} 1"#,
            r#"portcullis_http_requests_total{method="OTHER",route="unmatched",status="404"} 1"#,
            r#"portcullis_mfa_verifications_total{factor="totp",outcome="failed"} 1"#,
            r#"portcullis_mfa_verifications_total{factor="other",outcome="failed"} 1"#,
            r#"portcullis_token_grants_total{grant_type="refresh_token",outcome="issued"} 1"#,
            r#"portcullis_token_grants_total{grant_type="other",outcome="refused"} 1"#,
            "portcullis_sqlite_writer_queue 0",
            "portcullis_group_commits_total 0",
            "portcullis_sqlite_checkpoints_total 0",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        assert!(!text.contains("made.up") && !text.contains("script"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    /// Counters kept elsewhere (group commits, standbys used) are brought up to date by each
    /// scrape: many scrapes at once still count each event once.
    #[test]
    fn simultaneous_scrapes_count_once() {
        let m = std::sync::Arc::new(Metrics::default());
        for total in [40u64, 40, 1000] {
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let m = m.clone();
                    std::thread::spawn(move || {
                        m.groups.commits.store(total, Ordering::Relaxed);
                        m.set_plugin_standbys(total, 2);
                        m.encode()
                    })
                })
                .collect();
            threads.into_iter().for_each(|t| drop(t.join().unwrap()));
            let text = m.encode();
            for line in [
                format!("portcullis_plugin_standbys_used_total {total}"),
                format!("portcullis_group_commits_total {total}"),
            ] {
                assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
            }
        }
    }

    /// Every metric the sample Grafana dashboard and the README name is one we serve.
    #[test]
    fn the_dashboard_and_the_readme_name_only_served_metrics() {
        let m = Metrics::default();
        m.http(&axum::http::Method::GET, None, 200, 0.1);
        m.event(event::LOGIN_SUCCESS, None);
        m.event(event::LOGIN_FAILURE, None);
        m.event(event::LOCKOUT, None);
        m.event(event::MFA_CHALLENGE, None);
        m.event(event::MFA_PASSED, Some("totp"));
        m.token_grant("authorization_code", true);
        m.plugin_run("risk", "active", "ok", 0.001);
        m.set_plugin_standbys(3, 1);
        m.delivery("email", "sent");
        m.set_outbox("pending", 0);
        m.set_pool("postgres", 1, 1);
        let text = m.encode();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dashboard = std::fs::read_to_string(root.join("config/grafana-dashboard.json")).unwrap();
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let start = readme.find("### Metrics").expect("the README's metrics section");
        let readme = readme[start..][..readme[start..].find("\n### Container").unwrap()].to_owned();
        let mut named = 0;
        for source in [dashboard, readme] {
            for name in source
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("portcullis_") && w.len() > "portcullis_".len())
            {
                let base =
                    ["_bucket", "_total", "_count", "_sum"].iter().fold(name, |n, s| n.strip_suffix(s).unwrap_or(n));
                assert!(text.contains(&format!("# TYPE {base} ")), "{name} is not served:\n{text}");
                named += 1;
            }
        }
        assert!(named > 20, "{named}");
    }
}
