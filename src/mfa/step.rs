//! Gathers what one login's decision depends on and resolves it (`policy::decide`). Every
//! protocol front (OIDC, the JSON API, SAML) asks here; nothing else decides.

use super::assurance::Assurance;
use super::policy::{self, Decision, Factor, Inputs, Settings, Verdict};
use crate::audit::Origin;
use crate::error::AppResult;
use crate::login::request::LoginRequest;
use crate::state::AppState;
use crate::store;
use crate::store::sessions::Session;
use crate::store::users::User;

/// Whether this call runs the selector plugin. A login runs it once: a login that waits for
/// its second factor keeps the verdict (in the MFA transaction and the stored request) and
/// reuses it when it continues.
#[derive(Clone, Copy, Debug)]
pub enum PluginRun<'a> {
    Evaluate,
    Reuse(Option<&'a Verdict>),
    /// Not a login (e.g. checking an admin session against the global policy).
    Skip,
}

/// One login as the MFA step sees it.
pub struct LoginCtx<'a> {
    pub user: &'a User,
    pub app_id: Option<&'a str>,
    pub step_up: Assurance,
    /// `max_age`, `prompt=login` or `ForceAuthn`: never satisfied by device trust alone.
    pub freshness_demanded: bool,
    /// The SSO session, when the login continues one.
    pub session: Option<&'a Session>,
    /// The `idp_device` cookie, if the browser sent one.
    pub device_token: Option<&'a str>,
    /// The authorization request, when an app asked.
    pub request: Option<&'a LoginRequest>,
    pub origin: &'a Origin,
    pub user_agent: Option<&'a str>,
    pub plugin: PluginRun<'a>,
}

pub struct Outcome {
    pub decision: Decision,
    pub settings: Settings,
    /// The plugin's verdict when one was evaluated now (`Some(None)`: plugins ran, none
    /// enforced); `None` when nothing was evaluated.
    pub evaluated: Option<Option<Verdict>>,
}

pub async fn decide(state: &AppState, ctx: &LoginCtx<'_>) -> AppResult<Outcome> {
    let db = &state.db;
    let facts = store::settings::login_facts(db, ctx.app_id, &ctx.user.id).await?;
    let mut settings = facts.settings;
    // Only what can work here may be set up: no passkeys without a relying party (the issuer
    // is an IP address), no codes over a channel without a transport.
    settings.mfa_allowed_factors = super::manage::usable_factors(state, &settings);
    let app = facts.app;
    let app_policy = app.as_ref().map(|a| a.policy.clone()).unwrap_or_default();
    let groups = facts.groups;
    let group_minimum = groups.iter().filter_map(|g| g.1).max();
    // Plugins assigned to this login (read only when there are any); then the factors are
    // read again with the details their context reports.
    let running = match ctx.plugin {
        PluginRun::Evaluate if facts.plugins_assigned => store::plugins::running(db, ctx.app_id).await?,
        _ => vec![],
    };
    let evaluate = !running.is_empty();
    let (mut enrolled, factors) = if evaluate {
        let details = store::factors::details(db, &ctx.user.id).await?;
        (store::factors::enrolled_from(&details), details)
    } else {
        (facts.enrolled, vec![])
    };
    // A code that cannot be sent cannot be a challenge (the transport was turned off since).
    enrolled.sms &= state.delivery.is_available(crate::delivery::Channel::Sms);
    enrolled.email &= state.delivery.is_available(crate::delivery::Channel::Email);
    let session_mfa = ctx.session.and_then(|s| Some((Factor::parse(s.mfa_factor.as_deref()?)?, s.mfa_at?)));
    // The cookie is checked once: for the policy when trust may skip the step, and for the
    // plugin's context, which reports it whatever the policy makes of it.
    let trust_applies = settings.trusted_device_duration_days > 0 && app_policy.allow_trusted_devices;
    let cookie_trusted =
        (trust_applies || evaluate) && super::devices::is_trusted(state, &ctx.user.id, ctx.device_token).await?;
    let device_trusted = trust_applies && cookie_trusted;
    let mut inputs = Inputs {
        settings: &settings,
        app: &app_policy,
        group_minimum,
        step_up: ctx.step_up,
        freshness_demanded: ctx.freshness_demanded,
        enrolled,
        session_mfa,
        device_trusted,
        enroll_deadline: ctx.user.mfa_enroll_deadline,
        now: state.now(),
        plugin: None,
    };
    // Selector plugins (DESIGN §2 step 3): the plugin sees the static policy and may only
    // tighten it (floor rule, applied in `policy::decide`) or deny.
    let (verdict, evaluated) = match ctx.plugin {
        PluginRun::Evaluate if evaluate => {
            if ctx.app_id.is_some() && app.is_none() {
                return Err(crate::error::AppError::NotFound);
            }
            let known = super::selector::Known {
                static_policy: policy::static_policy(&inputs),
                app: app.as_ref(),
                groups: groups.into_iter().map(|g| g.0).collect(),
                factors,
                device_trusted: cookie_trusted,
            };
            let v = super::selector::run(state, ctx, running, known).await?;
            (v.clone(), Some(v))
        }
        PluginRun::Evaluate => (None, Some(None)),
        PluginRun::Reuse(v) => (v.cloned(), None),
        PluginRun::Skip => (None, None),
    };
    inputs.plugin = verdict.as_ref();
    let decision = policy::decide(&inputs);
    Ok(Outcome { decision, settings, evaluated })
}
