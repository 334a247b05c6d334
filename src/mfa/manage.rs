//! A signed-in user managing their own factors and devices (profile page and JSON API).
//! Adding or removing a factor needs a fresh second factor, or a fresh password while the
//! user has none (DESIGN §5).

use super::policy::{Enrolled, Factor};
use super::{backup, passkey, totp};
use crate::audit::{self, Origin, event};
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::store;
use crate::store::sessions::Session;
use crate::store::users::User;

/// How recent a verification must be for changes to factors.
pub const FRESH_SECONDS: i64 = 600;

/// Proof that a session may change its user's factors now: it verified a second factor (or,
/// for a user with none, the password) within the last `FRESH_SECONDS`. Only `Fresh::check`
/// makes one, and every function here that adds or removes a factor takes one.
#[derive(Debug)]
pub struct Fresh {
    session: Session,
    user: User,
}

impl Fresh {
    pub async fn check(state: &AppState, session: Session, user: User) -> AppResult<Fresh> {
        require_fresh(state, &session, &user).await?;
        Ok(Fresh { session, user })
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn user(&self) -> &User {
        &self.user
    }
}

/// Refuses unless the session verified a second factor (or, for a user with none, the
/// password) within the last `FRESH_SECONDS`.
async fn require_fresh(state: &AppState, session: &Session, user: &User) -> AppResult<Enrolled> {
    let enrolled = store::factors::enrolled(&state.db, &user.id).await?;
    let has_factor = enrolled.any() || enrolled.backup_codes > 0;
    if !is_fresh(session, has_factor, state.now()) {
        return Err(AppError::Forbidden(if has_factor {
            "reauthentication_required: verify your second factor again first (POST /api/v1/auth/step-up)".into()
        } else {
            "reauthentication_required: sign in with your password again first".into()
        }));
    }
    Ok(enrolled)
}

/// A second factor verified (or, without one, the password entered) in the last
/// `FRESH_SECONDS`.
fn is_fresh(session: &Session, has_factor: bool, now: i64) -> bool {
    if has_factor {
        session.mfa_at.is_some_and(|t| now - t < FRESH_SECONDS)
    } else {
        now - session.auth_time < FRESH_SECONDS
    }
}

/// The factors users can set up under `settings`: its `mfa_allowed_factors`, less passkeys
/// on an issuer where WebAuthn cannot work and codes over a channel with no transport.
pub fn usable_factors(state: &AppState, settings: &super::policy::Settings) -> Vec<Factor> {
    use crate::delivery::Channel;
    let mut allowed = settings.mfa_allowed_factors.clone();
    allowed.retain(|f| match f {
        Factor::Passkey => state.passkeys.available(),
        Factor::Sms => state.delivery.is_available(Channel::Sms),
        Factor::Email => state.delivery.is_available(Channel::Email),
        Factor::Totp | Factor::BackupCode => true,
    });
    allowed
}

/// The factors users may set up now, under the stored settings.
pub async fn allowed_factors(state: &AppState) -> AppResult<Vec<Factor>> {
    Ok(usable_factors(state, &store::settings::load(&state.db).await?))
}

/// Refuses to set up a factor the admin does not allow (DESIGN §2), whichever door is used.
pub async fn require_allowed(state: &AppState, factor: Factor) -> AppResult<()> {
    if allowed_factors(state).await?.contains(&factor) {
        return Ok(());
    }
    Err(AppError::Forbidden(
        format!("factor_not_allowed: {} cannot be set up here (mfa_allowed_factors)", factor.label()).into(),
    ))
}

pub async fn begin_totp(state: &AppState, fresh: &Fresh) -> AppResult<totp::Enrolment> {
    require_allowed(state, Factor::Totp).await?;
    totp::begin_enrolment(state, fresh.user()).await
}

/// Confirms a new authenticator app with its first code. Returns a new set of backup codes
/// when the user had none left (`offer_backup_codes`).
pub async fn confirm_totp(
    state: &AppState,
    fresh: &Fresh,
    code: &str,
    origin: &Origin,
) -> AppResult<Option<Vec<String>>> {
    let (session, user) = (fresh.session(), fresh.user());
    require_allowed(state, Factor::Totp).await?;
    let attempt = super::limits::reserve_mfa(state, &user.id).await?;
    if !totp::verify(state, user, code, true).await? {
        audit::record(state, event::MFA_FAILED, Some(&user.id), None, origin, Some("totp enrolment")).await?;
        attempt.failed(state, Some(&user.id), origin).await?;
        return Err(AppError::InvalidFactor);
    }
    attempt.succeeded(state).await?;
    // Confirming is a verification of the new factor.
    store::sessions::record_mfa(&state.db, &session.id, Factor::Totp.as_str(), state.now()).await?;
    audit::record(state, event::FACTOR_ENROLLED, Some(&user.id), None, origin, Some("totp")).await?;
    offer_backup_codes(state, user, origin).await
}

pub async fn remove_totp(state: &AppState, fresh: &Fresh, origin: &Origin) -> AppResult<()> {
    let (session, user) = (fresh.session(), fresh.user());
    if !store::factors::delete_totp(&state.db, &user.id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(state, event::FACTOR_REMOVED, Some(&user.id), None, origin, Some("totp")).await?;
    after_factor_removed(state, session, user, origin).await
}

/// Starts adding a passkey: the ceremony id and the options for the browser.
pub async fn begin_passkey(
    state: &AppState,
    fresh: &Fresh,
) -> AppResult<(String, webauthn_rs::prelude::CreationChallengeResponse)> {
    require_allowed(state, Factor::Passkey).await?;
    passkey::begin_registration(state, fresh.user()).await
}

pub async fn finish_passkey(
    state: &AppState,
    fresh: &Fresh,
    ceremony: &str,
    credential: &webauthn_rs::prelude::RegisterPublicKeyCredential,
    name: &str,
    origin: &Origin,
) -> AppResult<(store::passkeys::PasskeyInfo, Option<Vec<String>>)> {
    let user = fresh.user();
    require_allowed(state, Factor::Passkey).await?;
    let info = passkey::finish_registration(state, user, ceremony, credential, name).await?;
    audit::record(state, event::FACTOR_ENROLLED, Some(&user.id), None, origin, Some("passkey")).await?;
    Ok((info, offer_backup_codes(state, user, origin).await?))
}

pub async fn rename_passkey(
    state: &AppState,
    user: &User,
    id: &str,
    name: &str,
) -> AppResult<store::passkeys::PasskeyInfo> {
    store::passkeys::rename(&state.db, &user.id, id, &passkey::clean_name(name)).await?.ok_or(AppError::NotFound)
}

pub async fn remove_passkey(state: &AppState, fresh: &Fresh, id: &str, origin: &Origin) -> AppResult<()> {
    let (session, user) = (fresh.session(), fresh.user());
    if !store::passkeys::delete(&state.db, &user.id, id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(state, event::FACTOR_REMOVED, Some(&user.id), None, origin, Some("passkey")).await?;
    after_factor_removed(state, session, user, origin).await
}

/// Where a user's code of `kind` goes when set up from the profile or the API: the number they
/// typed, or (email) the account's own address.
fn oob_destination(state: &AppState, user: &User, kind: Factor, input: Option<&str>) -> AppResult<String> {
    match kind {
        Factor::Email => {
            let email = user
                .email
                .as_deref()
                .filter(|e| !e.is_empty())
                .ok_or_else(|| AppError::BadRequest(Msg::key("refuse-no-email")))?;
            super::oob::destination(state, kind, email)
        }
        _ => super::oob::destination(state, kind, input.unwrap_or_default()),
    }
}

/// The binding of a set-up code started from a session (not from a sign-in).
fn setup_binding(session: &Session) -> String {
    format!("session:{}", crate::crypto::token_hash(&session.id))
}

/// Starts setting up SMS (to `phone`) or email (to the account's address) codes: a code is
/// sent, to be confirmed with `confirm_oob`.
pub async fn begin_oob(
    state: &AppState,
    fresh: &Fresh,
    kind: Factor,
    phone: Option<&str>,
    origin: &Origin,
) -> AppResult<(super::oob::Sent, String)> {
    let user = fresh.user();
    require_allowed(state, kind).await?;
    let destination = oob_destination(state, user, kind, phone)?;
    let binding = setup_binding(fresh.session());
    let sent = super::oob::send(state, user, kind, store::oob::Purpose::Enroll, &destination, &binding, origin).await?;
    Ok((sent, destination))
}

/// Confirms a set-up with the code that was sent: the destination becomes the user's factor.
pub async fn confirm_oob(
    state: &AppState,
    fresh: &Fresh,
    kind: Factor,
    code: &str,
    origin: &Origin,
) -> AppResult<(store::oob::OobFactor, Option<Vec<String>>)> {
    let (session, user) = (fresh.session(), fresh.user());
    require_allowed(state, kind).await?;
    let attempt = super::limits::reserve_mfa(state, &user.id).await?;
    let binding = setup_binding(session);
    let checked = super::oob::check(state, &user.id, kind, store::oob::Purpose::Enroll, &binding, code).await?;
    let factor = match checked {
        Some((code_id, destination)) => {
            store::oob::confirm(&state.db, &user.id, kind, &destination, &code_id, state.now()).await?
        }
        None => None,
    };
    let Some(factor) = factor else {
        audit::record(
            state,
            event::MFA_FAILED,
            Some(&user.id),
            None,
            origin,
            Some(&format!("{} enrolment", kind.as_str())),
        )
        .await?;
        attempt.failed(state, Some(&user.id), origin).await?;
        return Err(AppError::InvalidFactor);
    };
    attempt.succeeded(state).await?;
    store::sessions::record_mfa(&state.db, &session.id, kind.as_str(), state.now()).await?;
    audit::record(state, event::FACTOR_ENROLLED, Some(&user.id), None, origin, Some(kind.as_str())).await?;
    Ok((factor, offer_backup_codes(state, user, origin).await?))
}

/// One factor as `GET /api/v1/mfa/factors` lists it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FactorView {
    /// `totp` and `backup_codes` for the one of their kind; the row id otherwise.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Factor,
    /// A passkey's name, or a masked destination.
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// The kind the MFA page offers first.
    pub primary: bool,
    /// Unused backup codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
}

/// Every factor of `user`, the primary kind first.
pub async fn factors(state: &AppState, user: &User) -> AppResult<Vec<FactorView>> {
    let db = &state.db;
    let primary = store::oob::primary(db, &user.id).await?;
    let view = |id: String, kind: Factor, name: String, created_at: i64, last_used_at: Option<i64>| FactorView {
        id,
        kind,
        name,
        created_at,
        last_used_at,
        primary: primary == Some(kind),
        remaining: None,
    };
    let mut out = Vec::new();
    for p in store::passkeys::list(db, &user.id).await? {
        out.push(view(p.id, Factor::Passkey, p.name, p.created_at, p.last_used_at));
    }
    if let Some(t) = store::factors::find_totp(db, &user.id).await?.filter(|t| t.confirmed_at.is_some()) {
        let last = t.last_used_step.map(|s| s * 30);
        out.push(view("totp".into(), Factor::Totp, "Authenticator app".into(), t.created_at, last));
    }
    for f in store::oob::list(db, &user.id).await? {
        let kind = f.kind();
        let name = match kind {
            Factor::Sms => crate::delivery::mask_phone(&f.destination),
            _ => crate::delivery::mask_email(&f.destination),
        };
        out.push(view(f.id, kind, name, f.created_at, f.last_used_at));
    }
    let b = store::factors::backup_code_status(db, &user.id).await?;
    if b.remaining > 0 {
        let mut v =
            view("backup_codes".into(), Factor::BackupCode, "Backup codes".into(), b.generated_at.unwrap_or(0), None);
        v.remaining = Some(b.remaining);
        out.push(v);
    }
    out.sort_by_key(|f| !f.primary);
    Ok(out)
}

/// Makes the kind of factor `id` the one the MFA page offers first. Returns the new list.
pub async fn set_primary(state: &AppState, user: &User, id: &str, origin: &Origin) -> AppResult<Vec<FactorView>> {
    let kind =
        factors(state, user).await?.into_iter().find(|f| f.id == id).map(|f| f.kind).ok_or(AppError::NotFound)?;
    if kind == Factor::BackupCode {
        return Err(AppError::BadRequest(Msg::key("refuse-backup-primary")));
    }
    store::oob::set_primary(&state.db, &user.id, Some(kind)).await?;
    audit::record(state, event::PRIMARY_FACTOR_SET, Some(&user.id), None, origin, Some(kind.as_str())).await?;
    factors(state, user).await
}

/// Removes one of the user's out-of-band factors.
pub async fn remove_oob(state: &AppState, fresh: &Fresh, id: &str, origin: &Origin) -> AppResult<()> {
    let (session, user) = (fresh.session(), fresh.user());
    let kind = store::oob::list(&state.db, &user.id).await?.into_iter().find(|f| f.id == id).map(|f| f.kind());
    if !store::oob::delete(&state.db, &user.id, id).await? {
        return Err(AppError::NotFound);
    }
    let kind = kind.map_or("oob", Factor::as_str);
    audit::record(state, event::FACTOR_REMOVED, Some(&user.id), None, origin, Some(kind)).await?;
    after_factor_removed(state, session, user, origin).await
}

/// Without any factor left, what was earned with one no longer stands: the security event
/// ends device trust and the user's other sessions.
async fn after_factor_removed(state: &AppState, session: &Session, user: &User, origin: &Origin) -> AppResult<()> {
    if !store::factors::enrolled(&state.db, &user.id).await?.any() {
        let e = crate::admin::security::SecurityEvent::LastFactorRemoved { current: &session.id };
        crate::admin::security::apply(state, &user.id, e, None, origin).await?;
    }
    Ok(())
}

/// After a factor was set up (on the profile, in a sign-in, in a recovery): a new set of
/// backup codes when the user has none left and backup codes are on, to be shown once, now.
pub async fn offer_backup_codes(state: &AppState, user: &User, origin: &Origin) -> AppResult<Option<Vec<String>>> {
    let count = store::settings::load(&state.db).await?.backup_codes_count;
    if count < 1 || store::factors::backup_code_status(&state.db, &user.id).await?.remaining > 0 {
        return Ok(None);
    }
    let codes = backup::generate(state, &user.id, count).await?;
    let detail = serde_json::json!({"count": count, "offered_after": "enrolment"}).to_string();
    audit::record(state, event::BACKUP_CODES_GENERATED, Some(&user.id), None, origin, Some(&detail)).await?;
    Ok(Some(codes))
}

pub async fn generate_backup_codes(state: &AppState, fresh: &Fresh, origin: &Origin) -> AppResult<Vec<String>> {
    let user = fresh.user();
    let count = store::settings::load(&state.db).await?.backup_codes_count;
    let codes = backup::generate(state, &user.id, count).await?;
    audit::record(state, event::BACKUP_CODES_GENERATED, Some(&user.id), None, origin, Some(&count.to_string())).await?;
    Ok(codes)
}

pub async fn revoke_device(state: &AppState, user: &User, id: &str, origin: &Origin) -> AppResult<()> {
    if !store::devices::delete(&state.db, &user.id, id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(state, event::DEVICE_REVOKED, Some(&user.id), None, origin, Some(id)).await
}

/// Everything the profile page shows about a user's factors and devices.
#[derive(Debug)]
pub struct Overview {
    pub totp_enabled: bool,
    pub passkeys: Vec<store::passkeys::PasskeyInfo>,
    pub backup: store::factors::BackupCodeStatus,
    pub devices: Vec<store::devices::Device>,
    /// The trusted device this browser is, if any.
    pub this_device: Option<String>,
    /// The user has a second factor (TOTP, passkey or backup codes).
    pub has_factor: bool,
    /// Changes to factors are allowed right now without verifying again.
    pub fresh: bool,
    /// Factors the policy lets users set up.
    pub allowed: Vec<Factor>,
    /// Backup codes can be generated (`backup_codes_count` > 0).
    pub backup_enabled: bool,
}

pub async fn overview(
    state: &AppState,
    session: &Session,
    user: &User,
    device_token: Option<&str>,
) -> AppResult<Overview> {
    let now = state.now();
    let enrolled = store::factors::enrolled(&state.db, &user.id).await?;
    let has_factor = enrolled.any() || enrolled.backup_codes > 0;
    let fresh = is_fresh(session, has_factor, now);
    let this_device = match device_token {
        Some(t) => {
            store::devices::find_live(&state.db, &user.id, &crate::crypto::token_hash(t), now).await?.map(|d| d.id)
        }
        None => None,
    };
    let settings = store::settings::load(&state.db).await?;
    let allowed = allowed_factors(state).await?;
    Ok(Overview {
        totp_enabled: enrolled.totp,
        passkeys: store::passkeys::list(&state.db, &user.id).await?,
        backup: store::factors::backup_code_status(&state.db, &user.id).await?,
        devices: store::devices::list(&state.db, &user.id, now).await?,
        this_device,
        has_factor,
        fresh,
        allowed,
        backup_enabled: settings.backup_codes_count > 0,
    })
}

/// A user's MFA status, as `GET /api/v1/me/mfa` and `GET /api/v1/admin/users/{id}/mfa` give it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MfaStatus {
    pub user_id: String,
    pub username: String,
    /// The user has a second factor of their own (backup codes alone do not count).
    pub enabled: bool,
    pub factors: Vec<FactorView>,
    pub backup_codes_remaining: i64,
    /// Fewer than `backup::LOW_WATER` codes left of a set.
    pub backup_codes_low: bool,
    pub trusted_devices: Vec<store::devices::Device>,
    /// When a postponed enrolment must be done by (Unix time), if it was postponed.
    pub enrollment_deadline: Option<i64>,
    /// A recovery link can be sent by email.
    pub email_verified: bool,
}

pub async fn status(state: &AppState, user: &User) -> AppResult<MfaStatus> {
    let now = state.now();
    let enrolled = store::factors::enrolled(&state.db, &user.id).await?;
    let backup = store::factors::backup_code_status(&state.db, &user.id).await?;
    Ok(MfaStatus {
        user_id: user.id.clone(),
        username: user.username.clone(),
        enabled: enrolled.any(),
        factors: factors(state, user).await?,
        backup_codes_remaining: backup.remaining,
        backup_codes_low: backup.total > 0 && backup.remaining < backup::LOW_WATER,
        trusted_devices: store::devices::list(&state.db, &user.id, now).await?,
        enrollment_deadline: user.mfa_enroll_deadline.filter(|_| !enrolled.any()),
        email_verified: user.email_verified && user.email.as_deref().is_some_and(|e| !e.is_empty()),
    })
}
