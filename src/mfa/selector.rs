//! Selector plugins in the MFA step (DESIGN §2 step 3): build the login context (with the
//! risk signals Portcullis computes), run the app's active plugin (else the global one) once,
//! turn its decision or failure into a `Verdict` under the plugin's `on_error`, and record
//! the run in the decision log. Shadow plugins run beside it, off the login's path, and are
//! recorded without being enforced.

use std::sync::Arc;

use super::policy::{Factor, Policy, Verdict};
use super::step::LoginCtx;
use crate::audit::{self, Origin};
use crate::error::AppResult;
use crate::plugin_host::context::{self as pc, LoginContext};
use crate::plugin_host::{Evaluation, FailureKind, Limits, Prepared, WorldVersion};
use crate::state::AppState;
use crate::store;
use crate::store::plugins::Running;

/// An address or browser not seen for this user for this long counts as new again.
const SIGHTING_MEMORY_SECONDS: i64 = 90 * 86_400;
/// "Recent" failed attempts and password changes.
const RECENT_FAILURES_SECONDS: i64 = 3_600;
const RECENT_PASSWORD_SECONDS: i64 = 86_400;

/// Where an assigned plugin stands in its scope: its verdict enforced (one per scope),
/// evaluated and recorded only (one per scope), or kept assigned without running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PluginMode {
    Active,
    Shadow,
    Disabled,
}

impl PluginMode {
    pub fn parse(s: &str) -> Option<PluginMode> {
        match s {
            "active" => Some(PluginMode::Active),
            "shadow" => Some(PluginMode::Shadow),
            "disabled" => Some(PluginMode::Disabled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PluginMode::Active => "active",
            PluginMode::Shadow => "shadow",
            PluginMode::Disabled => "disabled",
        }
    }
}

crate::text_enum!(PluginMode);
crate::text_enum!(OnError);

/// What to do when a plugin fails (DESIGN §2 step 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// At least `any`: the login needs a second factor.
    FailSecure,
    /// The static policy alone.
    FailOpen,
}

impl OnError {
    pub fn parse(s: &str) -> Option<OnError> {
        match s {
            "fail_secure" => Some(OnError::FailSecure),
            "fail_open" => Some(OnError::FailOpen),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OnError::FailSecure => "fail_secure",
            OnError::FailOpen => "fail_open",
        }
    }
}

/// The verdict an evaluation leads to. A failure never weakens the static policy: under
/// `fail_secure` it raises it to `any`, under `fail_open` it leaves it as it is.
pub fn verdict(e: &Evaluation, on_error: OnError) -> Verdict {
    match &e.outcome {
        Ok(d) => Verdict {
            policy: Some(d.policy),
            allowed_factors: d.allowed_factors.clone(),
            reauth_interval_minutes: d.reauth_interval_minutes,
            allow_trusted_device: d.allow_trusted_device,
            deny: d.deny.clone(),
        },
        // A capacity failure is the server's, not the plugin's: a flood must never be a way
        // around what the plugin would have asked, so it fails secure whatever `on_error` says.
        Err(f) if f.kind == crate::plugin_host::FailureKind::Busy => {
            Verdict { policy: Some(Policy::Any), ..Verdict::default() }
        }
        Err(_) => match on_error {
            OnError::FailSecure => Verdict { policy: Some(Policy::Any), ..Verdict::default() },
            OnError::FailOpen => Verdict::default(),
        },
    }
}

pub fn limits_of(r: &Running) -> Limits {
    Limits { fuel: r.fuel as u64, memory_bytes: r.memory_bytes as u64, timeout_ms: r.timeout_ms as u64 }
}

/// The compiled plugin for a login: from memory, or from this node's disk cache (a read, not a
/// compile). Otherwise a login never waits: the plugin is compiled in the background (once,
/// however many logins ask) and this login goes by the plugin's `on_error`, audited as
/// `unavailable`.
pub async fn prepared_for_login(state: &AppState, r: &Running) -> Result<Arc<Prepared>, Evaluation> {
    if let Some(p) = state.plugins.loaded(&r.sha256) {
        return Ok(p);
    }
    let unavailable = |m: String| Evaluation::failed(FailureKind::Unavailable, m);
    let version = WorldVersion::parse(&r.world_version)
        .ok_or_else(|| unavailable(format!("unknown world version {}", r.world_version)))?;
    let host = state.plugins.clone();
    let sha = r.sha256.clone();
    if let Some(p) = tokio::task::spawn_blocking(move || host.cached(&sha, version)).await.ok().flatten() {
        return Ok(p);
    }
    warm(state, &r.plugin_id, &r.sha256, &r.world_version);
    Err(unavailable("the plugin is being compiled on this node; it runs from the next logins on".into()))
}

/// Compiles a plugin in the background unless it is ready or already being compiled.
pub fn warm(state: &AppState, plugin_id: &str, sha256: &str, world: &str) {
    if state.plugins.loaded(sha256).is_some() || !state.plugins.start_warming(sha256) {
        return;
    }
    let (state, id, sha, world) = (state.clone(), plugin_id.to_owned(), sha256.to_owned(), world.to_owned());
    tokio::spawn(async move {
        if let Err(e) = prepared(&state, &id, &sha, &world).await
            && let Err(f) = e.outcome
        {
            tracing::warn!(plugin_id = %id, error = %f.message, "compiling a plugin in the background failed");
        }
        state.plugins.done_warming(&sha);
    });
}

/// How old an unused cache file must be before it is removed: longer than any upload takes.
const CACHE_GRACE: std::time::Duration = std::time::Duration::from_secs(600);

/// Compiles, in the background, every assigned plugin this node does not have ready (at
/// start, and periodically, so assignments made on another node are picked up), and clears
/// the disk cache of artefacts no stored plugin uses.
pub async fn warm_assigned(state: &AppState) -> AppResult<()> {
    let assigned: std::collections::HashSet<String> =
        store::plugins::assignments(&state.db, None).await?.into_iter().map(|a| a.plugin_id).collect();
    let plugins = store::plugins::list(&state.db).await?;
    for p in plugins.iter().filter(|p| assigned.contains(&p.id)) {
        warm(state, &p.id, &p.sha256, &p.world_version);
    }
    let used = plugins.into_iter().map(|p| p.sha256).collect();
    let host = state.plugins.clone();
    tokio::task::spawn_blocking(move || host.sweep_cache(&used, CACHE_GRACE));
    Ok(())
}

/// The compiled plugin, from memory, the disk cache, or compiled from its stored bytes (for
/// admin actions, which may wait).
pub async fn prepared(
    state: &AppState,
    plugin_id: &str,
    sha256: &str,
    world: &str,
) -> Result<Arc<Prepared>, Evaluation> {
    let unavailable = |m: String| Evaluation::failed(FailureKind::Unavailable, m);
    let version = WorldVersion::parse(world).ok_or_else(|| unavailable(format!("unknown world version {world}")))?;
    // The common case, every login after the first: in memory, without a trip to the
    // blocking pool.
    if let Some(p) = state.plugins.loaded(sha256) {
        return Ok(p);
    }
    let host = state.plugins.clone();
    let sha = sha256.to_owned();
    let cached = tokio::task::spawn_blocking(move || host.cached(&sha, version))
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    if let Some(p) = cached {
        return Ok(p);
    }
    let bytes = store::plugins::wasm(&state.db, plugin_id)
        .await
        .map_err(|e| unavailable(e.to_string()))?
        .ok_or_else(|| unavailable("the plugin was deleted".into()))?;
    let host = state.plugins.clone();
    let sha = sha256.to_owned();
    tokio::task::spawn_blocking(move || host.compile(&sha, &bytes))
        .await
        .map_err(|e| unavailable(e.to_string()))?
        .map_err(unavailable)
}

/// What the MFA step already read for this login, passed on so the context does not read
/// it again.
pub struct Known<'a> {
    pub static_policy: Policy,
    /// The app, when an app asked.
    pub app: Option<&'a store::settings::LoginApp>,
    /// The user's group names.
    pub groups: Vec<String>,
    pub factors: Vec<store::factors::FactorDetail>,
    /// A valid trusted-device cookie of this user came with the request.
    pub device_trusted: bool,
}

/// Runs the plugins assigned to this login (`running`, from `store::plugins::running`) and
/// returns the active one's verdict.
pub async fn run(
    state: &AppState,
    ctx: &LoginCtx<'_>,
    running: Vec<Running>,
    known: Known<'_>,
) -> AppResult<Option<Verdict>> {
    if running.is_empty() {
        return Ok(None);
    }
    let in_scope = |r: &&Running, scope: &str, mode: PluginMode| r.scope == scope && r.mode == mode;
    let active = ctx
        .app_id
        .and_then(|app| running.iter().find(|r| in_scope(r, app, PluginMode::Active)))
        .or_else(|| running.iter().find(|r| in_scope(r, store::plugins::GLOBAL, PluginMode::Active)));
    let context = Arc::new(build_context(state, ctx, known).await?);
    let login_id = uuid::Uuid::new_v4().to_string();

    for shadow in running.iter().filter(|r| r.mode == PluginMode::Shadow).cloned() {
        let state = state.clone();
        let context = context.clone();
        let login_id = login_id.clone();
        tokio::spawn(async move {
            if let Err(e) = evaluate_and_record(&state, &shadow, context, login_id).await {
                tracing::warn!(plugin = %shadow.name, error = %e, "shadow plugin run was not recorded");
            }
        });
    }

    let Some(active) = active else { return Ok(None) };
    let (evaluation, verdict) = evaluate_and_record(state, active, context.clone(), login_id).await?;
    if let Err(f) = &evaluation.outcome {
        let detail = format!("{}@{} {}: {}", active.name, active.version, f.kind.as_str(), f.message);
        let origin = Origin { ip: context.request.ip.clone() };
        audit::record(state, audit::event::PLUGIN_FAILED, Some(&context.user.id), ctx.app_id, &origin, Some(&detail))
            .await?;
    }
    Ok(Some(verdict))
}

/// Evaluates one plugin and queues the run for the decision log.
async fn evaluate_and_record(
    state: &AppState,
    r: &Running,
    context: Arc<LoginContext>,
    login_id: String,
) -> AppResult<(Evaluation, Verdict)> {
    let lane = if r.mode == PluginMode::Shadow {
        crate::plugin_host::Lane::Shadow
    } else {
        crate::plugin_host::Lane::Active { scope: r.scope.clone(), user_id: context.user.id.clone() }
    };
    let evaluation = match prepared_for_login(state, r).await {
        Ok(p) => state.plugins.evaluate(p, limits_of(r), context.clone(), lane).await,
        Err(e) => e,
    };
    let outcome = match &evaluation.outcome {
        Ok(_) => "ok",
        Err(f) => f.kind.as_str(),
    };
    let seconds = evaluation.duration_us as f64 / 1e6;
    state.metrics.plugin_run(&r.name, r.mode.as_str(), outcome, seconds);
    let on_error = r.on_error;
    let verdict = verdict(&evaluation, on_error);
    let run = super::decision_log::Run {
        login_id,
        plugin_id: r.plugin_id.clone(),
        mode: r.mode,
        context,
        evaluation: evaluation.clone(),
        applied: verdict.clone(),
    };
    state.decisions.record(run).await?;
    Ok((evaluation, verdict))
}

/// Hash of an address or user agent, as kept in `user_sightings`.
fn sighting_hash(value: &str) -> String {
    crate::crypto::token_hash(value)
}

/// An address as kept in `user_sightings`: its block (an IPv6 address's /64, which a device
/// moves about in as its privacy addresses change, and which is all one subscriber's), hashed.
fn address_sighting(ip: &str) -> String {
    sighting_hash(&crate::audit::block_key(ip))
}

/// Where a user signs in from, as the sightings a new session records (`kind`, value hash):
/// the address and the User-Agent, hashed as the plugins' risk signals look them up.
pub fn sightings(ip: Option<&str>, agent: Option<&str>) -> Vec<(&'static str, String)> {
    let ip = ip.map(|ip| ("ip", address_sighting(ip)));
    let agent = agent.map(|agent| ("agent", sighting_hash(agent)));
    ip.into_iter().chain(agent).collect()
}

/// Remembers where a user signed in from, on its own (a sign-in records its sightings in its
/// own commit: `login::new_session`).
pub async fn record_sightings(state: &AppState, user_id: &str, ip: Option<&str>, agent: Option<&str>) -> AppResult<()> {
    store::plugins::record_sightings(&state.db, user_id, &sightings(ip, agent), state.now()).await
}

/// The login context for a plugin: the user, their factors, the app, the request, the
/// session, the device and the risk signals.
pub async fn build_context(state: &AppState, ctx: &LoginCtx<'_>, known: Known<'_>) -> AppResult<LoginContext> {
    let now = state.now();
    let user = ctx.user;
    let factors = known
        .factors
        .into_iter()
        .filter_map(|f| {
            let kind = Factor::parse(&f.kind)?;
            Some(pc::EnrolledFactor { kind, name: f.name, created_at: f.created_at, last_used_at: f.last_used_at })
        })
        .collect();
    let app = known.app.map(|a| {
        let mut metadata = vec![];
        if let Some((client_id, public)) = &a.client {
            metadata.push(pc::Attribute { name: "client_id".into(), value: client_id.clone() });
            metadata.push(pc::Attribute {
                name: "client_type".into(),
                value: if *public { "public" } else { "confidential" }.into(),
            });
        }
        pc::App {
            id: a.id.clone(),
            name: a.name.clone(),
            protocol: a.protocol.as_str().to_owned(),
            policy: a.policy.mfa_policy,
            metadata,
        }
    });
    let sent = ctx.request.map(|r| r.sent());
    let request = pc::Request {
        ip: ctx.origin.ip.clone(),
        user_agent: ctx.user_agent.map(str::to_owned),
        max_age: ctx.request.and_then(|r| r.wants.max_age),
        force_authn: ctx.freshness_demanded,
        acr_values: sent.as_ref().map(|s| s.acr_values.clone()).unwrap_or_default(),
        prompt: sent.as_ref().map(|s| s.prompt.clone()).unwrap_or_default(),
        scopes: sent.map(|s| s.scopes).unwrap_or_default(),
    };
    let session = ctx.session.map(|s| pc::Session {
        auth_time: s.auth_time,
        last_mfa_at: s.mfa_at,
        amr: s.amr.split_whitespace().map(str::to_owned).collect(),
    });
    let agent_hash = ctx.user_agent.map(sighting_hash);
    let ip_hash = ctx.origin.ip.as_deref().map(address_sighting);
    let seen = store::plugins::signals(
        &state.db,
        &user.id,
        agent_hash.as_deref(),
        ip_hash.as_deref(),
        now - RECENT_FAILURES_SECONDS,
    )
    .await?;
    // An address or browser not seen for this user for a while counts as new again.
    let recent = |last: Option<i64>| last.filter(|last| now - last < SIGHTING_MEMORY_SECONDS);
    let agent_last = recent(seen.agent_last_seen_at);
    let trusted = known.device_trusted;
    let device = pc::Device {
        trusted,
        known: trusted || agent_last.is_some(),
        first_seen_at: agent_last.and(seen.agent_first_seen_at),
        last_seen_at: agent_last,
    };
    let signals = pc::Signals {
        new_device: !device.known,
        new_ip: recent(seen.ip_last_seen_at).is_none(),
        recent_failed_attempts: seen.failures.clamp(0, u32::MAX as i64) as u32,
        password_changed_recently: user.password_changed_at.is_some_and(|at| now - at < RECENT_PASSWORD_SECONDS),
    };
    let mut attributes = vec![];
    if let Some(name) = &user.display_name {
        attributes.push(pc::Attribute { name: "display_name".into(), value: name.clone() });
    }
    Ok(LoginContext {
        now,
        user: pc::User {
            id: user.id.clone(),
            username: user.username.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            groups: known.groups,
            attributes,
            is_admin: user.is_admin,
            created_at: user.created_at,
            password_changed_at: user.password_changed_at,
        },
        factors,
        app,
        request,
        session,
        device,
        signals,
        static_policy: known.static_policy,
    })
}
