//! Failed-attempt limits (ASVS 2.2.1): counted in the database per account (and per client
//! address for passwords), so parallel sessions and several nodes share one budget.
//!
//! An attempt is reserved *before* the guess is checked (DESIGN §5): the reservation is one
//! statement that counts the attempt and refuses once the budget is spent or the key is
//! locked, so a burst of simultaneous guesses gets at most the limit evaluated, wherever they
//! land. A reservation counts as a failure unless the guess proves right.

use crate::audit::{self, Origin};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;

/// Keys longer than this are stored as their hash: a rate-limit key is an index entry.
const MAX_KEY_LEN: usize = 160;

fn bounded(key: String) -> String {
    if key.len() <= MAX_KEY_LEN {
        return key;
    }
    let (kind, _) = key.split_at(key.find(':').map_or(0, |i| i + 1));
    format!("{kind}sha256:{}", crate::crypto::token_hash(&key))
}

pub fn mfa_key(user_id: &str) -> String {
    bounded(format!("mfa:user:{user_id}"))
}

pub fn password_account_key(username: &str) -> String {
    bounded(format!("pwd:user:{}", username.to_lowercase()))
}

/// The password budget of the request's client address (its block: `Origin::limit_key`).
pub fn password_ip_key(origin: &Origin) -> Option<String> {
    Some(bounded(format!("pwd:ip:{}", origin.limit_key()?)))
}

/// The client address a sending cap counts requests under (`Origin::limit_key`); requests
/// from no known address (the CLI, a peer without one) share a single budget.
pub fn sender_key(origin: &Origin) -> String {
    origin.limit_key().unwrap_or_else(|| "unknown".into())
}

/// One budget an attempt is charged to.
#[derive(Debug, Clone)]
pub struct Budget {
    pub key: String,
    /// Failed attempts in a window before the key locks.
    pub max: i64,
    /// A right guess forgets this key's earlier failures (the account's own counters); when
    /// false it only gives its own attempt back (a client address shared by many people).
    pub clear_on_success: bool,
}

impl Budget {
    pub fn account(key: String, max: i64) -> Budget {
        Budget { key, max, clear_on_success: true }
    }

    pub fn shared(key: String, max: i64) -> Budget {
        Budget { key, max, clear_on_success: false }
    }
}

/// Attempts reserved on every budget of one guess. Settle it with `succeeded` or `failed`; if
/// it is dropped unsettled (the request died), the attempts stay counted as failures.
#[must_use = "settle the attempt with succeeded() or failed()"]
#[derive(Debug)]
pub struct Attempt {
    budgets: Vec<Budget>,
}

/// How long a refused attempt waits, in all, for a budget held by attempts still being checked
/// (the key is not locked). Each wait is twice the one before, from `FIRST_WAIT`.
const HELD_BUDGET_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);
const FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(10);

/// Reserves an attempt on each budget, or fails with `LockedOut` (giving back what it
/// reserved) when any of them is locked or spent.
///
/// A budget may be spent by attempts still being checked rather than by failures: one account
/// signing in from many places at once (a shared or test account), its guesses waiting for the
/// hashing pool. Those settle within a hash or two, and each right guess frees its attempt, so
/// an attempt refused while its key is not locked tries again for a moment before it is
/// refused. Nothing is evaluated without a reservation, so a burst of wrong guesses still gets
/// exactly the budget checked: the first ones fail and lock the key, and the waiting ones then
/// learn the lockout.
pub async fn reserve(state: &AppState, budgets: Vec<Budget>) -> AppResult<Attempt> {
    let (mut waited, mut wait) = (std::time::Duration::ZERO, FIRST_WAIT);
    loop {
        let now = state.now();
        let Some(held) = try_reserve(state, &budgets, now).await? else { return Ok(Attempt { budgets }) };
        if let Some(left) = store::audit::locked_for(&state.db, held, now).await? {
            return Err(AppError::LockedOut { retry_after_seconds: left.max(1) as u64 });
        }
        if waited >= HELD_BUDGET_WAIT {
            let left = store::audit::retry_after(&state.db, held, now).await?;
            return Err(AppError::LockedOut { retry_after_seconds: left as u64 });
        }
        let pause = wait.min(HELD_BUDGET_WAIT - waited);
        tokio::time::sleep(pause).await;
        waited += pause;
        wait *= 2;
    }
}

/// Reserves an attempt on every budget, or none: returns the key of a budget that refused
/// (the attempts the others counted are given back). One statement for all the budgets.
async fn try_reserve<'b>(state: &AppState, budgets: &'b [Budget], now: i64) -> AppResult<Option<&'b str>> {
    let window = state.config.limits.window_seconds;
    let asked: Vec<(&str, i64)> = budgets.iter().map(|b| (b.key.as_str(), b.max)).collect();
    let counted = store::audit::reserve_attempts(&state.db, &asked, window, now).await?;
    let Some(refused) = budgets.iter().find(|b| !counted.contains(&b.key)) else { return Ok(None) };
    for given_back in counted {
        store::audit::release_attempt(&state.db, &given_back).await?;
    }
    Ok(Some(&refused.key))
}

impl Attempt {
    /// The guess was right: the account's failures are forgotten (an active lockout stays),
    /// shared budgets get this attempt back.
    pub async fn succeeded(self, state: &AppState) -> AppResult<()> {
        self.success().settle(state).await
    }

    /// The guess was right, to be settled later: with the write it leads to (a sign-in, in
    /// the same commit) or on its own.
    pub fn success(self) -> Success {
        let keys = |clear: bool| -> Vec<String> {
            self.budgets.iter().filter(|b| b.clear_on_success == clear).map(|b| b.key.clone()).collect()
        };
        Success { clear: keys(true), release: keys(false) }
    }

    /// The guess was never checked (the request was shed before the work): every budget
    /// gets its attempt back.
    pub async fn not_evaluated(self, state: &AppState) -> AppResult<()> {
        for b in &self.budgets {
            store::audit::release_attempt(&state.db, &b.key).await?;
        }
        Ok(())
    }

    /// The guess was wrong: it stays counted, and a budget it spent is locked. The lockout
    /// is audited once, by whichever request started it.
    pub async fn failed(self, state: &AppState, user_id: Option<&str>, origin: &Origin) -> AppResult<()> {
        let l = &state.config.limits;
        for b in &self.budgets {
            if store::audit::lock_if_spent(&state.db, &b.key, b.max, l.lockout_seconds, state.now()).await? {
                let who = if b.clear_on_success { user_id } else { None };
                audit::record(state, audit::event::LOCKOUT, who, None, origin, Some(&b.key)).await?;
            }
        }
        Ok(())
    }
}

/// A right guess whose settlement is still to be written (see `Attempt::success`). Dropped
/// unwritten, its attempts stay counted as failures, as an unsettled `Attempt`'s do.
#[must_use = "write the settlement with the sign-in, or settle() it"]
#[derive(Debug)]
pub struct Success {
    clear: Vec<String>,
    release: Vec<String>,
}

impl Success {
    /// What the sign-in's commit writes for it.
    pub fn settlement(&self) -> store::audit::Settlement<'_> {
        store::audit::Settlement { clear: &self.clear, release: &self.release }
    }

    /// Writes the settlement on its own.
    pub async fn settle(self, state: &AppState) -> AppResult<()> {
        store::audit::settle_success(&state.db, &self.settlement(), state.now()).await
    }
}

/// Reserves one second-factor attempt for `user_id` (per account, across every session,
/// transaction and node).
pub async fn reserve_mfa(state: &AppState, user_id: &str) -> AppResult<Attempt> {
    reserve(state, vec![Budget::account(mfa_key(user_id), state.config.limits.mfa_failures_per_account)]).await
}

/// Fails with `LockedOut` while any of `keys` is locked (a cheap read before work that is
/// not itself a guess, such as starting a passkey ceremony).
pub async fn check(state: &AppState, keys: &[&str]) -> AppResult<()> {
    for key in keys {
        if let Some(left) = store::audit::locked_for(&state.db, key, state.now()).await? {
            return Err(AppError::LockedOut { retry_after_seconds: left.max(1) as u64 });
        }
    }
    Ok(())
}

/// A sending cap: at most `max` on `key` in a `window` of seconds; `message` (a catalogue key)
/// says why not.
#[derive(Debug, Clone)]
pub struct Cap {
    pub key: String,
    pub window: i64,
    pub max: i64,
    pub message: &'static str,
}

/// Counts one on every cap, in order, or refuses with `RateLimited` (and the seconds until
/// the spent cap's window ends), giving back what it counted on the caps before.
pub async fn spend(state: &AppState, caps: &[Cap]) -> AppResult<()> {
    let now = state.now();
    for (i, cap) in caps.iter().enumerate() {
        let key = bounded(cap.key.clone());
        if store::audit::reserve_attempt(&state.db, &key, cap.window, cap.max, now).await?.is_none() {
            for earlier in &caps[..i] {
                store::audit::release_attempt(&state.db, &bounded(earlier.key.clone())).await?;
            }
            let left = store::audit::window_left(&state.db, &key, cap.window, now).await?;
            return Err(AppError::RateLimited {
                retry_after_seconds: left.max(1) as u64,
                message: crate::error::Msg::key(cap.message),
            });
        }
    }
    Ok(())
}
