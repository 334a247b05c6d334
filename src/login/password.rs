//! Passwords after the account exists: a reset through a link sent by email, and a change by
//! the signed-in user. A new password is a security event (DESIGN §5); neither path ever counts
//! as a second factor — the next sign-in passes the MFA step as always.

use crate::admin::security::{self, SecurityEvent};
use crate::audit::{self, event};
use crate::crypto;
use crate::error::{AppError, AppResult, Msg};
use crate::login::{self, Client};
use crate::mfa::manage::Fresh;
use crate::mfa::recovery;
use crate::state::AppState;
use crate::store::{self, links::LinkPurpose, users::User};

/// Sets a new password with a reset link. The link is used only when the new password is
/// acceptable; then every session, grant, device trust and other link of the user ends.
pub async fn reset(state: &AppState, token: &str, new_password: &str, client: &Client) -> AppResult<User> {
    crate::admin::users::validate_password(new_password)?;
    let (_, user) = recovery::peek(state, token, LinkPurpose::PasswordReset).await?;
    let hash = state.hasher.hash(new_password, &client.origin).await?;
    // The same row `peek` read (the hash is its key), used once here.
    let link = store::links::take(&state.db, &crypto::token_hash(token), LinkPurpose::PasswordReset, state.now())
        .await?
        .ok_or(AppError::InvalidLink)?;
    store::users::update_password(&state.db, &user.id, &hash, state.now()).await?;
    let detail = serde_json::json!({"issued_by": link.issued_by}).to_string();
    audit::record(state, event::PASSWORD_RESET, Some(&user.id), None, &client.origin, Some(&detail)).await?;
    security::apply(state, &user.id, SecurityEvent::PasswordReset, None, &client.origin).await?;
    Ok(user)
}

/// The signed-in user changes their password: the current one again, and a fresh second factor
/// (`Fresh`). Every other session of theirs ends.
pub async fn change(
    state: &AppState,
    fresh: &Fresh,
    current: &str,
    new_password: &str,
    client: &Client,
) -> AppResult<()> {
    let user = fresh.user();
    crate::admin::users::validate_password(new_password)?;
    if !login::confirm_password(state, user, current, client).await? {
        return Err(AppError::BadRequest(Msg::key("refuse-current-password")));
    }
    let hash = state.hasher.hash(new_password, &client.origin).await?;
    store::users::update_password(&state.db, &user.id, &hash, state.now()).await?;
    audit::record(state, event::PASSWORD_CHANGED, Some(&user.id), None, &client.origin, None).await?;
    let e = SecurityEvent::PasswordChangedByUser { current: &fresh.session().id };
    security::apply(state, &user.id, e, None, &client.origin).await
}

/// The invited user chooses their first password with the invitation link; they then sign in
/// as anyone does (the second step included, and set up if the policy asks for it).
pub async fn accept_invitation(state: &AppState, token: &str, new_password: &str, client: &Client) -> AppResult<User> {
    crate::admin::users::validate_password(new_password)?;
    let (_, user) = recovery::peek(state, token, LinkPurpose::Invitation).await?;
    if user.password_hash.is_some() {
        // Accepted already (another way in was given since): the link is not a reset.
        return Err(AppError::InvalidLink);
    }
    let hash = state.hasher.hash(new_password, &client.origin).await?;
    let link = store::links::take(&state.db, &crypto::token_hash(token), LinkPurpose::Invitation, state.now())
        .await?
        .ok_or(AppError::InvalidLink)?;
    store::users::update_password(&state.db, &user.id, &hash, state.now()).await?;
    let detail = serde_json::json!({"issued_by": link.issued_by}).to_string();
    audit::record(state, event::INVITATION_ACCEPTED, Some(&user.id), None, &client.origin, Some(&detail)).await?;
    Ok(user)
}
