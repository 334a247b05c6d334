//! Failed-attempt limits (ASVS 2.2.1): counted in the database per account (and per client
//! address for passwords), so parallel sessions and several nodes share one budget.

use crate::audit::{self, Origin};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;

pub fn mfa_key(user_id: &str) -> String {
    format!("mfa:user:{user_id}")
}

pub fn password_account_key(username: &str) -> String {
    format!("pwd:user:{}", username.to_lowercase())
}

pub fn password_ip_key(ip: &str) -> String {
    format!("pwd:ip:{ip}")
}

/// Fails with `LockedOut` while any of `keys` is locked.
pub async fn check(state: &AppState, keys: &[&str]) -> AppResult<()> {
    for key in keys {
        if let Some(left) = store::audit::locked_for(&state.db, key, state.now()).await? {
            return Err(AppError::LockedOut { retry_after_seconds: left.max(1) as u64 });
        }
    }
    Ok(())
}

/// Counts a failure on `key` with limit `max`; a lockout it starts is audited.
pub async fn fail(state: &AppState, key: &str, max: i64, user_id: Option<&str>, origin: &Origin) -> AppResult<()> {
    let l = &state.config.limits;
    if store::audit::count_failure(&state.db, key, l.window_seconds, max, l.lockout_seconds, state.now()).await? {
        audit::record(state, audit::event::LOCKOUT, user_id, None, origin, Some(key)).await?;
    }
    Ok(())
}

pub async fn succeed(state: &AppState, key: &str) -> AppResult<()> {
    store::audit::clear_failures(&state.db, key, state.now()).await
}
