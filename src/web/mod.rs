//! Server-rendered pages (askama, auto-escaped) and the one stylesheet. No JavaScript is
//! needed to sign in.

pub mod brand;
pub mod charts;
pub mod device;
pub mod i18n;

use askama::Template;

pub const STYLESHEET: &str = include_str!("static/portcullis.css");
/// WebAuthn ceremonies, print and copy; the pages work without it except for passkeys.
pub const SCRIPT: &str = include_str!("static/portcullis.js");

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub csrf: &'a str,
    pub request: Option<&'a str>,
    pub app_name: Option<&'a str>,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

impl LoginPage<'_> {
    /// Where the language menu comes back to: this login page, for the same waiting request.
    pub fn language_back(&self) -> String {
        match self.request {
            Some(r) => format!("/login?request={r}"),
            None => "/login".into(),
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub is_error: bool,
    pub link: Option<(&'a str, &'a str)>,
}

/// The SAML hand-over: posts the response to the service provider's ACS.
#[derive(Template)]
#[template(path = "saml_post.html")]
pub struct SamlPostPage<'a> {
    pub acs_url: &'a str,
    pub response: &'a str,
    pub relay_state: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub csrf: &'a str,
    pub app_name: Option<&'a str>,
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

pub struct DemoClaims {
    pub sub: String,
    pub username: String,
    pub amr: String,
    pub acr: String,
    pub auth_time: String,
    pub iss: String,
    pub aud: String,
    pub raw: String,
}

#[derive(Template)]
#[template(path = "demo.html")]
pub struct DemoPage {
    pub claims: Option<DemoClaims>,
    pub logout_url: String,
}

#[derive(Template)]
#[template(path = "mfa_challenge.html")]
pub struct MfaChallengePage<'a> {
    pub csrf: &'a str,
    /// The account being verified ("Not you?").
    pub username: &'a str,
    /// A sign-in from the password (not a step-up of a session): "Not you?" is offered.
    pub first_sign_in: bool,
    pub app_name: Option<&'a str>,
    pub error: Option<&'a str>,
    /// Where a code was just sent.
    pub notice: Option<&'a str>,
    pub totp: bool,
    pub passkey: bool,
    pub backup: bool,
    /// Offer the sent codes before the authenticator app (the user's primary, or one was sent).
    pub codes_first: bool,
    /// The masked number or address a code can be sent to, when the challenge offers it.
    pub sms_to: Option<&'a str>,
    pub email_to: Option<&'a str>,
    pub enroll_next: bool,
    /// Backup codes left, when fewer than `backup::LOW_WATER`.
    pub backup_low: Option<i64>,
    /// "Lost access?" can send a recovery link (otherwise: ask an administrator).
    pub recovery_by_email: bool,
    /// Second-step attempts are paused for this long (in words): the forms are disabled.
    pub locked_for: Option<String>,
    /// Wrong codes left before the pause, once one was wrong.
    pub attempts_left: Option<i64>,
}

pub struct TotpSetup {
    pub secret: String,
    pub qr_base64: String,
    /// The `otpauth://` address, for "open in your authenticator app" on the same device.
    pub uri: String,
}

impl TotpSetup {
    pub fn new(e: &crate::mfa::totp::Enrolment) -> TotpSetup {
        use base64::Engine;
        TotpSetup {
            secret: e.secret.clone(),
            qr_base64: base64::engine::general_purpose::STANDARD.encode(e.qr_svg.as_bytes()),
            uri: e.uri.clone(),
        }
    }

    /// The key in groups of four, as people read and type it.
    pub fn grouped(&self) -> String {
        let chars: Vec<char> = self.secret.chars().collect();
        chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
    }
}

#[derive(Template)]
#[template(path = "mfa_enroll.html")]
pub struct MfaEnrollPage<'a> {
    pub csrf: &'a str,
    /// The account being verified ("Not you?").
    pub username: &'a str,
    /// A sign-in from the password (not a step-up of a session): "Not you?" is offered.
    pub first_sign_in: bool,
    pub app_name: Option<&'a str>,
    pub error: Option<&'a str>,
    /// Where a set-up code was just sent.
    pub notice: Option<&'a str>,
    pub totp: Option<TotpSetup>,
    pub passkey: bool,
    /// Text message codes may be set up here.
    pub sms: bool,
    /// Email codes may be set up here, to this (masked) account address.
    pub email_to: Option<String>,
    pub can_postpone: bool,
    pub deadline: Option<String>,
    /// A recovery session: what becomes of the old factors (`replace` or `keep`).
    pub recovery: Option<&'static str>,
    /// The app's own policy asks for the second step (not the organisation's).
    pub required_by_app: bool,
}

#[derive(Template)]
#[template(path = "trust_device.html")]
pub struct TrustDevicePage<'a> {
    pub csrf: &'a str,
    pub trust_token: &'a str,
    pub request: Option<&'a str>,
    pub default_name: &'a str,
    pub days: i64,
    /// Ask whether to trust the device (otherwise the page only shows the codes and goes on).
    pub offer_trust: bool,
    /// A first set of backup codes, shown once.
    pub codes: Option<Vec<String>>,
}

/// `/admin`: the console's start.
#[derive(Template)]
#[template(path = "admin_home.html")]
pub struct AdminHomePage {
    pub users: i64,
    pub enrolled: i64,
    pub rate_percent: i64,
    pub sign_ins: i64,
    pub failures: i64,
    pub lockouts: i64,
    pub recoveries: i64,
}

impl AdminHomePage {
    /// Where the language menu comes back to.
    pub fn language_back(&self) -> &'static str {
        "/admin"
    }
}

pub struct UserListRow {
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub groups: String,
    pub factors: String,
    pub mfa: bool,
    pub last_sign_in: Option<String>,
    pub locked: bool,
    pub disabled: bool,
    pub is_admin: bool,
    /// Made with an invitation that was not accepted yet (no password).
    pub invited: bool,
}

/// `/admin/users`: a searchable, paged list.
#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct AdminUsersPage<'a> {
    pub q: &'a str,
    pub rows: Vec<UserListRow>,
    pub total: i64,
    /// From 0.
    pub page: i64,
    pub pages: i64,
    pub csrf: &'a str,
    pub error: Option<&'a str>,
    /// The new-user form, as last submitted.
    pub new_username: &'a str,
    pub new_email: &'a str,
    pub new_display_name: &'a str,
    pub new_groups: &'a str,
    pub invitation_days: i64,
    /// Invitations can be emailed.
    pub email_available: bool,
}

pub struct SessionRow {
    pub id: String,
    /// "Firefox on macOS", guessed from the browser, and the address it signed in from.
    pub device: String,
    pub ip: String,
    pub started: String,
    pub last_seen: String,
    pub second_step: String,
}

pub struct AuditRow {
    pub at: String,
    pub event: String,
    pub by_admin: bool,
    pub detail: Option<String>,
}

/// `/admin/users/{id}`: one user, and what an administrator can do for them.
#[derive(Template)]
#[template(path = "admin_user.html")]
pub struct AdminUserPage<'a> {
    pub csrf: &'a str,
    pub user: &'a crate::store::users::User,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub groups: Vec<String>,
    /// Id, kind, name, created.
    pub factors: Vec<(String, String, String, String)>,
    pub backup_remaining: i64,
    /// Id, name, last seen.
    pub devices: Vec<(String, String, String)>,
    pub sessions: Vec<SessionRow>,
    pub locked_until: Option<String>,
    pub last_sign_in: Option<String>,
    pub audit: Vec<AuditRow>,
    /// New backup codes, shown once.
    pub codes: Option<Vec<String>>,
    /// A new recovery link, shown once.
    pub recovery_url: Option<String>,
    /// A new invitation link, shown once.
    pub invitation_url: Option<String>,
    /// The account has no password yet (its invitation was not accepted).
    pub invited: bool,
    pub invitation_days: i64,
    pub email_verified: bool,
    /// The administrator is looking at their own account.
    pub is_self: bool,
}

/// `/admin/apps`: every registered application.
#[derive(Template)]
#[template(path = "admin_apps.html")]
pub struct AdminAppsPage<'a> {
    pub rows: Vec<AppListRow>,
    pub notice: Option<&'a str>,
}

pub struct AppListRow {
    pub id: String,
    pub name: String,
    pub protocol: &'static str,
    /// The OIDC client id or the SAML entity ID.
    pub identifier: String,
    pub policy: String,
    /// The plugins running for it (active or shadow).
    pub plugins: String,
}

/// An OIDC registration form's values (one URI per line, scopes space-separated).
#[derive(Default)]
pub struct OidcForm {
    pub name: String,
    pub client_id: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    /// Extra scopes beyond the standard ones.
    pub scopes: String,
    pub public: bool,
    /// May use the client credentials grant.
    pub client_credentials: bool,
}

/// A SAML registration form's values.
#[derive(Default)]
pub struct SamlForm {
    pub name: String,
    pub entity_id: String,
    pub metadata: String,
    pub acs_urls: String,
    pub slo_url: String,
    pub certificate: String,
    /// `yes`, `no` or empty (as the metadata says).
    pub want_requests_signed: String,
    pub name_id_format: String,
    pub sign: String,
    /// `SAML name = source`, one per line.
    pub attributes: String,
    pub allow_idp_initiated: bool,
    pub default_relay_state: String,
}

/// `/admin/apps/new`: register an OIDC client or a SAML service provider.
#[derive(Template)]
#[template(path = "admin_app_new.html")]
pub struct AdminAppNewPage<'a> {
    pub csrf: &'a str,
    pub error: Option<&'a str>,
    pub oidc: OidcForm,
    pub saml: SamlForm,
    pub dev_mode: bool,
}

pub struct AssignedPlugin {
    pub plugin_id: String,
    pub label: String,
    pub mode: &'static str,
    pub on_error: &'static str,
}

/// `/admin/apps/{id}`: one application.
#[derive(Template)]
#[template(path = "admin_app.html")]
pub struct AdminAppPage<'a> {
    pub csrf: &'a str,
    pub app: &'a crate::store::apps::App,
    pub protocol: &'static str,
    pub created: String,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub public: bool,
    /// A client secret, shown once.
    pub secret: Option<&'a str>,
    pub oidc: Option<OidcForm>,
    pub saml: Option<SamlForm>,
    /// (value, label) of each policy, weakest first.
    pub policies: Vec<(&'static str, String)>,
    /// `inherit` or a policy value.
    pub mfa_policy: &'static str,
    pub reauth: i64,
    pub trusted: bool,
    /// (value, accepted) of each factor the app may narrow to; none ticked: all.
    pub factors: Vec<(&'static str, bool)>,
    pub assigned: Vec<AssignedPlugin>,
    /// (id, "name vN") of every uploaded plugin version.
    pub plugins: Vec<(String, String)>,
    pub dev_mode: bool,
}

/// `/admin/stats`: the MFA dashboard.
#[derive(Template)]
#[template(path = "admin_stats.html")]
pub struct AdminStatsPage {
    pub users: i64,
    pub enrolled: i64,
    pub rate_percent: i64,
    pub days: i64,
    pub rate: charts::LineChart,
    pub daily: Vec<charts::BarChart>,
    pub factors: charts::HBarChart,
    pub plugins: Option<charts::HBarChart>,
    /// (plugin, mode, runs, failures).
    pub plugin_rows: Vec<(String, String, i64, i64)>,
    pub width: i64,
    pub plot: i64,
    pub hbar_left: i64,
    pub hbar_row: i64,
}

pub struct AuditLogRow {
    pub at: String,
    pub event: String,
    pub user_id: String,
    pub actor_id: String,
    pub app_id: String,
    pub ip: String,
    pub detail: String,
}

/// `/admin/audit`: the log, filtered, newest first.
#[derive(Template)]
#[template(path = "admin_audit.html")]
pub struct AdminAuditPage<'a> {
    pub event: &'a str,
    pub user: &'a str,
    pub app: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub rows: Vec<AuditLogRow>,
    pub error: Option<&'a str>,
    /// The id to page back from, when there may be older entries.
    pub older: Option<i64>,
    /// The filter as a query string (for paging and the export links).
    pub query: &'a str,
}

pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: String,
    pub enabled: bool,
    /// A rotation is under way until then.
    pub rotating_until: Option<String>,
    /// The latest deliveries: when, status, last error.
    pub deliveries: Vec<(String, &'static str, String)>,
}

/// `/admin/webhooks`.
#[derive(Template)]
#[template(path = "admin_webhooks.html")]
pub struct AdminWebhooksPage<'a> {
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    /// A new secret, shown once: the subscriber's id and the secret.
    pub secret: Option<(&'a str, &'a str)>,
    pub rows: Vec<WebhookRow>,
}

/// The recovery and password-reset pages: asking for a link, and using one.
#[derive(Template)]
#[template(path = "account_link.html")]
pub struct AccountLinkPage<'a> {
    pub csrf: &'a str,
    /// `recover` or `reset`.
    pub purpose: &'a str,
    /// The link's token, when one is being used; otherwise the page asks for an address.
    pub token: Option<&'a str>,
    /// The link is valid, for this (masked) account; `None` with a token: it is not.
    pub account: Option<String>,
    /// The account has a password to confirm (recovery).
    pub needs_password: bool,
    /// Links can be asked for by email here.
    pub self_service: bool,
    pub error: Option<&'a str>,
}

pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
}

pub struct DeviceRow {
    pub id: String,
    pub name: String,
    pub last_seen: String,
    pub expires: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage<'a> {
    pub csrf: &'a str,
    pub username: &'a str,
    pub is_admin: bool,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub fresh: bool,
    pub has_factor: bool,
    pub totp_allowed: bool,
    pub totp_enabled: bool,
    pub totp_setup: Option<TotpSetup>,
    pub passkey_allowed: bool,
    pub passkeys: Vec<PasskeyRow>,
    pub backup_enabled: bool,
    pub backup_remaining: i64,
    pub backup_total: i64,
    pub backup_generated: Option<String>,
    pub backup_low: bool,
    pub new_codes: Option<Vec<String>>,
    pub devices: Vec<DeviceRow>,
    /// SMS and email codes: what is set up, what may be, and a set-up waiting for its code.
    pub sent_codes: Vec<SentCodeRow>,
    /// Which method the sign-in page offers first (`totp`, `sms`, …).
    pub primary: Option<&'a str>,
    /// The account has a password (it can be changed here).
    pub has_password: bool,
    /// A postponed enrolment's deadline, while the user still has no factor.
    pub enroll_deadline: Option<String>,
    pub sessions: Vec<AccountSessionRow>,
    /// Recent sign-in attempts, newest first.
    pub history: Vec<SignInRow>,
}

impl ProfilePage<'_> {
    /// Where the language menu comes back to.
    pub fn language_back(&self) -> &'static str {
        "/profile"
    }
}

/// One of the user's own sessions on the account page.
pub struct AccountSessionRow {
    pub id: String,
    /// "Firefox on macOS", guessed from the browser.
    pub device: String,
    pub ip: String,
    pub started: String,
    pub last_seen: String,
    /// The session this page is shown in.
    pub current: bool,
}

/// One sign-in attempt on the account page.
pub struct SignInRow {
    pub at: String,
    /// The catalogue key of what happened.
    pub what: &'static str,
    pub ok: bool,
    /// The app it was for, if any.
    pub app: String,
    pub ip: String,
}

/// One kind of sent code on the profile page.
pub struct SentCodeRow {
    /// `sms` or `email`.
    pub kind: &'static str,
    pub heading: &'static str,
    /// The factor, when set up: its id, masked destination and last use.
    pub factor: Option<(String, String, Option<String>)>,
    /// May be set up (allowed and a transport configured).
    pub allowed: bool,
    /// A set-up code was just sent to this (masked) destination.
    pub pending: Option<String>,
    /// Email: the account's (masked) address, if it has one.
    pub account_email: Option<String>,
}

/// A Unix time for people: `2026-11-22 14:03 UTC`.
pub fn when(unix: i64) -> String {
    match cookie::time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()),
        Err(_) => unix.to_string(),
    }
}

pub struct GlobalSettingsView {
    pub mfa_policy: &'static str,
    pub totp: bool,
    pub passkey: bool,
    pub sms: bool,
    pub email: bool,
    /// A transport is configured (otherwise the factor cannot be offered, whatever is allowed).
    pub sms_transport: bool,
    pub email_transport: bool,
    pub self_service_recovery: bool,
    pub self_service_password_reset: bool,
    /// Key, label, on.
    /// Each alert's setting name and value (the template labels it).
    pub alerts: [(&'static str, bool); 5],
    pub enforce: bool,
    pub grace: i64,
    pub reauth: i64,
    pub trusted: i64,
    pub backup: i64,
}

pub struct GroupRow {
    pub name: String,
    /// A policy value, or empty for none.
    pub policy: String,
    pub members: i64,
}

pub struct AppRow {
    pub id: String,
    pub name: String,
    pub protocol: &'static str,
    /// `inherit` or a policy value.
    pub policy: &'static str,
    pub reauth: i64,
    pub trusted: bool,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
pub struct AdminSettingsPage<'a> {
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    /// (value, label) of each policy, weakest first.
    pub policies: Vec<(&'static str, String)>,
    pub s: GlobalSettingsView,
    pub groups: Vec<GroupRow>,
    pub apps: Vec<AppRow>,
}

/// A value and its label, for a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
}

pub struct PluginView {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub description: String,
    pub world: String,
    pub sha256: String,
    pub size: String,
    pub fuel: i64,
    pub memory_mib: i64,
    pub timeout_ms: i64,
    pub uploaded: String,
}

pub struct PluginListRow {
    pub row: PluginView,
    /// "active (global), shadow (Wiki)", or empty.
    pub assigned: String,
    /// Active somewhere: it is enforced.
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin_plugins.html")]
pub struct AdminPluginsPage<'a> {
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub plugins: Vec<PluginListRow>,
    pub max_upload: String,
    pub default_fuel: u64,
    pub default_memory_mib: u64,
    pub default_timeout_ms: u64,
}

pub struct AssignmentRow {
    pub scope: String,
    pub scope_label: String,
    pub mode: &'static str,
    pub on_error: &'static str,
    pub updated: String,
}

pub struct StatsView {
    pub evaluations: u64,
    /// "fuel: 2, trap: 1", or empty.
    pub errors: String,
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    pub fuel_p50: u64,
    pub fuel_max: u64,
}

pub struct TestView {
    /// The decision as JSON, or
    pub decision: Option<String>,
    /// "kind: message".
    pub failure: Option<String>,
    pub logs: Vec<String>,
    pub logs_dropped: u32,
    /// The fuel figure, or "unknown" after a timeout.
    pub fuel_used: String,
    pub duration_us: u64,
}

pub struct ReplayRow {
    pub decision_id: i64,
    pub at: String,
    pub user: String,
    pub recorded: String,
    pub candidate: String,
    pub failure: Option<String>,
}

pub struct ReplayView {
    pub logins: usize,
    /// Recorded sign-ins found; more than `logins` when the time ran out (`complete` false).
    pub found: usize,
    pub complete: bool,
    pub differences: usize,
    pub failures: usize,
    /// The logins where the candidate differs or fails.
    pub rows: Vec<ReplayRow>,
}

#[derive(Template)]
#[template(path = "admin_plugin.html")]
pub struct AdminPluginPage<'a> {
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    pub p: PluginView,
    pub assignments: Vec<AssignmentRow>,
    pub stats: StatsView,
    /// `global` and each app.
    pub scopes: Vec<Choice>,
    /// Recently recorded logins to test on.
    pub recent: Vec<Choice>,
    /// The context in the test form.
    pub context: String,
    pub test: Option<TestView>,
    pub replay: Option<ReplayView>,
    pub last: i64,
}
