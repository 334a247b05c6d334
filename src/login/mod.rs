//! The login spine (DESIGN §1): an authorization request, the SSO session check, the first
//! factor, the MFA step and the one function that finishes a sign-in for an application.
//! Nothing here issues a session, code or token unless the MFA step said the login is
//! satisfied: `proceed` asks it every time, and the MFA transaction is the only way from a
//! first factor to a session when a second factor is needed.

pub mod mfa;
pub mod password;
pub mod request;

use crate::audit::{self, Origin, event};
use crate::crypto::{self, Secret};
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::assurance::{self, Assurance};
use crate::mfa::limits;
use crate::mfa::policy::{self, Decision, Factor, Verdict, join_factors};
use crate::mfa::step::{self, LoginCtx, PluginRun};
use crate::oidc::authorize;
use crate::state::AppState;
use crate::store::mfa_transactions::{MfaTransaction, TxnStage};
use crate::store::{self, sessions::Session, users::User};
use request::{Answer, LoginRequest, Refused};

/// Only touch `last_seen_at` this often, so that reads do not turn into writes.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// How long a user has to pass the second factor (or enrol) after the password.
const MFA_TRANSACTION_SECONDS: i64 = 600;

/// What the browser or API client brought along.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub origin: Origin,
    /// The `idp_device` cookie.
    pub device_token: Option<Secret>,
    /// The current session cookie (replaced on sign-in: no session fixation).
    pub session_token: Option<Secret>,
    /// The `User-Agent` header (cut to a sane length), for plugins' device signals.
    pub user_agent: Option<String>,
}

/// The live SSO session behind a cookie value, if any, with its user (active users only).
pub async fn current_session(state: &AppState, cookie_token: Option<&str>) -> AppResult<Option<(Session, User)>> {
    let Some(token) = cookie_token else { return Ok(None) };
    let now = state.now();
    let idle = state.config.session.idle_timeout_minutes * 60;
    let Some(session) = store::sessions::find_live(&state.db, &crypto::token_hash(token), now, idle).await? else {
        return Ok(None);
    };
    let Some(user) = store::users::find_by_id(&state.db, &session.user_id).await?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_INTERVAL_SECONDS {
        store::sessions::touch(&state.db, &session.id, now).await?;
    }
    // The request's log lines say whose it was (the edge opened the field).
    tracing::Span::current().record("user_id", user.id.as_str());
    Ok(Some((session, user)))
}

/// Where a login goes next.
#[derive(Debug)]
pub enum Next {
    /// Signed in. `new_session_token` is set when a new session was created (set the cookie);
    /// `redirect` is the client's redirect URI with a code or an error, if a request waited.
    Done { session: Session, user: Box<User>, new_session_token: Option<Secret>, redirect: Option<String> },
    /// A second factor (or an enrolment) is needed: the MFA transaction's token and stage.
    Mfa(MfaPending),
    /// The login is refused. With a waiting request, `redirect` carries `access_denied` (or
    /// `interaction_required`) back to the client.
    Denied { redirect: Option<String>, reason: String },
    /// The authorization request expired or was used meanwhile.
    RequestExpired,
}

#[derive(Debug, Clone)]
pub struct MfaPending {
    pub token: Secret,
    pub stage: Stage,
    pub challenge: Vec<Factor>,
    pub enroll: Vec<Factor>,
    pub can_postpone: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Challenge,
    Enroll,
}

pub enum AuthorizeNext {
    /// Back to the client, with a code or an error.
    Redirect(String),
    /// The user must sign in first; the request waits under this id.
    Login { request_id: String },
    /// The session's user must pass the MFA step first.
    Mfa(MfaPending),
    /// The stored request expired or was used meanwhile.
    Expired,
}

/// A validated request of either protocol (`stored` when it is already in the database): the
/// SSO session answers it when it can, otherwise the user signs in first. With `prompt=none`
/// (SAML `IsPassive`) and no usable session, the client is told so.
pub async fn begin(state: &AppState, req: LoginRequest, stored: bool, client: &Client) -> AppResult<AuthorizeNext> {
    let now = state.now();
    let passive = req.wants.passive;
    if let Some((session, user)) = current_session(state, client.session_token.as_deref()).await?
        && req.wants.session_is_fresh_enough(session.auth_time, now)
        && req.wants.hint_matches(&user.username, user.email.as_deref())
    {
        let subject = Subject::Session { session: &session, user: &user };
        return match proceed(state, subject, Some(Waiting { req: &req, stored }), client, !passive).await? {
            Next::Done { redirect: Some(url), .. } | Next::Denied { redirect: Some(url), .. } => {
                Ok(AuthorizeNext::Redirect(url))
            }
            Next::Mfa(p) => Ok(AuthorizeNext::Mfa(p)),
            Next::RequestExpired => Ok(AuthorizeNext::Expired),
            Next::Done { redirect: None, .. } | Next::Denied { redirect: None, .. } => {
                Err(AppError::internal("a validated request lost its redirect"))
            }
        };
    }
    if passive {
        if stored && store::sessions::take_auth_request(&state.db, &req.id, now).await?.is_none() {
            return Ok(AuthorizeNext::Expired);
        }
        let url = refusal_url(state, &req, Refused::LoginRequired, "the user must sign in").await?;
        return Ok(AuthorizeNext::Redirect(url));
    }
    if !stored {
        store::sessions::create_auth_request(&state.db, &req).await?;
    }
    Ok(AuthorizeNext::Login { request_id: req.id })
}

/// Writes a right password's settlement on its own, where the login does not lead to a new
/// session's commit that would carry it.
async fn settle(state: &AppState, success: Option<limits::Success>) -> AppResult<()> {
    match success {
        Some(s) => s.settle(state).await,
        None => Ok(()),
    }
}

/// Where a refused request's answer goes: back through the protocol that asked (the OIDC
/// error redirect, or the SAML status response's hand-over page).
async fn refusal_url(state: &AppState, req: &LoginRequest, refused: Refused, reason: &str) -> AppResult<String> {
    match &req.answer {
        Answer::Oidc(a) => Ok(authorize::refusal_url(state.issuer(), a, refused, reason)),
        Answer::Saml(a) => crate::saml::sso::refuse_login(state, &req.app_id, a, refused, reason).await,
    }
}

/// Checks a username and password, then runs the MFA step for the waiting request (if any).
/// An unknown user costs the same Argon2 work as a wrong password (DESIGN §5); disabled users
/// fail the same way. Failures count against the account name and the client address.
/// Returns `None` for wrong credentials.
pub async fn password_login(
    state: &AppState,
    username: &str,
    password: &str,
    request_id: Option<&str>,
    client: &Client,
) -> AppResult<Option<Next>> {
    let l = &state.config.limits;
    let mut budgets =
        vec![limits::Budget::account(limits::password_account_key(username), l.password_failures_per_account)];
    if let Some(key) = limits::password_ip_key(&client.origin) {
        budgets.push(limits::Budget::shared(key, l.password_failures_per_ip));
    }
    let attempt = limits::reserve(state, budgets).await?;
    let user = match verify_password(state, username, password, &client.origin).await {
        Ok(Ok(user)) => user,
        Ok(Err(known)) => {
            audit::record(state, event::LOGIN_FAILURE, known.as_deref(), None, &client.origin, Some("password"))
                .await?;
            attempt.failed(state, known.as_deref(), &client.origin).await?;
            return Ok(None);
        }
        // Shed before the password was checked (hashing pool full): the attempt is given
        // back. Any other error leaves it counted.
        Err(e @ AppError::Overloaded { .. }) => {
            attempt.not_evaluated(state).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    // Settled with the sign-in this leads to, in its commit, or on its own where it leads
    // elsewhere (see `proceed_inner`). A sign-in that fails in between leaves the attempt
    // counted, as any attempt whose request died does.
    let success = attempt.success();
    let req = match request_id {
        Some(id) => match store::sessions::find_auth_request(&state.db, id, state.now()).await? {
            Some(r) => Some(r),
            None => {
                success.settle(state).await?;
                return Ok(Some(Next::RequestExpired));
            }
        },
        None => None,
    };
    let subject = Subject::FirstFactor { user: &user, auth_time: state.now() };
    let waiting = req.as_ref().map(|req| Waiting { req, stored: true });
    Ok(Some(proceed_inner(state, subject, waiting, client, true, false, PluginRun::Evaluate, Some(success)).await?))
}

/// Checks the password of a known user (before a recovery session, a password change), counted
/// against the same failure budgets as a sign-in. False for a wrong password, and for an
/// account without one.
pub async fn confirm_password(state: &AppState, user: &User, password: &str, client: &Client) -> AppResult<bool> {
    let l = &state.config.limits;
    let mut budgets =
        vec![limits::Budget::account(limits::password_account_key(&user.username), l.password_failures_per_account)];
    if let Some(key) = limits::password_ip_key(&client.origin) {
        budgets.push(limits::Budget::shared(key, l.password_failures_per_ip));
    }
    let attempt = limits::reserve(state, budgets).await?;
    let ok = if password.len() > 1024 {
        state.hasher.verify(None, "", &client.origin).await.map(|_| false)
    } else {
        state.hasher.verify(user.password_hash.as_deref(), password, &client.origin).await
    };
    match ok {
        Ok(true) => {
            attempt.succeeded(state).await?;
            Ok(true)
        }
        Ok(false) => {
            audit::record(state, event::LOGIN_FAILURE, Some(&user.id), None, &client.origin, Some("password")).await?;
            attempt.failed(state, Some(&user.id), &client.origin).await?;
            Ok(false)
        }
        Err(e @ AppError::Overloaded { .. }) => {
            attempt.not_evaluated(state).await?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// The user for a right password; otherwise the id of the named user, if one exists (for the
/// audit log), found by the same lookup.
async fn verify_password(
    state: &AppState,
    username: &str,
    password: &str,
    from: &audit::Origin,
) -> AppResult<Result<User, Option<String>>> {
    if username.len() > 256 || password.len() > 1024 {
        // Still spend the work, so lengths do not change the timing.
        state.hasher.verify(None, "", from).await?;
        return Ok(Err(None));
    }
    let user = store::users::find_by_username(&state.db, username).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = state.hasher.verify(stored.as_deref(), password, from).await?;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        other => {
            tracing::info!(username, "sign-in failed");
            return Ok(Err(other.map(|u| u.id)));
        }
    };
    if let Some(old) = &stored
        && state.hasher.needs_rehash(old)
    {
        let new = state.hasher.hash(password, from).await?;
        store::users::upgrade_password_hash(&state.db, &user.id, old, &new).await?;
    }
    Ok(Ok(user))
}

/// Who is signing in: a user with an SSO session, or one who just passed the first factor.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    Session { session: &'a Session, user: &'a User },
    FirstFactor { user: &'a User, auth_time: i64 },
}

impl Subject<'_> {
    fn user(&self) -> &User {
        match self {
            Subject::Session { user, .. } | Subject::FirstFactor { user, .. } => user,
        }
    }
}

/// An authorization request waiting for this login; `stored` when it is in the database
/// (and so must be consumed there, once).
#[derive(Clone, Copy)]
pub struct Waiting<'a> {
    pub req: &'a LoginRequest,
    pub stored: bool,
}

/// The MFA step for one login, and what follows from its decision. `interactive` is false
/// for `prompt=none`, where a needed challenge becomes `interaction_required`.
pub async fn proceed(
    state: &AppState,
    subject: Subject<'_>,
    waiting: Option<Waiting<'_>>,
    client: &Client,
    interactive: bool,
) -> AppResult<Next> {
    proceed_inner(state, subject, waiting, client, interactive, false, PluginRun::Evaluate, None).await
}

/// `success`: the right password of a first factor, settled in the new session's commit when
/// the login is satisfied, and on its own before anything else it leads to.
#[allow(clippy::too_many_arguments)]
async fn proceed_inner(
    state: &AppState,
    subject: Subject<'_>,
    waiting: Option<Waiting<'_>>,
    client: &Client,
    interactive: bool,
    postponed: bool,
    plugin: PluginRun<'_>,
    success: Option<limits::Success>,
) -> AppResult<Next> {
    let user = subject.user();
    let app_id = waiting.map(|w| w.req.app_id.clone());
    let req = waiting.map(|w| w.req);
    let session = match subject {
        Subject::Session { session, .. } => Some(session),
        Subject::FirstFactor { .. } => None,
    };
    let ctx = LoginCtx {
        user,
        app_id: app_id.as_deref(),
        step_up: req.map(|r| r.wants.assurance).unwrap_or_default(),
        freshness_demanded: req.is_some_and(|r| r.wants.fresh_first_factor()),
        session,
        device_token: client.device_token.as_deref(),
        request: req,
        origin: &client.origin,
        user_agent: client.user_agent.as_deref(),
        plugin,
    };
    let outcome = step::decide(state, &ctx).await?;
    // The verdict this login carries into its MFA transaction, so the plugin runs once.
    let carried: Option<Option<Verdict>> = match plugin {
        PluginRun::Evaluate => outcome.evaluated.clone(),
        PluginRun::Reuse(v) => Some(v.cloned()),
        PluginRun::Skip => None,
    };
    let factor = match outcome.decision {
        Decision::Satisfied { factor, .. } => factor,
        Decision::Required(r) if postponed && r.can_postpone && !r.enroll.is_empty() => r.counted,
        Decision::Required(r) => {
            settle(state, success).await?;
            if !interactive {
                return deny(
                    state,
                    waiting,
                    user,
                    app_id.as_deref(),
                    client,
                    Refused::InteractionRequired,
                    "a second factor is needed",
                )
                .await;
            }
            let plan = Plan { requirement: r, grace_days: outcome.settings.mfa_enrollment_grace_period, carried };
            return start_mfa(state, subject, req, app_id, plan, client).await.map(Next::Mfa);
        }
        Decision::Denied { reason } => {
            settle(state, success).await?;
            return deny(state, waiting, user, app_id.as_deref(), client, Refused::AccessDenied, &reason).await;
        }
    };
    // Satisfied: a session exists (or is created now) and the code is issued.
    let (session, new_token, redirect) = match subject {
        Subject::Session { session, .. } => {
            settle(state, success).await?;
            (session.clone(), None, None)
        }
        Subject::FirstFactor { user, auth_time } => {
            // A waiting OIDC request is answered in the new session's own commit.
            let answering = waiting.and_then(|w| match &w.req.answer {
                Answer::Oidc(a) if w.stored => Some(Answering { request_id: &w.req.id, answer: a, factor }),
                _ => None,
            });
            let settlement = success.as_ref().map(limits::Success::settlement);
            let Some(s) =
                new_session(state, user, auth_time, None, app_id.as_deref(), client, answering, settlement).await?
            else {
                return Ok(Next::RequestExpired);
            };
            (s.session, Some(s.token), s.redirect)
        }
    };
    let redirect = match (redirect, waiting) {
        (Some(url), _) => Some(url),
        (None, Some(w)) => match issue(state, w, &session, user, factor).await? {
            Some(url) => Some(url),
            None => return Ok(Next::RequestExpired),
        },
        (None, None) => None,
    };
    Ok(Next::Done { session, user: Box::new(user.clone()), new_session_token: new_token, redirect })
}

/// Issues the code (OIDC) or the assertion (SAML) for a satisfied login. A stored request is
/// consumed here, once. (A new session answers an OIDC request in its own commit instead:
/// `new_session`.)
async fn issue(
    state: &AppState,
    w: Waiting<'_>,
    session: &Session,
    user: &User,
    factor: Option<Factor>,
) -> AppResult<Option<String>> {
    if w.stored && store::sessions::take_auth_request(&state.db, &w.req.id, state.now()).await?.is_none() {
        return Ok(None);
    }
    let answered = match &w.req.answer {
        Answer::Oidc(a) => authorize::issue_code(state, a, session, factor).await?,
        Answer::Saml(a) => crate::saml::sso::respond(state, &w.req.app_id, a, session, user, factor).await?,
    };
    Ok(Some(answered))
}

async fn deny(
    state: &AppState,
    waiting: Option<Waiting<'_>>,
    user: &User,
    app_id: Option<&str>,
    client: &Client,
    refused: Refused,
    reason: &str,
) -> AppResult<Next> {
    audit::record(state, event::MFA_DENIED, Some(&user.id), app_id, &client.origin, Some(reason)).await?;
    let redirect = match waiting {
        Some(w) => {
            if w.stored && store::sessions::take_auth_request(&state.db, &w.req.id, state.now()).await?.is_none() {
                return Ok(Next::RequestExpired);
            }
            Some(refusal_url(state, w.req, refused, reason).await?)
        }
        None => None,
    };
    Ok(Next::Denied { redirect, reason: reason.to_owned() })
}

/// A waiting OIDC request that a new session answers: consumed, and its code issued, in the
/// session's commit.
#[derive(Clone, Copy)]
pub(crate) struct Answering<'a> {
    pub request_id: &'a str,
    pub answer: &'a crate::login::request::OidcAnswer,
    /// The second factor the code's `amr` and `acr` name.
    pub factor: Option<Factor>,
}

/// A new session, its cookie value and, when it answered a request, the redirect with the code.
pub(crate) struct SignedIn {
    pub session: Session,
    pub token: Secret,
    pub redirect: Option<String>,
}

/// A new SSO session (new cookie value) with its audit record (`app_id`: the app signed in
/// to): the browser's previous one ends, so a planted session id is never promoted (session
/// fixation, ASVS 3.2.1). With `answering`, the waiting request is consumed and its code
/// issued in the same commit; `None` when it was no longer waiting (then nothing was
/// written, the audit record included, and nothing is announced). `settle`, the first
/// factor's attempt budgets, is written in the same commit in either case.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn new_session(
    state: &AppState,
    user: &User,
    auth_time: i64,
    mfa_factor: Option<Factor>,
    app_id: Option<&str>,
    client: &Client,
    answering: Option<Answering<'_>>,
    settle: Option<store::audit::Settlement<'_>>,
) -> AppResult<Option<SignedIn>> {
    let now = state.now();
    let token = Secret::random();
    let id = store::sessions::new_id();
    let amr = assurance::methods(mfa_factor).join(" ");
    let previous = client.session_token.as_deref().map(crypto::token_hash);
    let sightings = crate::mfa::selector::sightings(client.origin.ip.as_deref(), client.user_agent.as_deref());
    let sightings: Vec<(&str, &str)> = sightings.iter().map(|(k, h)| (*k, h.as_str())).collect();
    let record = audit::Record::new(
        event::LOGIN_SUCCESS,
        Some(&user.id),
        app_id,
        &client.origin,
        mfa_factor.map(Factor::as_str),
    );
    let code = answering.map(|a| authorize::new_code(state, a.answer, &id, &user.id, auth_time, a.factor));
    let sign_in = store::sessions::SignIn {
        id: &id,
        previous: previous.as_deref(),
        session: store::sessions::NewSession {
            token_hash: &crypto::token_hash(&token),
            user_id: &user.id,
            expires_at: now + state.config.session.absolute_timeout_minutes * 60,
            auth_time,
            amr: &amr,
            acr: Assurance::achieved(mfa_factor).as_str(),
            mfa_factor: mfa_factor.map(Factor::as_str),
            ip: client.origin.ip.as_deref(),
            // Kept for the account page's device name; bounded, a header can be long.
            user_agent: client.user_agent.as_deref().map(|ua| crate::web::device::prefix(ua, 512)),
        },
        sightings: &sightings,
        audit: record.row(),
        request: answering.map(|a| a.request_id),
        code: code.as_ref().map(|c| (&c.grant, c.row())),
        settle,
    };
    let Some(session) = store::sessions::sign_in(&state.db, &sign_in, now).await? else { return Ok(None) };
    record.log();
    record.announce(state).await;
    tracing::info!(user_id = %user.id, session = %session.id, "signed in");
    let redirect = answering.zip(code).map(|(a, c)| authorize::code_redirect(state, a.answer, &c.code));
    Ok(Some(SignedIn { session, token, redirect }))
}

/// Which of their own sessions a user ends from the account page.
#[derive(Debug, Clone, Copy)]
pub enum EndSessions<'a> {
    /// One other session, by its id.
    One(&'a str),
    /// Every session but the one in use.
    Others,
}

/// Ends sessions of `user` other than `current`, with the grants made in them (their refresh
/// tokens stop working). Another user's session id finds nothing. Returns how many ended.
pub async fn end_own_sessions(
    state: &AppState,
    user: &User,
    current: &Session,
    which: EndSessions<'_>,
    origin: &Origin,
) -> AppResult<u64> {
    let now = state.now();
    let targets: Vec<String> = match which {
        EndSessions::One(id) if id == current.id => {
            return Err(AppError::BadRequest(Msg::key("refuse-own-session")));
        }
        EndSessions::One(id) => vec![id.to_owned()],
        EndSessions::Others => store::sessions::list_for_user(&state.db, &user.id, now)
            .await?
            .into_iter()
            .map(|s| s.id)
            .filter(|id| *id != current.id)
            .collect(),
    };
    let mut ended = 0;
    for id in &targets {
        if store::sessions::delete_of_user(&state.db, &user.id, id).await? {
            store::grants::revoke_for_session(&state.db, id, now).await?;
            ended += 1;
        } else if matches!(which, EndSessions::One(_)) {
            return Err(AppError::NotFound);
        }
    }
    let detail = serde_json::json!({"by": "user", "ended": ended, "kept": current.id}).to_string();
    audit::record(state, event::USER_SESSIONS_ENDED, Some(&user.id), None, origin, Some(&detail)).await?;
    Ok(ended)
}

/// What the MFA step asked for, and the plugin verdict behind it.
struct Plan {
    requirement: policy::Requirement,
    grace_days: i64,
    carried: Option<Option<Verdict>>,
}

async fn start_mfa(
    state: &AppState,
    subject: Subject<'_>,
    req: Option<&LoginRequest>,
    app_id: Option<String>,
    plan: Plan,
    client: &Client,
) -> AppResult<MfaPending> {
    let Plan { requirement: r, grace_days, carried } = plan;
    let user = subject.user();
    let now = state.now();
    if r.can_postpone && user.mfa_enroll_deadline.is_none() {
        store::users::start_enroll_grace(&state.db, &user.id, now + grace_days * 86_400).await?;
    }
    let (session_id, auth_time) = match subject {
        Subject::Session { session, .. } => (Some(session.id.clone()), session.auth_time),
        Subject::FirstFactor { auth_time, .. } => (None, auth_time),
    };
    let stage = if r.challenge.is_empty() { Stage::Enroll } else { Stage::Challenge };
    let token = Secret::random();
    let txn = MfaTransaction {
        token_hash: crypto::token_hash(&token),
        user_id: user.id.clone(),
        session_id,
        auth_time,
        request_id: req.map(|r| r.id.clone()),
        app_id: app_id.clone(),
        stage: match stage {
            Stage::Challenge => TxnStage::Challenge,
            Stage::Enroll => TxnStage::Enroll,
        },
        challenge: join_factors(&r.challenge),
        enroll: join_factors(&r.enroll),
        can_postpone: r.can_postpone,
        allow_trust: r.allow_trust,
        verified_factor: None,
        plugin: store::mfa_transactions::VerdictColumns::of(carried.as_ref()),
        recovery: None,
        created_at: now,
        expires_at: now + MFA_TRANSACTION_SECONDS,
    };
    // The request (stored now if it has not waited yet: an SSO session at /authorize), the
    // verdict it carries, the transaction and the audit record: one commit.
    let detail = format!("challenge={} enroll={}", txn.challenge, txn.enroll);
    let record =
        audit::Record::new(event::MFA_CHALLENGE, Some(&user.id), app_id.as_deref(), &client.origin, Some(&detail));
    let start = store::mfa_transactions::Start { txn: &txn, request: req, audit: &record.row(), now };
    store::mfa_transactions::start(&state.db, &start).await?;
    record.log();
    record.announce(state).await;
    Ok(MfaPending { token, stage, challenge: r.challenge, enroll: r.enroll, can_postpone: r.can_postpone })
}

/// How long a recovery session lasts (DESIGN §2: at most an hour).
pub const RECOVERY_SESSION_SECONDS: i64 = 3600;

/// What a recovery session starts from: the user (whose first factor and recovery link were
/// just checked), the factors they may set up, what becomes of the old ones, and the sign-in
/// it continues, if it is still waiting.
pub(crate) struct RecoveryStart<'a> {
    pub user: &'a User,
    pub enroll: Vec<Factor>,
    pub recovery: store::mfa_transactions::Recovery,
    pub request: Option<&'a LoginRequest>,
    /// The audit record of the opening (one commit with the transaction).
    pub audit: &'a audit::Record<'a>,
}

/// Starts a recovery session: an MFA transaction that can only enrol a new factor. It is no
/// session: nothing else is reachable with it, and its end (the new factor proved) is the
/// only way it becomes one.
pub(crate) async fn start_recovery(state: &AppState, r: RecoveryStart<'_>) -> AppResult<MfaPending> {
    let now = state.now();
    let token = Secret::random();
    let txn = MfaTransaction {
        token_hash: crypto::token_hash(&token),
        user_id: r.user.id.clone(),
        session_id: None,
        auth_time: now,
        request_id: r.request.map(|q| q.id.clone()),
        app_id: r.request.map(|q| q.app_id.clone()),
        stage: TxnStage::Enroll,
        challenge: String::new(),
        enroll: join_factors(&r.enroll),
        can_postpone: false,
        allow_trust: false,
        verified_factor: None,
        plugin: store::mfa_transactions::VerdictColumns::default(),
        recovery: Some(r.recovery),
        created_at: now,
        expires_at: now + RECOVERY_SESSION_SECONDS,
    };
    let start = store::mfa_transactions::Start { txn: &txn, request: None, audit: &r.audit.row(), now };
    store::mfa_transactions::start(&state.db, &start).await?;
    r.audit.log();
    r.audit.announce(state).await;
    Ok(MfaPending { token, stage: Stage::Enroll, challenge: vec![], enroll: r.enroll, can_postpone: false })
}

/// The waiting request behind the login page, for showing which app asked.
pub async fn pending_request(state: &AppState, request_id: &str) -> AppResult<Option<(LoginRequest, String)>> {
    let Some((req, name)) =
        store::sessions::find_auth_request_with_app_name(&state.db, request_id, state.now()).await?
    else {
        return Ok(None);
    };
    Ok(Some((req, name.ok_or(AppError::NotFound)?)))
}

/// Continues a waiting request with an existing session (after the MFA step or the
/// trust-device prompt). The MFA step decides again: nothing is carried over but the session,
/// `postponed` (the user's "set up later" inside the enrolment grace period) and the plugin
/// verdict this login already got in its MFA transaction (`carried`: `None` when none was
/// evaluated, then the plugins run now), so that a login runs its plugins once. The caller
/// vouches that `carried` is this user's (it comes from their own MFA transaction).
pub async fn continue_request(
    state: &AppState,
    session: &Session,
    user: &User,
    request_id: Option<&str>,
    client: &Client,
    postponed: bool,
    carried: Option<&Option<Verdict>>,
) -> AppResult<Next> {
    let req = match request_id {
        Some(id) => match store::sessions::find_auth_request(&state.db, id, state.now()).await? {
            Some(r) => Some(r),
            None => return Ok(Next::RequestExpired),
        },
        None => None,
    };
    let plugin = match carried {
        Some(v) => PluginRun::Reuse(v.as_ref()),
        None => PluginRun::Evaluate,
    };
    let waiting = req.as_ref().map(|req| Waiting { req, stored: true });
    proceed_inner(state, Subject::Session { session, user }, waiting, client, true, postponed, plugin, None).await
}

/// Ends an SSO session everywhere: the row goes (every node reads it) and the tokens bound
/// to it are revoked, except offline ones.
pub async fn end_session(state: &AppState, session_id: &str) -> AppResult<()> {
    let now = state.now();
    store::grants::revoke_for_session(&state.db, session_id, now).await?;
    store::sessions::delete(&state.db, session_id).await?;
    tracing::info!(session = %session_id, "signed out");
    Ok(())
}

/// Whether a step-up was asked for, for pages that explain why a second factor is needed.
pub fn is_step_up(req: &LoginRequest) -> bool {
    req.wants.assurance > Assurance::Password
}

/// Starts a fresh second-factor verification for an existing session ("sudo mode" before
/// changing factors). Completing it records the factor in the session.
pub async fn step_up_session(
    state: &AppState,
    session: &Session,
    user: &User,
    client: &Client,
) -> AppResult<MfaPending> {
    let challenge = store::factors::enrolled(&state.db, &user.id).await?.list();
    if challenge.is_empty() {
        return Err(AppError::BadRequest(Msg::key("refuse-no-factor-enrolled")));
    }
    let requirement =
        policy::Requirement { challenge, enroll: vec![], can_postpone: false, allow_trust: false, counted: None };
    let plan = Plan { requirement, grace_days: 0, carried: None };
    start_mfa(state, Subject::Session { session, user }, None, None, plan, client).await
}
