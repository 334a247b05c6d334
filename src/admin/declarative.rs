//! Declarative configuration: the apps (OIDC and SAML), the groups and their minimums, the
//! settings and the plugin assignments as one YAML document (`portcullis config export`), and
//! a document made true in the database (`config apply`, `serve --apply`). A document is
//! checked whole before anything changes (a refusal names its line), then every change is
//! made in one transaction and printed as a diff; applying it again changes nothing.
//!
//! Secrets are references, never values: a confidential client's secret is `env: NAME` or
//! `file: PATH`, read when applied (the database keeps only its hash, so an export could not
//! hold it anyway). Plugins are named by name, version and SHA-256: the component must have
//! been uploaded; the document only says where it runs.

use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_saphyr::Spanned;

use super::Admin;
use crate::audit::event;
use crate::error::{AppError, AppResult};
use crate::mfa::policy::{AppPolicy, Factor, Policy, Settings};
use crate::mfa::selector::{OnError, PluginMode};
use crate::saml::registration::SamlAppSpec;
use crate::state::AppState;
use crate::store;
use crate::store::declarative::{Op, SamlRow};
use crate::store::plugins::GLOBAL;
use crate::store::saml::{Acs, AttributeMapping, ServiceProvider};

/// The document's format; a document of another version is refused.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    pub name: String,
    /// The group's minimum policy; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_policy: Option<Policy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<SamlEntry>,
    #[serde(default)]
    pub policy: PolicyEntry,
    /// The plugins assigned to this app.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<AssignmentEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcEntry {
    pub client_id: String,
    #[serde(default)]
    pub public: bool,
    /// Where the confidential client's secret is read from when the document is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretRef>,
    /// A public client needs one; a service (the client credentials grant) none.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes beyond `openid profile email groups offline_access`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_scopes: Vec<String>,
    /// May ask for access tokens in its own name (RFC 6749 §4.4); confidential clients only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_credentials: bool,
}

/// A secret by reference: an environment variable or a file (its content, trimmed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlEntry {
    pub entity_id: String,
    pub acs: Vec<Acs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_binding: Option<String>,
    /// The SP's signing certificate, base64 DER (or PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    #[serde(default)]
    pub want_requests_signed: bool,
    #[serde(default = "persistent")]
    pub name_id_format: String,
    pub attributes: Vec<AttributeMapping>,
    /// `both`, `assertion` or `response`.
    #[serde(default = "both")]
    pub sign: String,
    #[serde(default)]
    pub allow_idp_initiated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_relay_state: Option<String>,
}

fn persistent() -> String {
    "persistent".into()
}

fn both() -> String {
    "both".into()
}

fn yes() -> bool {
    true
}

/// An app's own policy; every field may be left out (as for everyone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyEntry {
    /// None: the global policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_policy: Option<Policy>,
    #[serde(default)]
    pub reauth_interval_minutes: i64,
    #[serde(default = "yes")]
    pub allow_trusted_devices: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_factors: Option<Vec<Factor>>,
}

impl Default for PolicyEntry {
    fn default() -> Self {
        PolicyEntry::from(AppPolicy::default())
    }
}

impl From<AppPolicy> for PolicyEntry {
    fn from(p: AppPolicy) -> Self {
        PolicyEntry {
            mfa_policy: p.mfa_policy,
            reauth_interval_minutes: p.reauth_interval_minutes,
            allow_trusted_devices: p.allow_trusted_devices,
            allowed_factors: p.allowed_factors,
        }
    }
}

impl From<&PolicyEntry> for AppPolicy {
    fn from(p: &PolicyEntry) -> Self {
        AppPolicy {
            mfa_policy: p.mfa_policy,
            reauth_interval_minutes: p.reauth_interval_minutes,
            allow_trusted_devices: p.allow_trusted_devices,
            allowed_factors: p.allowed_factors.clone(),
        }
    }
}

/// A plugin version assigned to a scope: named by name, version and hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentEntry {
    pub plugin: String,
    pub version: i64,
    pub sha256: String,
    /// `active`, `shadow` or `disabled`.
    pub mode: String,
    /// `fail_secure` or `fail_open`.
    pub on_error: String,
}

#[derive(Serialize)]
struct DocumentOut<'a> {
    version: u32,
    settings: &'a Settings,
    groups: Vec<GroupEntry>,
    apps: Vec<AppEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    global_plugins: Vec<AssignmentEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentIn {
    version: u32,
    #[serde(default)]
    settings: Option<Settings>,
    #[serde(default)]
    groups: Vec<Spanned<GroupEntry>>,
    #[serde(default)]
    apps: Vec<Spanned<AppEntry>>,
    #[serde(default)]
    global_plugins: Vec<Spanned<AssignmentEntry>>,
}

/// The environment variable an export names for a client's secret.
fn secret_env(client_id: &str) -> String {
    let id: String =
        client_id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("PORTCULLIS_CLIENT_SECRET_{id}")
}

/// The database's configuration as a document.
pub async fn export(state: &AppState) -> AppResult<String> {
    let settings = store::settings::load(&state.db).await?;
    let groups = store::settings::list_groups(&state.db)
        .await?
        .into_iter()
        .map(|g| GroupEntry { mfa_policy: g.mfa_policy.as_deref().and_then(Policy::parse), name: g.name })
        .collect();
    let plugins = store::plugins::list(&state.db).await?;
    let assignments = store::plugins::assignments(&state.db, None).await?;
    let entries_for = |scope: &str| -> Vec<AssignmentEntry> {
        let mut v: Vec<AssignmentEntry> = assignments
            .iter()
            .filter(|a| a.scope == scope)
            .filter_map(|a| {
                let p = plugins.iter().find(|p| p.id == a.plugin_id)?;
                Some(AssignmentEntry {
                    plugin: p.name.clone(),
                    version: p.version,
                    sha256: p.sha256.clone(),
                    mode: a.mode.as_str().to_owned(),
                    on_error: a.on_error.as_str().to_owned(),
                })
            })
            .collect();
        v.sort_by(|a, b| (&a.plugin, a.version).cmp(&(&b.plugin, b.version)));
        v
    };
    let mut apps = Vec::new();
    for (app, policy) in store::settings::list_app_policies(&state.db).await? {
        let mut entry = AppEntry {
            name: app.name.clone(),
            oidc: None,
            saml: None,
            policy: PolicyEntry::from(policy),
            plugins: entries_for(&app.id),
        };
        if let Some(c) = store::apps::find_client_by_app(&state.db, &app.id).await? {
            let extra_scopes = crate::oidc::extra_scopes(&c).map(str::to_owned).collect();
            entry.oidc = Some(OidcEntry {
                public: c.is_public(),
                client_credentials: c.client_credentials(),
                client_secret: (!c.is_public()).then(|| SecretRef { env: Some(secret_env(&c.client_id)), file: None }),
                client_id: c.client_id,
                redirect_uris: c.redirect_uris,
                post_logout_redirect_uris: c.post_logout_redirect_uris,
                extra_scopes,
            });
        } else if let Some(sp) = store::saml::find_by_app(&state.db, &app.id).await? {
            entry.saml = Some(SamlEntry {
                entity_id: sp.entity_id,
                acs: sp.acs,
                slo_url: sp.slo_url,
                slo_binding: sp.slo_binding,
                certificate: sp.certificate,
                want_requests_signed: sp.want_requests_signed,
                name_id_format: sp.name_id_format,
                attributes: sp.attributes,
                sign: sp.sign.as_str().to_owned(),
                allow_idp_initiated: sp.allow_idp_initiated,
                default_relay_state: sp.default_relay_state,
            });
        }
        apps.push(entry);
    }
    apps.sort_by(|a, b| (&a.name, identifier(a)).cmp(&(&b.name, identifier(b))));
    let doc = DocumentOut { version: VERSION, settings: &settings, groups, apps, global_plugins: entries_for(GLOBAL) };
    let yaml = serde_saphyr::to_string(&doc).map_err(AppError::internal)?;
    Ok(format!(
        "# Portcullis configuration (portcullis config export): apply it with `portcullis config apply FILE`.\n\
         # Client secrets are references (env: or file:), read when applied; plugins must be uploaded first.\n{yaml}"
    ))
}

/// An app's natural key: its client id or its entity ID.
fn identifier(a: &AppEntry) -> &str {
    match (&a.oidc, &a.saml) {
        (Some(o), _) => &o.client_id,
        (None, Some(s)) => &s.entity_id,
        (None, None) => "",
    }
}

/// What applying a document did (or, with `dry_run`, would do): one line per change.
#[derive(Debug, Default)]
pub struct Applied {
    pub changes: Vec<String>,
}

/// A refusal of the document, at its line.
fn at(line: u64, e: AppError) -> AppError {
    AppError::BadRequest(format!("line {line}: {}", e.public_message()).into())
}

fn bad(line: u64, m: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!("line {line}: {m}").into())
}

/// Where `env:` references are read: the process environment for the CLI, a map in tests.
pub type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Reads a secret reference.
fn read_secret(r: &SecretRef, env: Env<'_>) -> Result<String, String> {
    match (&r.env, &r.file) {
        (Some(name), None) => env(name).ok_or_else(|| format!("the environment variable {name} is not set")),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|s| s.trim().to_owned())
            .map_err(|e| format!("cannot read the secret file {path}: {e}")),
        _ => Err("a secret is `env: NAME` or `file: PATH`, one of them".into()),
    }
}

/// A plugin assignment as the database holds it: the version's id, its mode and failure rule.
type Assigned = (String, PluginMode, OnError);

/// An app of the document, checked, with what the database should hold for it.
struct Wanted {
    line: u64,
    entry: AppEntry,
    policy: AppPolicy,
    kind: WantedKind,
    plugins: Vec<Assigned>,
}

enum WantedKind {
    Oidc { scopes: Vec<String>, secret_hash: Option<String> },
    Saml(ServiceProvider),
}

/// Finds the plugin version an assignment names, refusing a hash that differs.
async fn plugin_of(state: &AppState, line: u64, a: &AssignmentEntry) -> AppResult<Assigned> {
    let p = store::plugins::find_by_name(&state.db, &a.plugin, Some(a.version))
        .await?
        .ok_or_else(|| bad(line, format!("plugin {}@{} is not uploaded", a.plugin, a.version)))?;
    if !p.sha256.eq_ignore_ascii_case(&a.sha256) {
        return Err(bad(line, format!("plugin {}@{} has SHA-256 {}, not {}", a.plugin, a.version, p.sha256, a.sha256)));
    }
    let mode = PluginMode::parse(&a.mode)
        .ok_or_else(|| bad(line, format!("mode `{}` is not active, shadow or disabled", a.mode)))?;
    let on_error = OnError::parse(&a.on_error)
        .ok_or_else(|| bad(line, format!("on_error `{}` is not fail_secure or fail_open", a.on_error)))?;
    Ok((p.id, mode, on_error))
}

/// Checks an app entry into what it asks the database to hold.
async fn check_app(state: &AppState, env: Env<'_>, line: u64, entry: AppEntry, app_id: &str) -> AppResult<Wanted> {
    let policy = AppPolicy::from(&entry.policy);
    if !(0..=60 * 24 * 365).contains(&policy.reauth_interval_minutes) {
        return Err(bad(line, "reauth_interval_minutes is between 0 and 525600"));
    }
    let kind = match (&entry.oidc, &entry.saml) {
        (Some(o), None) => {
            let scopes = super::apps::checked_client(
                state,
                &entry.name,
                &o.redirect_uris,
                &o.post_logout_redirect_uris,
                &o.extra_scopes,
                super::apps::ClientKind { public: o.public, client_credentials: o.client_credentials },
            )
            .map_err(|e| at(line, e))?;
            super::apps::check_client_id(&o.client_id, o.client_credentials).map_err(|e| at(line, e))?;
            let secret_hash = match (o.public, &o.client_secret) {
                (true, None) => None,
                (true, Some(_)) => return Err(bad(line, "a public client has no client_secret")),
                (false, None) => return Err(bad(line, "a confidential client needs client_secret: {env: NAME}")),
                (false, Some(r)) => {
                    let secret = read_secret(r, env).map_err(|m| bad(line, m))?;
                    if secret.len() < 32 {
                        return Err(bad(line, "a client secret has at least 32 characters"));
                    }
                    Some(crate::oidc::token::client_secret_hash(&secret))
                }
            };
            WantedKind::Oidc { scopes, secret_hash }
        }
        (None, Some(s)) => WantedKind::Saml(saml_provider(state, &entry.name, s, app_id).map_err(|e| at(line, e))?),
        _ => return Err(bad(line, format!("app `{}`: give either oidc or saml", entry.name))),
    };
    let mut plugins = Vec::new();
    for a in &entry.plugins {
        plugins.push(plugin_of(state, line, a).await?);
    }
    Ok(Wanted { line, entry, policy, kind, plugins })
}

/// A SAML entry checked as a registration is, keeping its ACS indexes and bindings.
fn saml_provider(state: &AppState, name: &str, s: &SamlEntry, app_id: &str) -> AppResult<ServiceProvider> {
    super::apps::check_name(name)?;
    let mut by_index = s.acs.clone();
    by_index.sort_by_key(|a| a.index);
    let spec = SamlAppSpec {
        name: name.to_owned(),
        metadata: None,
        entity_id: Some(s.entity_id.clone()),
        acs_urls: by_index.iter().map(|a| a.url.clone()).collect(),
        slo_url: s.slo_url.clone(),
        certificate: s.certificate.clone(),
        want_requests_signed: Some(s.want_requests_signed),
        name_id_format: Some(s.name_id_format.clone()),
        attributes: Some(s.attributes.clone()),
        sign: Some(s.sign.clone()),
        allow_idp_initiated: s.allow_idp_initiated,
        default_relay_state: s.default_relay_state.clone(),
    };
    let check_url = |what: &str, url: &str| super::apps::check_url(state, what, url);
    let mut sp = crate::saml::registration::service_provider(spec, app_id.to_owned(), &check_url)?;
    // The URLs were checked above; the document's indexes, bindings and default stand.
    if s.acs.iter().filter(|a| a.is_default).count() > 1 {
        return Err(AppError::BadRequest("only one ACS can be the default".into()));
    }
    sp.acs = s.acs.clone();
    if s.slo_url.is_some() && s.slo_binding.is_some() {
        sp.slo_binding = s.slo_binding.clone();
    }
    Ok(sp)
}

/// How to apply a document.
#[derive(Clone, Copy)]
pub struct How<'a> {
    /// Print what would change; change nothing.
    pub dry_run: bool,
    /// Also remove what the document does not name.
    pub prune: bool,
    /// Where `env:` secret references are read.
    pub env: Env<'a>,
}

/// Makes the database hold what `yaml` says. `prune` also removes the apps, groups and plugin
/// assignments the document does not name; `dry_run` changes nothing. Checked whole first,
/// applied in one transaction.
pub async fn apply(state: &AppState, admin: &Admin, yaml: &str, how: How<'_>) -> AppResult<Applied> {
    let How { dry_run, prune, env } = how;
    let doc: DocumentIn = serde_saphyr::from_str(yaml).map_err(|e| {
        let place = e.location().map(|l| format!("line {}, column {}: ", l.line(), l.column())).unwrap_or_default();
        AppError::BadRequest(format!("{place}{e}").into())
    })?;
    if doc.version != VERSION {
        return Err(AppError::BadRequest(format!("version {} is not {VERSION}", doc.version).into()));
    }
    let current_settings = store::settings::load(&state.db).await?;
    let settings = doc.settings.clone().unwrap_or_else(|| current_settings.clone());
    settings.validate().map_err(|m| AppError::BadRequest(format!("settings: {m}").into()))?;

    // Groups: unique names, valid policies.
    let existing_groups = store::settings::list_groups(&state.db).await?;
    let mut groups: Vec<(u64, GroupEntry)> = Vec::new();
    for g in &doc.groups {
        let line = g.referenced.line();
        super::users::validate_group(&g.value.name).map_err(|e| at(line, e))?;
        if groups.iter().any(|(_, o)| o.name == g.value.name) {
            return Err(bad(line, format!("group `{}` is named twice", g.value.name)));
        }
        groups.push((line, g.value.clone()));
    }

    // Apps: each checked, matched to the stored one by client id or entity ID.
    let stored_apps = store::settings::list_app_policies(&state.db).await?;
    let mut stored_ids: Vec<(String, String)> = Vec::new(); // (identifier, app id)
    for (app, _) in &stored_apps {
        if let Some(c) = store::apps::find_client_by_app(&state.db, &app.id).await? {
            stored_ids.push((format!("oidc:{}", c.client_id), app.id.clone()));
        } else if let Some(sp) = store::saml::find_by_app(&state.db, &app.id).await? {
            stored_ids.push((format!("saml:{}", sp.entity_id), app.id.clone()));
        }
    }
    let key_of = |e: &AppEntry| match (&e.oidc, &e.saml) {
        (Some(o), _) => format!("oidc:{}", o.client_id),
        (None, Some(s)) => format!("saml:{}", s.entity_id),
        _ => String::new(),
    };
    let mut wanted: Vec<(Option<String>, Wanted)> = Vec::new();
    for a in &doc.apps {
        let line = a.referenced.line();
        let key = key_of(&a.value);
        if !key.is_empty() && wanted.iter().any(|(_, w)| key_of(&w.entry) == key) {
            return Err(bad(line, format!("`{}` is named twice", &key[5..])));
        }
        let existing = stored_ids.iter().find(|(k, _)| *k == key).map(|(_, id)| id.clone());
        let app_id = existing.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let w = check_app(state, env, line, a.value.clone(), &app_id).await?;
        wanted.push((existing, w));
    }
    let mut global = Vec::new();
    for a in &doc.global_plugins {
        global.push(plugin_of(state, a.referenced.line(), &a.value).await?);
    }
    for scope_plugins in wanted.iter().map(|(_, w)| (&w.plugins, w.line)).chain([(&global, 0)]) {
        for mode in [PluginMode::Active, PluginMode::Shadow] {
            if scope_plugins.0.iter().filter(|(_, m, _)| *m == mode).count() > 1 {
                return Err(bad(scope_plugins.1, format!("one {} plugin per scope at most", mode.as_str())));
            }
        }
    }

    // The whole state after the change must leave every policy satisfiable.
    let mut final_groups: Vec<(String, Option<Policy>)> =
        groups.iter().map(|(_, g)| (g.name.clone(), g.mfa_policy)).collect();
    if !prune {
        for g in &existing_groups {
            if !final_groups.iter().any(|(n, _)| *n == g.name) {
                final_groups.push((g.name.clone(), g.mfa_policy.as_deref().and_then(Policy::parse)));
            }
        }
    }
    let mut final_apps: Vec<(String, AppPolicy)> =
        wanted.iter().map(|(_, w)| (w.entry.name.clone(), w.policy.clone())).collect();
    if !prune {
        for (app, p) in &stored_apps {
            if !wanted.iter().any(|(id, _)| id.as_deref() == Some(app.id.as_str())) {
                final_apps.push((app.name.clone(), p.clone()));
            }
        }
    }
    super::settings::check_all(state, &settings, &final_groups, &final_apps)?;

    // The diff, and the operations that make it.
    let mut out = Applied::default();
    let mut ops: Vec<Op> = Vec::new();
    if settings != current_settings {
        let (before, after) = (json!(current_settings), json!(settings));
        for (k, v) in after.as_object().expect("settings are an object") {
            if before.get(k) != Some(v) {
                out.changes.push(format!("~ settings.{k}: {} -> {v}", before[k]));
            }
        }
        ops.push(Op::Settings(settings.clone()));
    }
    for (_, g) in &groups {
        match existing_groups.iter().find(|e| e.name == g.name) {
            None => out.changes.push(format!("+ group {}", g.name)),
            Some(e) if e.mfa_policy.as_deref().and_then(Policy::parse) != g.mfa_policy => {
                out.changes.push(format!("~ group {}: minimum {:?} -> {:?}", g.name, e.mfa_policy, g.mfa_policy));
            }
            Some(_) => continue,
        }
        ops.push(Op::Group { name: g.name.clone(), policy: g.mfa_policy });
    }
    if prune {
        for e in &existing_groups {
            if !groups.iter().any(|(_, g)| g.name == e.name) {
                out.changes.push(format!("- group {} ({} members leave it)", e.name, e.members));
                ops.push(Op::DeleteGroup(e.name.clone()));
            }
        }
    }
    let assignments = store::plugins::assignments(&state.db, None).await?;
    let mut scopes_wanted: Vec<(String, String, &Vec<Assigned>)> = Vec::new();
    for (existing, w) in &wanted {
        let label = format!("app {} ({})", w.entry.name, identifier(&w.entry));
        let app_id = match (&w.kind, existing) {
            (WantedKind::Oidc { scopes, secret_hash }, None) => {
                let o = w.entry.oidc.as_ref().expect("an OIDC entry");
                let id = uuid::Uuid::new_v4().to_string();
                out.changes.push(format!("+ {label}"));
                ops.push(Op::CreateOidc {
                    app_id: id.clone(),
                    name: w.entry.name.clone(),
                    client_id: o.client_id.clone(),
                    secret_hash: secret_hash.clone(),
                    redirect_uris: o.redirect_uris.clone(),
                    post_logout_redirect_uris: o.post_logout_redirect_uris.clone(),
                    scopes: scopes.clone(),
                    client_credentials: o.client_credentials,
                });
                ops.push(Op::AppPolicy { app_id: id.clone(), policy: w.policy.clone() });
                id
            }
            (WantedKind::Saml(sp), None) => {
                out.changes.push(format!("+ {label}"));
                ops.push(Op::CreateSaml(SamlRow::of(sp)));
                ops.push(Op::AppPolicy { app_id: sp.app_id.clone(), policy: w.policy.clone() });
                sp.app_id.clone()
            }
            (kind, Some(id)) => {
                let (app, stored_policy) = stored_apps.iter().find(|(a, _)| a.id == *id).expect("a stored app");
                match kind {
                    WantedKind::Oidc { scopes, secret_hash } => {
                        let o = w.entry.oidc.as_ref().expect("an OIDC entry");
                        let c = store::apps::find_client_by_app(&state.db, id).await?.ok_or(AppError::NotFound)?;
                        let mut what = Vec::new();
                        if app.name != w.entry.name {
                            what.push("name");
                        }
                        if c.redirect_uris != o.redirect_uris {
                            what.push("redirect_uris");
                        }
                        if c.post_logout_redirect_uris != o.post_logout_redirect_uris {
                            what.push("post_logout_redirect_uris");
                        }
                        let (mut a, mut b) = (c.allowed_scopes.clone(), scopes.clone());
                        a.sort();
                        b.sort();
                        if a != b {
                            what.push("scopes");
                        }
                        if c.client_credentials() != o.client_credentials {
                            what.push("client_credentials");
                        }
                        if c.is_public() != o.public {
                            return Err(bad(w.line, "a client cannot change between public and confidential"));
                        }
                        if !what.is_empty() {
                            out.changes.push(format!("~ {label}: {}", what.join(", ")));
                            ops.push(Op::UpdateOidc {
                                app_id: id.clone(),
                                name: w.entry.name.clone(),
                                redirect_uris: o.redirect_uris.clone(),
                                post_logout_redirect_uris: o.post_logout_redirect_uris.clone(),
                                scopes: scopes.clone(),
                                client_credentials: o.client_credentials,
                            });
                        }
                        if let Some(hash) = secret_hash
                            && c.secret_hash.as_deref() != Some(hash.as_str())
                        {
                            out.changes.push(format!("~ {label}: client secret"));
                            ops.push(Op::Secret { client_id: c.client_id.clone(), hash: hash.clone() });
                        }
                    }
                    WantedKind::Saml(sp) => {
                        let old = store::saml::find_by_app(&state.db, id).await?.ok_or(AppError::NotFound)?;
                        if SamlRow::of(&old) != SamlRow::of(sp) {
                            out.changes.push(format!("~ {label}: SAML registration"));
                            ops.push(Op::UpdateSaml(SamlRow::of(sp)));
                        }
                    }
                }
                if *stored_policy != w.policy {
                    out.changes.push(format!("~ {label}: policy"));
                    ops.push(Op::AppPolicy { app_id: id.clone(), policy: w.policy.clone() });
                }
                id.clone()
            }
        };
        scopes_wanted.push((app_id, label, &w.plugins));
    }
    scopes_wanted.push((GLOBAL.to_owned(), "global".to_owned(), &global));
    let now = state.now();
    let uploaded = store::plugins::list(&state.db).await?;
    let plugin_label = |id: &str| {
        uploaded.iter().find(|p| p.id == id).map_or_else(|| id.to_owned(), |p| format!("{}@{}", p.name, p.version))
    };
    for (scope, label, list) in &scopes_wanted {
        for (plugin_id, mode, on_error) in list.iter() {
            let current = assignments.iter().find(|a| a.scope == *scope && a.plugin_id == *plugin_id);
            if current.is_some_and(|c| c.mode == *mode && c.on_error == *on_error) {
                continue;
            }
            out.changes.push(format!(
                "{} {label}: plugin {} {} ({})",
                if current.is_some() { "~" } else { "+" },
                plugin_label(plugin_id),
                mode.as_str(),
                on_error.as_str()
            ));
            ops.push(Op::Assign {
                scope: scope.clone(),
                plugin_id: plugin_id.clone(),
                mode: *mode,
                on_error: *on_error,
            });
        }
        if prune {
            for a in assignments.iter().filter(|a| a.scope == *scope) {
                if !list.iter().any(|(p, _, _)| *p == a.plugin_id) {
                    out.changes.push(format!("- {label}: plugin {}", plugin_label(&a.plugin_id)));
                    ops.push(Op::Unassign { scope: scope.clone(), plugin_id: a.plugin_id.clone() });
                }
            }
        }
    }
    if prune {
        for (key, id) in &stored_ids {
            if !wanted.iter().any(|(existing, _)| existing.as_deref() == Some(id.as_str())) {
                let name = stored_apps.iter().find(|(a, _)| a.id == *id).map_or("", |(a, _)| a.name.as_str());
                out.changes.push(format!("- app {name} ({})", &key[5..]));
                ops.push(Op::DeleteApp(id.clone()));
            }
        }
    }
    if dry_run || ops.is_empty() {
        return Ok(out);
    }
    let detail = json!({"changes": out.changes.len(), "prune": prune}).to_string();
    let record =
        crate::audit::Record::new(event::CONFIG_APPLIED, admin.actor_id(), None, admin.origin(), Some(&detail))
            .by(admin.actor_id());
    let applied = store::declarative::apply(&state.db, &ops, &record.row(), now).await;
    state.clients.changed();
    applied.map_err(|e| {
        if e.is_unique_violation() {
            AppError::Conflict("another change took a client id or entity ID at the same moment; apply again".into())
        } else {
            e
        }
    })?;
    record.log();
    record.announce(state).await;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_environment_names() {
        assert_eq!(secret_env("payroll-app.v2"), "PORTCULLIS_CLIENT_SECRET_PAYROLL_APP_V2");
    }

    #[test]
    fn a_document_refuses_unknown_keys_with_their_line() {
        let yaml = "version: 1\napps:\n  - name: X\n    colour: blue\n";
        let e = serde_saphyr::from_str::<DocumentIn>(yaml).err().expect("refused");
        let line = e.location().map(|l| l.line());
        assert_eq!(line, Some(4), "{e}");
    }
}
