//! Trusted devices (DESIGN §5): a 256-bit random token in the `idp_device` cookie, stored
//! hashed, bound to one user, expiring; revoked by the user, on a password change or a factor
//! reset. It only ever skips the second factor, never the first.

use crate::crypto;
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::store;
use crate::store::devices::Device;

/// Whether `token` is a live trusted device of `user_id` (and notes that it was seen).
pub async fn is_trusted(state: &AppState, user_id: &str, token: Option<&str>) -> AppResult<bool> {
    let Some(token) = token.filter(|t| t.len() == 43) else { return Ok(false) };
    let now = state.now();
    match store::devices::find_live(&state.db, user_id, &crypto::token_hash(token), now).await? {
        Some(d) => {
            if now - d.last_seen_at >= 60 {
                store::devices::touch(&state.db, &d.id, now).await?;
            }
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Trusts the device for `days`; the cookie value is returned once.
pub async fn trust(state: &AppState, user_id: &str, name: &str, days: i64) -> AppResult<(crypto::Secret, Device)> {
    if days < 1 {
        return Err(AppError::Forbidden(Msg::key("refuse-devices-off")));
    }
    let name = clean_name(name, "This device")?;
    let token = crypto::Secret::random();
    let now = state.now();
    let device =
        store::devices::create(&state.db, user_id, &crypto::token_hash(&token), &name, now + days * 86_400, now)
            .await?;
    Ok((token, device))
}

/// A display name for a device or passkey: trimmed, 1–64 characters, no control characters.
pub fn clean_name(name: &str, default: &str) -> AppResult<String> {
    let name = name.trim();
    let name = if name.is_empty() { default } else { name };
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(Msg::key("refuse-name-length")));
    }
    Ok(name.to_owned())
}
