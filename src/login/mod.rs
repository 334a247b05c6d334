//! The login spine (DESIGN §1): an authorization request, the SSO session check, the first
//! factor, and the one function that finishes a sign-in for an application. Every path that
//! ends in a code goes through `finish`, which is where the MFA step plugs in.

use crate::crypto;
use crate::error::{AppError, AppResult, OAuthErrorCode};
use crate::oidc::authorize::{self, Authentication, AuthorizeError, ErrorRedirect};
use crate::oidc::{Params, acr, has_word};
use crate::state::AppState;
use crate::store::{self, sessions::AuthRequest, sessions::Session, users::User};

/// Only touch `last_seen_at` this often, so that reads do not turn into writes.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

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
    Ok(Some((session, user)))
}

pub enum AuthorizeNext {
    /// Back to the client, with a code or an error.
    Redirect(String),
    /// The user must sign in first; the request waits under this id.
    Login { request_id: String },
}

/// The authorization endpoint's flow after parameter parsing.
pub async fn authorize(
    state: &AppState,
    params: Params,
    cookie_token: Option<&str>,
) -> Result<AuthorizeNext, AuthorizeError> {
    let (req, _client) = authorize::validate(state, params).await?;
    let now = state.now();
    if let Some((session, user)) = current_session(state, cookie_token).await?
        && authorize::session_is_fresh_enough(&req, session.auth_time, now)
        && login_hint_matches(&req, &user)
    {
        return Ok(AuthorizeNext::Redirect(finish(state, &req, &session).await?));
    }
    if req.prompt.as_deref().is_some_and(|p| has_word(p, "none")) {
        return Err(AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: req.redirect_uri,
            state: req.state,
            code: OAuthErrorCode::LoginRequired,
            description: "the user must sign in".into(),
        }));
    }
    store::sessions::create_auth_request(&state.db, &req).await?;
    Ok(AuthorizeNext::Login { request_id: req.id })
}

/// A `login_hint` naming someone else than the session's user asks for a new sign-in.
fn login_hint_matches(req: &AuthRequest, user: &User) -> bool {
    match &req.login_hint {
        Some(h) => h == &user.username || user.email.as_deref() == Some(h.as_str()),
        None => true,
    }
}

/// A successful first factor: the new session and its cookie value.
pub struct SignedIn {
    pub session_token: String,
    pub session: Session,
    pub user: User,
}

/// Checks a username and password. An unknown user costs the same Argon2 work as a wrong
/// password (DESIGN §5); disabled users fail the same way. A successful sign-in always
/// creates a new session (new cookie value) and ends the previous one of this browser, so a
/// planted session id is never promoted (session fixation, ASVS 3.2.1).
pub async fn password_login(
    state: &AppState,
    username: &str,
    password: &str,
    previous_cookie: Option<&str>,
) -> AppResult<Option<SignedIn>> {
    if username.len() > 256 || password.len() > 1024 {
        // Still spend the work, so lengths do not change the timing.
        state.hasher.verify(None, "").await?;
        return Ok(None);
    }
    let user = store::users::find_by_username(&state.db, username).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = state.hasher.verify(stored.as_deref(), password).await?;
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        tracing::info!(username, "sign-in failed");
        return Ok(None);
    };
    if let Some(old) = &stored
        && state.hasher.needs_rehash(old)
    {
        let new = state.hasher.hash(password).await?;
        store::users::upgrade_password_hash(&state.db, &user.id, old, &new).await?;
    }
    if let Some(prev) = previous_cookie
        && let Some((s, _)) = current_session(state, Some(prev)).await?
    {
        store::sessions::delete(&state.db, &s.id).await?;
    }
    let now = state.now();
    let token = crypto::random_token();
    let session = store::sessions::create(
        &state.db,
        &store::sessions::NewSession {
            token_hash: &crypto::token_hash(&token),
            user_id: &user.id,
            expires_at: now + state.config.session.absolute_timeout_minutes * 60,
            auth_time: now,
            amr: "pwd",
            acr: acr::PASSWORD,
        },
        now,
    )
    .await?;
    tracing::info!(user_id = %user.id, session = %session.id, "signed in");
    Ok(Some(SignedIn { session_token: token, session, user }))
}

/// After the login page: consume the waiting request and finish it for this session.
/// Returns the redirect to the client, or `None` when the request expired or was used.
pub async fn resume(state: &AppState, request_id: &str, session: &Session) -> AppResult<Option<String>> {
    let Some(req) = store::sessions::take_auth_request(&state.db, request_id, state.now()).await? else {
        return Ok(None);
    };
    Ok(Some(finish(state, &req, session).await?))
}

/// Finishes a sign-in for an application: the one place that turns a session into a code.
/// The MFA step (DESIGN §1) will decide here whether the session suffices.
async fn finish(state: &AppState, req: &AuthRequest, session: &Session) -> AppResult<String> {
    let auth = Authentication {
        user_id: &session.user_id,
        session_id: &session.id,
        auth_time: session.auth_time,
        amr: &session.amr,
        acr: &session.acr,
    };
    authorize::issue_code(state, req, &auth).await
}

/// The waiting request behind the login page, for showing which app asked.
pub async fn pending_request(state: &AppState, request_id: &str) -> AppResult<Option<(AuthRequest, String)>> {
    let Some(req) = store::sessions::find_auth_request(&state.db, request_id, state.now()).await? else {
        return Ok(None);
    };
    let name = store::apps::find_client(&state.db, &req.client_id).await?.map(|c| c.name).ok_or(AppError::NotFound)?;
    Ok(Some((req, name)))
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
