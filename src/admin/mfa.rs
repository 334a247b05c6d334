//! An administrator helping a user with their second factor: the user's MFA status, removing
//! one factor, a new set of backup codes, and a recovery link (with a reason and an expiry)
//! instead of a session — the user re-enrols and never gets a sign-in that skips MFA.

use serde_json::json;

use super::Admin;
use super::security::{self, SecurityEvent};
use crate::audit::event;
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::manage;
use crate::mfa::policy::Factor;
use crate::mfa::recovery::{self, ADMIN_LINK_MAX_SECONDS, Issued, LinkSpec};
use crate::state::AppState;
use crate::store::{self, links::LinkPurpose, users::User};

/// A user named by id or, failing that, by username.
pub async fn user(state: &AppState, id_or_name: &str) -> AppResult<User> {
    if let Some(u) = store::users::find_by_id(&state.db, id_or_name).await? {
        return Ok(u);
    }
    store::users::find_by_username(&state.db, id_or_name).await?.ok_or(AppError::NotFound)
}

/// `GET /api/v1/admin/users/{id}/mfa`.
pub async fn status(state: &AppState, _admin: &Admin, target: &User) -> AppResult<manage::MfaStatus> {
    manage::status(state, target).await
}

/// Removes one factor of a user (`factor_id` as `GET …/mfa` lists it: a passkey's or code
/// factor's id, `totp`, `backup_codes`). What was signed in or trusted with it ends.
pub async fn remove_factor(
    state: &AppState,
    admin: &Admin,
    target: &User,
    factor_id: &str,
    reason: Option<&str>,
) -> AppResult<()> {
    admin.not_on_self(&target.id, "adm-err-self-mfa")?;
    let reason = clean_reason(reason, false)?;
    let factor =
        manage::factors(state, target).await?.into_iter().find(|f| f.id == factor_id).ok_or(AppError::NotFound)?;
    let db = &state.db;
    let removed = match factor.kind {
        Factor::Totp => store::factors::delete_totp(db, &target.id).await?,
        Factor::BackupCode => {
            store::factors::delete_backup_codes(db, &target.id).await?;
            true
        }
        Factor::Passkey => store::passkeys::delete(db, &target.id, factor_id).await?,
        Factor::Sms | Factor::Email => store::oob::delete(db, &target.id, factor_id).await?,
    };
    if !removed {
        return Err(AppError::NotFound);
    }
    let detail = json!({
        "username": target.username,
        "factor_id": factor_id,
        "kind": factor.kind,
        "reason": reason,
    });
    admin.audit(state, event::FACTOR_REMOVED_BY_ADMIN, Some(&target.id), None, &detail).await?;
    security::apply(state, &target.id, SecurityEvent::FactorRemovedByAdmin, admin.actor_id(), admin.origin()).await
}

/// A new set of backup codes for a user (replacing the old set), to hand over once.
pub async fn generate_backup_codes(state: &AppState, admin: &Admin, target: &User) -> AppResult<Vec<String>> {
    admin.not_on_self(&target.id, "adm-err-self-mfa")?;
    let count = store::settings::load(&state.db).await?.backup_codes_count;
    let codes = crate::mfa::backup::generate(state, &target.id, count).await?;
    let detail = json!({"username": target.username, "count": count, "by": "admin"});
    admin.audit(state, event::BACKUP_CODES_GENERATED, Some(&target.id), None, &detail).await?;
    Ok(codes)
}

/// A recovery link for a user: `reason` is required, `expires_in` at most a day. With `email`,
/// it is also sent to the user's verified address; either way it is returned once.
pub async fn recovery_link(
    state: &AppState,
    admin: &Admin,
    target: &User,
    reason: &str,
    expires_in: i64,
    email: bool,
) -> AppResult<Issued> {
    admin.not_on_self(&target.id, "adm-err-self-mfa")?;
    let reason = clean_reason(Some(reason), true)?.unwrap_or_default();
    if !(60..=ADMIN_LINK_MAX_SECONDS).contains(&expires_in) {
        return Err(AppError::BadRequest(Msg::key("adm-err-expires-in").with("max", ADMIN_LINK_MAX_SECONDS)));
    }
    if target.disabled {
        return Err(AppError::Conflict(Msg::key("adm-err-account-disabled")));
    }
    let email_to = match (email, target.email.as_deref()) {
        (false, _) => None,
        (true, Some(addr)) if target.email_verified && !addr.is_empty() => Some(addr),
        (true, _) => return Err(AppError::BadRequest(Msg::key("adm-err-no-verified-email"))),
    };
    let spec = LinkSpec {
        purpose: LinkPurpose::MfaRecovery,
        ttl_seconds: expires_in,
        reason: Some(&reason),
        request_id: None,
        email_to,
    };
    recovery::issue(state, target, Some(admin), &spec, admin.origin()).await
}

/// A reason as the audit log keeps it: trimmed, one line, at most 500 characters.
fn clean_reason(reason: Option<&str>, required: bool) -> AppResult<Option<String>> {
    let r = reason.map(str::trim).filter(|r| !r.is_empty());
    match r {
        None if required => Err(AppError::BadRequest(Msg::key("adm-err-reason-required"))),
        None => Ok(None),
        Some(r) if r.chars().count() > 500 || r.chars().any(char::is_control) => {
            Err(AppError::BadRequest(Msg::key("adm-err-reason-long")))
        }
        Some(r) => Ok(Some(r.to_owned())),
    }
}
