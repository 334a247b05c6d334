//! Accounts: creation, passwords, disabling, group membership and the MFA reset for a lost
//! device. Each change is audited with the administrator who made it; the ones that change
//! how far existing sign-ins can be trusted also set off their security event.

use serde_json::json;

use super::Admin;
use super::security::{self, SecurityEvent};
use crate::audit::event;
use crate::crypto;
use crate::error::{AppError, AppResult, Msg};
use crate::mfa::recovery;
use crate::state::AppState;
use crate::store::links::LinkPurpose;
use crate::store::{self, users::NewUser, users::User};

/// A generated password: 20 characters from an unambiguous alphabet (~110 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    crypto::random_bytes::<20>().iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

pub struct UserSpec<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub email: Option<&'a str>,
    /// The administrator vouches for the address (it may receive recovery and reset links).
    pub email_verified: bool,
    pub display_name: Option<&'a str>,
    pub is_admin: bool,
    pub groups: &'a [String],
}

pub async fn add(state: &AppState, admin: &Admin, spec: &UserSpec<'_>) -> AppResult<User> {
    validate_password(spec.password)?;
    check(state, spec).await?;
    let hash = state.hasher.hash(spec.password, admin.origin()).await?;
    insert(state, admin, spec, Some(&hash)).await
}

/// The fields of a new account, checked (the password is the caller's).
async fn check(state: &AppState, spec: &UserSpec<'_>) -> AppResult<()> {
    validate_username(spec.username)?;
    let plain =
        |v: Option<&str>, max: usize| v.is_none_or(|v| v.chars().count() <= max && !v.chars().any(char::is_control));
    if !plain(spec.email, 254) || !plain(spec.display_name, 128) {
        return Err(AppError::BadRequest(Msg::key("adm-err-user-fields")));
    }
    for g in spec.groups {
        validate_group(g)?;
    }
    if store::users::find_by_username(&state.db, spec.username).await?.is_some() {
        return Err(AppError::Conflict(Msg::key("adm-err-user-exists").with("name", spec.username)));
    }
    Ok(())
}

async fn insert(state: &AppState, admin: &Admin, spec: &UserSpec<'_>, hash: Option<&str>) -> AppResult<User> {
    let user = store::users::create(
        &state.db,
        &NewUser {
            username: spec.username,
            email: spec.email,
            email_verified: spec.email_verified && spec.email.is_some_and(|e| !e.is_empty()),
            display_name: spec.display_name,
            password_hash: hash,
            is_admin: spec.is_admin,
        },
        state.now(),
    )
    .await
    .map_err(|e| {
        if e.is_unique_violation() {
            AppError::Conflict(Msg::key("adm-err-user-exists").with("name", spec.username))
        } else {
            e
        }
    })?;
    for g in spec.groups {
        store::users::add_to_group(&state.db, &user.id, g).await?;
    }
    let detail =
        json!({"username": user.username, "is_admin": user.is_admin, "groups": spec.groups, "invited": hash.is_none()});
    admin.audit(state, event::USER_CREATED, Some(&user.id), None, &detail).await?;
    Ok(user)
}

/// The longest an invitation link may live.
pub const INVITATION_MAX_DAYS: i64 = 14;

/// A new account without a password (`spec.password` is ignored), and an invitation link to
/// choose one, valid `days` days; emailed to the account's address when `send_email`.
pub async fn invite(
    state: &AppState,
    admin: &Admin,
    spec: &UserSpec<'_>,
    days: i64,
    send_email: bool,
) -> AppResult<(User, recovery::Issued)> {
    check_invitation(spec.email, days, send_email)?;
    check(state, spec).await?;
    let user = insert(state, admin, spec, None).await?;
    let issued = issue_invitation(state, admin, &user, days, send_email).await?;
    Ok((user, issued))
}

/// A new invitation for an account that has no password yet (the earlier link stops working).
pub async fn reinvite(
    state: &AppState,
    admin: &Admin,
    user: &User,
    days: i64,
    send_email: bool,
) -> AppResult<recovery::Issued> {
    if user.password_hash.is_some() {
        return Err(AppError::BadRequest(Msg::key("adm-err-invite-has-password")));
    }
    check_invitation(user.email.as_deref(), days, send_email)?;
    issue_invitation(state, admin, user, days, send_email).await
}

fn check_invitation(email: Option<&str>, days: i64, send_email: bool) -> AppResult<()> {
    if !(1..=INVITATION_MAX_DAYS).contains(&days) {
        return Err(AppError::BadRequest(Msg::key("adm-err-invite-days").with("max", INVITATION_MAX_DAYS)));
    }
    if send_email && email.is_none_or(|e| e.trim().is_empty()) {
        return Err(AppError::BadRequest(Msg::key("adm-err-invite-no-email")));
    }
    Ok(())
}

async fn issue_invitation(
    state: &AppState,
    admin: &Admin,
    user: &User,
    days: i64,
    send_email: bool,
) -> AppResult<recovery::Issued> {
    let spec = recovery::LinkSpec {
        purpose: LinkPurpose::Invitation,
        ttl_seconds: days * 86_400,
        reason: None,
        request_id: None,
        email_to: user.email.as_deref().filter(|_| send_email),
    };
    recovery::issue(state, user, Some(admin), &spec, admin.origin()).await
}

fn validate_username(u: &str) -> AppResult<()> {
    if u.is_empty() || u.len() > 64 || u.trim() != u || u.chars().any(char::is_control) {
        return Err(AppError::BadRequest(Msg::key("adm-err-username")));
    }
    Ok(())
}

/// ASVS 2.1.1/2.1.2: at least 12 characters, at most 128, anything allowed.
pub(crate) fn validate_password(p: &str) -> AppResult<()> {
    let n = p.chars().count();
    if !(12..=128).contains(&n) {
        return Err(AppError::BadRequest(Msg::key("refuse-password-length")));
    }
    Ok(())
}

/// Group names as policies and tokens carry them: 1-128 characters, no control characters,
/// no surrounding spaces.
pub(crate) fn validate_group(g: &str) -> AppResult<()> {
    if g.is_empty() || g.len() > 128 || g.trim() != g || g.chars().any(char::is_control) {
        return Err(AppError::BadRequest(Msg::key("adm-err-group-name")));
    }
    Ok(())
}

pub async fn find(state: &AppState, username: &str) -> AppResult<User> {
    store::users::find_by_username(&state.db, username)
        .await?
        .ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-no-user").with("name", username)))
}

/// Sets a new password; the security event ends the user's sessions, grants and devices.
pub async fn set_password(state: &AppState, admin: &Admin, username: &str, password: &str) -> AppResult<()> {
    validate_password(password)?;
    let user = find(state, username).await?;
    let hash = state.hasher.hash(password, admin.origin()).await?;
    store::users::update_password(&state.db, &user.id, &hash, state.now()).await?;
    admin.audit(state, event::USER_PASSWORD_SET, Some(&user.id), None, &json!({"username": user.username})).await?;
    security::apply(state, &user.id, SecurityEvent::PasswordChanged, admin.actor_id(), admin.origin()).await
}

/// Disables (or re-enables) a user; disabling ends their sessions, grants and devices.
pub async fn set_disabled(state: &AppState, admin: &Admin, username: &str, disabled: bool) -> AppResult<()> {
    let user = find(state, username).await?;
    if disabled {
        admin.not_on_self(&user.id, "adm-err-self-disable")?;
    }
    store::users::update_disabled(&state.db, &user.id, disabled, state.now()).await?;
    let e = if disabled { event::USER_DISABLED } else { event::USER_ENABLED };
    admin.audit(state, e, Some(&user.id), None, &json!({"username": user.username})).await?;
    if disabled {
        security::apply(state, &user.id, SecurityEvent::UserDisabled, admin.actor_id(), admin.origin()).await?;
    }
    Ok(())
}

/// Puts a user in a group (created if new). True when they were not a member before.
pub async fn add_to_group(state: &AppState, admin: &Admin, username: &str, group: &str) -> AppResult<bool> {
    validate_group(group)?;
    let user = store::users::find_by_username(&state.db, username).await?.ok_or(AppError::NotFound)?;
    let added = store::users::add_to_group(&state.db, &user.id, group).await?;
    if added {
        let detail = json!({"username": user.username, "group": group});
        admin.audit(state, event::GROUP_MEMBER_ADDED, Some(&user.id), None, &detail).await?;
    }
    Ok(added)
}

/// Takes a user out of a group. False when they were not a member.
pub async fn remove_from_group(state: &AppState, admin: &Admin, username: &str, group: &str) -> AppResult<bool> {
    let user = store::users::find_by_username(&state.db, username).await?.ok_or(AppError::NotFound)?;
    let removed = store::users::remove_from_group(&state.db, &user.id, group).await?;
    if removed {
        let detail = json!({"username": user.username, "group": group});
        admin.audit(state, event::GROUP_MEMBER_REMOVED, Some(&user.id), None, &detail).await?;
    }
    Ok(removed)
}

/// Removes every second factor and trusted device of a user (lost device): the next login
/// leads to enrolment wherever MFA is required, and no existing sign-in survives it.
pub async fn reset_mfa(state: &AppState, admin: &Admin, username: &str) -> AppResult<()> {
    let user = find(state, username).await?;
    admin.not_on_self(&user.id, "adm-err-self-mfa")?;
    store::factors::delete_totp(&state.db, &user.id).await?;
    store::factors::delete_backup_codes(&state.db, &user.id).await?;
    store::factors::delete_passkeys(&state.db, &user.id).await?;
    store::oob::delete_all(&state.db, &user.id).await?;
    let detail = json!({"username": user.username, "reset": "all factors"});
    admin.audit(state, event::FACTOR_REMOVED, Some(&user.id), None, &detail).await?;
    security::apply(state, &user.id, SecurityEvent::MfaResetByAdmin, admin.actor_id(), admin.origin()).await
}

/// First start with no users: creates `admin` with a generated password, returned once.
pub async fn ensure_initial_admin(state: &AppState) -> AppResult<Option<String>> {
    if store::users::count(&state.db).await? > 0 {
        return Ok(None);
    }
    let password = generate_password();
    let spec = UserSpec {
        username: "admin",
        password: &password,
        email: None,
        email_verified: false,
        display_name: Some("Administrator"),
        is_admin: true,
        groups: &[],
    };
    match add(state, &Admin::operator(), &spec).await {
        Ok(_) => Ok(Some(password)),
        // Another node won the race.
        Err(AppError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Ends one session of a user (`Some(id)`) or all of them, with the grants issued from them.
/// Returns how many ended.
pub async fn end_sessions(state: &AppState, admin: &Admin, user: &User, session_id: Option<&str>) -> AppResult<u64> {
    let ended = match session_id {
        Some(id) => {
            // Only a session of this user: another user's id finds nothing and revokes nothing.
            if !store::sessions::delete_of_user(&state.db, &user.id, id).await? {
                return Err(AppError::NotFound);
            }
            store::grants::revoke_for_session(&state.db, id, state.now()).await?;
            1
        }
        None => {
            store::grants::revoke_for_user(&state.db, &user.id, state.now()).await?;
            store::sessions::delete_for_user(&state.db, &user.id).await?
        }
    };
    let detail = json!({"username": user.username, "session_id": session_id, "ended": ended});
    admin.audit(state, event::USER_SESSIONS_ENDED, Some(&user.id), None, &detail).await?;
    Ok(ended)
}

/// Stops trusting one of a user's devices.
pub async fn revoke_device(state: &AppState, admin: &Admin, user: &User, device_id: &str) -> AppResult<()> {
    if !store::devices::delete(&state.db, &user.id, device_id).await? {
        return Err(AppError::NotFound);
    }
    let detail = json!({"username": user.username, "device_id": device_id});
    admin.audit(state, event::DEVICE_REVOKED, Some(&user.id), None, &detail).await
}

/// The lockouts that can hold a user: their second step, and their password sign-in.
fn lock_keys(user: &User) -> [String; 2] {
    [crate::mfa::limits::mfa_key(&user.id), crate::mfa::limits::password_account_key(&user.username)]
}

/// Until when a user is locked out after failed attempts, if they are.
pub async fn locked_until(state: &AppState, user: &User) -> AppResult<Option<i64>> {
    let now = state.now();
    let mut until = None;
    for key in lock_keys(user) {
        if let Some(left) = store::audit::locked_for(&state.db, &key, now).await? {
            until = until.max(Some(now + left));
        }
    }
    Ok(until)
}

/// Lifts a lockout after failed attempts (the administrator checked it is the user). True when
/// there was something to lift.
pub async fn unlock(state: &AppState, admin: &Admin, user: &User) -> AppResult<bool> {
    let mut lifted = false;
    for key in lock_keys(user) {
        lifted |= store::audit::unlock(&state.db, &key).await?;
    }
    admin.audit(state, event::USER_UNLOCKED, Some(&user.id), None, &json!({"username": user.username})).await?;
    Ok(lifted)
}
