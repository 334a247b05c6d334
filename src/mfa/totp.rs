//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, ±1 step, every accepted step
//! refused afterwards. The secret is encrypted under the master key.

use totp_rs::{Builder, Secret, Totp};

use crate::crypto;
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::store;
use crate::store::users::User;

const STEP_SECONDS: u64 = 30;

/// What a user needs to add the credential to an authenticator app.
pub struct Enrolment {
    /// Base32, for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/...` (Key Uri Format), for the QR code.
    pub uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(..)")
    }
}

fn context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

fn build(secret: Vec<u8>, issuer: &str, account: &str) -> AppResult<Totp> {
    Builder::new()
        .with_secret(Secret::new(secret.into_boxed_slice()))
        .with_skew(0)
        .with_step_duration(STEP_SECONDS)
        .with_issuer(Some(issuer.replace(':', "")))
        .with_account_name(account.replace(':', ""))
        .build()
        .map_err(|e| AppError::internal(format!("totp: {e:?}")))
}

fn issuer_label(state: &AppState) -> String {
    url::Url::parse(&state.config.issuer)
        .ok()
        .and_then(|u| u.host_str().map(|h| format!("Portcullis ({h})")))
        .unwrap_or_else(|| "Portcullis".into())
}

/// Starts an enrolment with a fresh 160-bit secret (RFC 4226 §4). A confirmed credential
/// must be removed first.
/// A pending secret shown within the last `REUSE_SECONDS` is shown again, so that reloading
/// the page or mistyping a code does not invalidate what the user has just scanned.
pub async fn begin_enrolment(state: &AppState, user: &User) -> AppResult<Enrolment> {
    const REUSE_SECONDS: i64 = 600;
    let now = state.now();
    let existing = store::factors::find_totp(&state.db, &user.id).await?;
    if existing.as_ref().is_some_and(|r| r.confirmed_at.is_some()) {
        return Err(AppError::Conflict(Msg::key("refuse-totp-exists")));
    }
    let secret = match existing.filter(|r| now - r.created_at < REUSE_SECONDS) {
        Some(row) => state.master_key.decrypt(&context(&user.id), &row.secret)?,
        None => {
            let secret = crypto::random_bytes::<20>().to_vec();
            let encrypted = state.master_key.encrypt(&context(&user.id), &secret);
            if !store::factors::put_pending_totp(&state.db, &user.id, &encrypted, now).await? {
                return Err(AppError::Conflict(Msg::key("refuse-totp-exists")));
            }
            secret
        }
    };
    present(state, user, secret)
}

/// Starts replacing a confirmed credential (a recovery session: the old phone is lost). The
/// old secret stays in force until `confirm_replacement` proves the new one; without a
/// confirmed credential this is an ordinary enrolment.
pub async fn begin_replacement(state: &AppState, user: &User) -> AppResult<Enrolment> {
    const REUSE_SECONDS: i64 = 600;
    let now = state.now();
    let Some(existing) = store::factors::find_totp(&state.db, &user.id).await?.filter(|r| r.confirmed_at.is_some())
    else {
        return begin_enrolment(state, user).await;
    };
    let waiting =
        existing.replacement.filter(|_| existing.replacement_created_at.is_some_and(|t| now - t < REUSE_SECONDS));
    let secret = match waiting {
        Some(sealed) => state.master_key.decrypt(&context(&user.id), &sealed)?,
        None => {
            let secret = crypto::random_bytes::<20>().to_vec();
            let encrypted = state.master_key.encrypt(&context(&user.id), &secret);
            if !store::factors::put_replacement_totp(&state.db, &user.id, &encrypted, now).await? {
                return begin_enrolment(state, user).await;
            }
            secret
        }
    };
    present(state, user, secret)
}

/// Proves a replacement started by `begin_replacement` with its first code: it becomes the
/// credential. For a user without an authenticator app this confirms an ordinary enrolment;
/// for one with an app but no replacement waiting, nothing is proved.
pub async fn confirm_replacement(state: &AppState, user: &User, code: &str) -> AppResult<bool> {
    let Some(row) = store::factors::find_totp(&state.db, &user.id).await? else { return Ok(false) };
    let sealed = match row.replacement {
        Some(sealed) => sealed,
        // A first authenticator app: an ordinary enrolment.
        None if row.confirmed_at.is_none() => return verify(state, user, code, true).await,
        // The old app's code proves nothing new: a replacement must be started first.
        None => return Ok(false),
    };
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let totp = build(state.master_key.decrypt(&context(&user.id), &sealed)?, "Portcullis", "user")?;
    let current = state.now().max(0) as u64 / STEP_SECONDS;
    for step in [current + 1, current, current.saturating_sub(1)] {
        if totp.check(&code, step * STEP_SECONDS).is_some() {
            return store::factors::confirm_replacement_totp(&state.db, &user.id, step as i64, state.now()).await;
        }
    }
    Ok(false)
}

/// What the user scans or types for `secret`.
fn present(state: &AppState, user: &User, secret: Vec<u8>) -> AppResult<Enrolment> {
    let base32 = Secret::new(secret.clone().into_boxed_slice()).to_base32();
    let totp = build(secret, &issuer_label(state), &user.username)?;
    let uri = totp.to_url().map_err(|e| AppError::internal(format!("totp uri: {e:?}")))?;
    let qr = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::internal(format!("qr: {e}")))?;
    let qr_svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok(Enrolment { secret: base32, uri, qr_svg })
}

/// Checks a code and consumes its time step. `pending` accepts an unconfirmed credential
/// (and confirms it); otherwise only a confirmed one counts.
pub async fn verify(state: &AppState, user: &User, code: &str, pending: bool) -> AppResult<bool> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let Some(row) = store::factors::find_totp(&state.db, &user.id).await? else { return Ok(false) };
    if row.confirmed_at.is_none() && !pending {
        return Ok(false);
    }
    let secret = state.master_key.decrypt(&context(&user.id), &row.secret)?;
    let totp = build(secret, "Portcullis", "user")?;
    let now = state.now().max(0) as u64;
    // ±1 step (RFC 6238 §5.2), newest first; only steps after the last accepted one count.
    let current = now / STEP_SECONDS;
    for step in [current + 1, current, current.saturating_sub(1)] {
        if row.last_used_step.is_some_and(|last| step as i64 <= last) {
            continue;
        }
        if totp.check(&code, step * STEP_SECONDS).is_some() {
            return store::factors::accept_totp_step(&state.db, &user.id, step as i64, pending, state.now()).await;
        }
    }
    Ok(false)
}
