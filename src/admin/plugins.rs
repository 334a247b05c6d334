//! The plugin lifecycle behind the admin API, page and CLI: upload (validated against the
//! world, stored with its sha256, immutable), assignment and mode, deletion, statistics,
//! test runs and replay of recorded logins. Every change is audited. The wasm host itself
//! (compiling, sandboxing, evaluating) is `plugin_host`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use serde_json::json;

use super::Admin;
use crate::audit::event;
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::policy::{Factor, Policy, Verdict};
use crate::mfa::selector::{self, OnError, PluginMode};
use crate::plugin_host::context::LoginContext;
use crate::plugin_host::{Evaluation, FailureKind, Lane, Limits};
use crate::state::AppState;
use crate::store;
use crate::store::plugins::{Assignment, GLOBAL, Plugin};

pub struct Upload<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub bytes: &'a [u8],
    pub fuel: Option<u64>,
    pub memory_mib: Option<u64>,
    pub timeout_ms: Option<u64>,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

/// Stores a new version of a plugin after compiling and linking it against its world.
pub async fn upload(state: &AppState, admin: &Admin, up: &Upload<'_>) -> AppResult<Plugin> {
    if !valid_name(up.name) {
        return Err(AppError::BadRequest(Msg::key("adm-err-plugin-name")));
    }
    if up.description.chars().count() > 500 {
        return Err(AppError::BadRequest(Msg::key("adm-err-plugin-description")));
    }
    let cap = state.plugins.caps().max_upload_bytes;
    if up.bytes.len() > cap {
        return Err(AppError::BadRequest(
            Msg::key("adm-err-plugin-size").with("size", up.bytes.len()).with("max", cap),
        ));
    }
    let defaults = state.plugins.default_limits();
    let limits = Limits {
        fuel: up.fuel.unwrap_or(defaults.fuel),
        memory_bytes: up.memory_mib.map_or(defaults.memory_bytes, |m| m.saturating_mul(1024 * 1024)),
        timeout_ms: up.timeout_ms.unwrap_or(defaults.timeout_ms),
    };
    state.plugins.check_limits(&limits).map_err(|m| AppError::BadRequest(m.into()))?;
    let sha256 = hex::encode(crate::crypto::sha256(up.bytes));
    let host = state.plugins.clone();
    let (sha, bytes) = (sha256.clone(), up.bytes.to_vec());
    let prepared = tokio::task::spawn_blocking(move || host.compile(&sha, &bytes))
        .await
        .map_err(AppError::internal)?
        .map_err(|m| AppError::BadRequest(m.into()))?;
    let plugin = store::plugins::create(
        &state.db,
        &store::plugins::NewPlugin {
            name: up.name,
            description: up.description,
            sha256: &sha256,
            world_version: &prepared.version.to_string(),
            wasm: up.bytes,
            fuel: limits.fuel as i64,
            memory_bytes: limits.memory_bytes as i64,
            timeout_ms: limits.timeout_ms as i64,
            created_by: admin.actor_id(),
        },
        state.now(),
    )
    .await?;
    let detail = json!({"plugin": plugin.name, "version": plugin.version, "sha256": plugin.sha256, "world": plugin.world_version});
    admin.audit(state, event::PLUGIN_UPLOADED, None, None, &detail).await?;
    Ok(plugin)
}

/// A plugin with where it is assigned.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ListedPlugin)]
pub struct Listed {
    pub plugin: Plugin,
    pub assignments: Vec<Assignment>,
}

/// Every plugin version with its assignments, by name and version.
pub async fn list(state: &AppState, _: &Admin) -> AppResult<Vec<Listed>> {
    let plugins = store::plugins::list(&state.db).await?;
    let mut assignments = store::plugins::assignments(&state.db, None).await?;
    Ok(plugins
        .into_iter()
        .map(|plugin| {
            let (mine, rest) = assignments.drain(..).partition(|a| a.plugin_id == plugin.id);
            assignments = rest;
            Listed { plugin, assignments: mine }
        })
        .collect())
}

/// `NAME@VERSION`, `NAME` (its newest version) or an id.
pub async fn resolve(state: &AppState, _: &Admin, reference: &str) -> AppResult<Plugin> {
    let found = match reference.split_once('@') {
        Some((name, v)) => {
            let v: i64 = v.parse().map_err(|_| AppError::BadRequest(format!("bad version in `{reference}`").into()))?;
            store::plugins::find_by_name(&state.db, name, Some(v)).await?
        }
        None => match store::plugins::find(&state.db, reference).await? {
            Some(p) => Some(p),
            None => store::plugins::find_by_name(&state.db, reference, None).await?,
        },
    };
    found.ok_or(AppError::NotFound)
}

/// Sets the plugin's mode (`active`, `shadow` or `disabled`) in a scope (`global` or an app
/// id). Activating replaces the scope's active plugin; likewise for shadow.
pub async fn assign(
    state: &AppState,
    admin: &Admin,
    plugin: &Plugin,
    scope: &str,
    mode: &str,
    on_error: Option<&str>,
) -> AppResult<Assignment> {
    let mode = PluginMode::parse(mode).ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-plugin-mode")))?;
    if scope != GLOBAL && store::apps::find(&state.db, scope).await?.is_none() {
        return Err(AppError::BadRequest(Msg::key("adm-err-plugin-scope").with("id", scope)));
    }
    let current = store::plugins::assignments(&state.db, Some(&plugin.id)).await?;
    let on_error = match on_error {
        Some(s) => OnError::parse(s).ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-plugin-on-error")))?,
        None => current.iter().find(|a| a.scope == scope).map_or(OnError::FailSecure, |a| a.on_error),
    };
    let a =
        Assignment { scope: scope.to_owned(), plugin_id: plugin.id.clone(), mode, on_error, updated_at: state.now() };
    store::plugins::assign(&state.db, &a).await?;
    // Ready before the first login that needs it, on this node; the others pick the
    // assignment up within a key-reload interval.
    selector::warm(state, &plugin.id, &plugin.sha256, &plugin.world_version);
    let detail = json!({
        "plugin": plugin.name,
        "version": plugin.version,
        "scope": scope,
        "mode": mode,
        "on_error": on_error
    });
    let app = (scope != GLOBAL).then_some(scope);
    admin.audit(state, event::PLUGIN_ASSIGNED, None, app, &detail).await?;
    Ok(a)
}

pub async fn unassign(state: &AppState, admin: &Admin, plugin: &Plugin, scope: &str) -> AppResult<()> {
    if !store::plugins::unassign(&state.db, scope, &plugin.id).await? {
        return Err(AppError::NotFound);
    }
    let detail = json!({"plugin": plugin.name, "version": plugin.version, "scope": scope});
    let app = (scope != GLOBAL).then_some(scope);
    admin.audit(state, event::PLUGIN_UNASSIGNED, None, app, &detail).await?;
    Ok(())
}

pub async fn delete(state: &AppState, admin: &Admin, plugin: &Plugin) -> AppResult<()> {
    if !store::plugins::delete(&state.db, &plugin.id).await? {
        return Err(AppError::NotFound);
    }
    // Identical bytes share one compiled artefact: it goes only with the last version using it.
    if !store::plugins::is_sha256_used(&state.db, &plugin.sha256).await? {
        state.plugins.forget(&plugin.sha256);
    }
    let detail = json!({"plugin": plugin.name, "version": plugin.version, "sha256": plugin.sha256});
    admin.audit(state, event::PLUGIN_DELETED, None, None, &detail).await?;
    Ok(())
}

/// Figures over a plugin's retained decisions.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[schema(as = PluginStats)]
pub struct Stats {
    pub evaluations: u64,
    /// Failures by kind.
    #[schema(value_type = BTreeMap<String, u64>)]
    pub errors: BTreeMap<&'static str, u64>,
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    pub fuel_p50: u64,
    pub fuel_max: u64,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub async fn stats(state: &AppState, _: &Admin, plugin: &Plugin) -> AppResult<Stats> {
    state.decisions.flush().await;
    let rows = store::plugins::samples(&state.db, &plugin.id).await?;
    let mut stats = Stats { evaluations: rows.len() as u64, ..Stats::default() };
    let mut latency: Vec<u64> = rows.iter().map(|r| r.2.max(0) as u64).collect();
    let mut fuel: Vec<u64> = rows.iter().filter(|r| r.1 >= 0).map(|r| r.1 as u64).collect();
    latency.sort_unstable();
    fuel.sort_unstable();
    for kind in FailureKind::ALL {
        let n = rows.iter().filter(|r| r.0.as_deref() == Some(kind.as_str())).count() as u64;
        if n > 0 {
            stats.errors.insert(kind.as_str(), n);
        }
    }
    stats.latency_p50_us = percentile(&latency, 50.0);
    stats.latency_p99_us = percentile(&latency, 99.0);
    stats.fuel_p50 = percentile(&fuel, 50.0);
    stats.fuel_max = fuel.last().copied().unwrap_or(0);
    Ok(stats)
}

/// Runs a stored plugin on a context, as a login would (nothing is recorded or enforced).
pub async fn test(state: &AppState, _: &Admin, plugin: &Plugin, context: LoginContext) -> Evaluation {
    let prepared = match selector::prepared(state, &plugin.id, &plugin.sha256, &plugin.world_version).await {
        Ok(p) => p,
        Err(e) => return e,
    };
    let limits = Limits {
        fuel: plugin.fuel as u64,
        memory_bytes: plugin.memory_bytes as u64,
        timeout_ms: plugin.timeout_ms as u64,
    };
    // An admin's test runs on the shadow budget: it never takes a login's slot, and waits for
    // room rather than being dropped.
    state.plugins.evaluate(prepared, limits, Arc::new(context), Lane::Admin).await
}

/// What the MFA step makes of a verdict for a context: the parts that change the login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = PluginEffect)]
pub struct Effect {
    pub policy: Policy,
    pub allowed_factors: Option<Vec<Factor>>,
    pub reauth_interval_minutes: Option<u32>,
    pub allow_trusted_device: bool,
    pub denied: bool,
}

pub fn effect(static_policy: Policy, v: Option<&Verdict>) -> Effect {
    let none = Verdict::default();
    let v = v.unwrap_or(&none);
    Effect {
        policy: static_policy.max(v.policy.unwrap_or(Policy::Disabled)),
        allowed_factors: v.allowed_factors.clone(),
        reauth_interval_minutes: v.reauth_interval_minutes,
        allow_trusted_device: v.allow_trusted_device != Some(false),
        denied: v.deny.is_some(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReplayedLogin {
    pub decision_id: i64,
    pub at: i64,
    pub user_id: Option<String>,
    /// The username at the time of that login.
    pub username: String,
    pub app_id: Option<String>,
    /// What was enforced (the active plugin's effect, or the static policy's).
    pub recorded: Effect,
    /// What the candidate would have enforced (with `fail_secure` on failure).
    pub candidate: Effect,
    pub evaluation: Evaluation,
    pub differs: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PluginReplay)]
pub struct Replay {
    /// Recorded logins replayed: all of `found` unless the request's time ran out first.
    pub logins: usize,
    /// Recorded logins found, at most the number asked for.
    pub found: usize,
    /// False when the request's time ran out before every login found was replayed: then
    /// `results` holds the first `logins` of them, newest first.
    pub complete: bool,
    pub differences: usize,
    pub failures: usize,
    pub results: Vec<ReplayedLogin>,
}

/// Time kept back from the request's deadline for answering with a replay's results.
const REPLAY_ANSWER_TIME: Duration = Duration::from_secs(2);

/// Runs `plugin` on the recorded contexts of the last `last` logins and compares its effect
/// with what was enforced then. With `until` (the request's deadline) a slow plugin's replay
/// stops in time to answer with what it has: the logins replayed so far, marked incomplete.
pub async fn replay(
    state: &AppState,
    admin: &Admin,
    plugin: &Plugin,
    last: i64,
    until: Option<tokio::time::Instant>,
) -> AppResult<Replay> {
    state.decisions.flush().await;
    let rows = store::plugins::recent_logins(&state.db, last.clamp(1, 1000)).await?;
    let found = rows.len();
    let stop = until.map(|u| u.checked_sub(REPLAY_ANSWER_TIME).unwrap_or(u));
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        let (id, row) = (row.id, row.decision);
        let context: LoginContext = serde_json::from_str(&row.context).map_err(AppError::internal)?;
        let recorded = if row.mode == PluginMode::Active {
            let v: Verdict = serde_json::from_str(&row.applied).map_err(AppError::internal)?;
            effect(context.static_policy, Some(&v))
        } else {
            effect(context.static_policy, None)
        };
        let static_policy = context.static_policy;
        let username = context.user.username.clone();
        let evaluation = match stop {
            Some(at) => match tokio::time::timeout_at(at, test(state, admin, plugin, context)).await {
                Ok(e) => e,
                Err(_) => break,
            },
            None => test(state, admin, plugin, context).await,
        };
        let candidate = effect(static_policy, Some(&selector::verdict(&evaluation, OnError::FailSecure)));
        let differs = candidate != recorded;
        results.push(ReplayedLogin {
            decision_id: id,
            at: row.at,
            user_id: row.user_id,
            username,
            app_id: row.app_id,
            recorded,
            candidate,
            evaluation,
            differs,
        });
    }
    Ok(Replay {
        logins: results.len(),
        found,
        complete: results.len() == found,
        differences: results.iter().filter(|r| r.differs).count(),
        failures: results.iter().filter(|r| r.evaluation.outcome.is_err()).count(),
        results,
    })
}
