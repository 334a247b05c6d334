//! Logins between the first factor and a full session: the MFA challenge or enrolment. The
//! token (`mfa_token` / `enrollment_token`) is 256-bit random and stored only as a hash.

use super::audit::Event;
use super::{Db, returned};
use crate::error::{AppError, AppResult};
use crate::login::request::LoginRequest;
use crate::mfa::policy::{Factor, Policy, Verdict, join_factors};
use crate::{on_db, on_db_write};

/// Where a login's MFA step stands. It moves forward only, each move exactly once (`advance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnStage {
    /// The user must pass a second factor.
    Challenge,
    /// The user must set one up (after the challenge, when both are asked).
    Enroll,
    /// Passed; the row lingers only to hand out its trust-device token.
    Done,
}

impl TxnStage {
    pub fn parse(s: &str) -> Option<TxnStage> {
        match s {
            "challenge" => Some(TxnStage::Challenge),
            "enroll" => Some(TxnStage::Enroll),
            "done" => Some(TxnStage::Done),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TxnStage::Challenge => "challenge",
            TxnStage::Enroll => "enroll",
            TxnStage::Done => "done",
        }
    }
}

crate::text_enum!(TxnStage);

/// A recovery session (DESIGN §2): what happens to the user's old factors once the new one
/// is proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// They are removed (the lost or stolen device no longer signs in).
    Replace,
    /// They stay.
    Keep,
}

impl Recovery {
    pub fn parse(s: &str) -> Option<Recovery> {
        match s {
            "replace" => Some(Recovery::Replace),
            "keep" => Some(Recovery::Keep),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Recovery::Replace => "replace",
            Recovery::Keep => "keep",
        }
    }
}

crate::text_enum!(Recovery);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MfaTransaction {
    pub token_hash: String,
    pub user_id: String,
    /// An existing SSO session being stepped up; `None` creates a session at the end.
    pub session_id: Option<String>,
    pub auth_time: i64,
    pub request_id: Option<String>,
    pub app_id: Option<String>,
    pub stage: TxnStage,
    pub challenge: String,
    pub enroll: String,
    pub can_postpone: bool,
    pub allow_trust: bool,
    pub verified_factor: Option<String>,
    /// The selector plugins' verdict for this login.
    #[sqlx(flatten)]
    pub plugin: VerdictColumns,
    /// Set for a recovery session, which can only enrol.
    pub recovery: Option<Recovery>,
    pub created_at: i64,
    pub expires_at: i64,
}

macro_rules! columns {
    () => {
        "token_hash, user_id, session_id, auth_time, request_id, app_id, stage, challenge, enroll, can_postpone, \
         allow_trust, verified_factor, plugin_outcome, plugin_policy, plugin_factors, plugin_reauth_minutes, \
         plugin_trust, plugin_deny, recovery, created_at, expires_at"
    };
}

/// A login's plugin verdict as its MFA transaction keeps it, each part in a typed column.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct VerdictColumns {
    /// NULL: not evaluated; `none`: evaluated, nothing enforced; `verdict`: the columns below.
    plugin_outcome: Option<String>,
    plugin_policy: Option<String>,
    /// Space-separated factors; NULL: no restriction ('' allows none).
    plugin_factors: Option<String>,
    plugin_reauth_minutes: Option<i64>,
    plugin_trust: Option<bool>,
    plugin_deny: Option<String>,
}

impl VerdictColumns {
    /// `carried`: `None` when no plugin was evaluated, `Some(None)` when plugins ran and none
    /// enforced a verdict.
    pub fn of(carried: Option<&Option<Verdict>>) -> VerdictColumns {
        match carried {
            None => VerdictColumns::default(),
            Some(None) => VerdictColumns { plugin_outcome: Some("none".into()), ..Default::default() },
            Some(Some(v)) => VerdictColumns {
                plugin_outcome: Some("verdict".into()),
                plugin_policy: v.policy.map(|p| p.as_str().to_owned()),
                plugin_factors: v.allowed_factors.as_deref().map(join_factors),
                plugin_reauth_minutes: v.reauth_interval_minutes.map(i64::from),
                plugin_trust: v.allow_trusted_device,
                plugin_deny: v.deny.clone(),
            },
        }
    }

    /// The verdict as `of` took it.
    pub fn carried(&self) -> AppResult<Option<Option<Verdict>>> {
        let bad = |what: &str| AppError::internal(format!("stored plugin verdict: {what}"));
        match self.plugin_outcome.as_deref() {
            None => Ok(None),
            Some("none") => Ok(Some(None)),
            Some("verdict") => {
                let policy = match &self.plugin_policy {
                    Some(p) => Some(Policy::parse(p).ok_or_else(|| bad("unknown policy"))?),
                    None => None,
                };
                let allowed_factors = match &self.plugin_factors {
                    Some(f) => Some(
                        f.split_ascii_whitespace()
                            .map(Factor::parse)
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| bad("unknown factor"))?,
                    ),
                    None => None,
                };
                let reauth_interval_minutes = match self.plugin_reauth_minutes {
                    Some(m) => Some(u32::try_from(m).map_err(|_| bad("reauthentication interval"))?),
                    None => None,
                };
                Ok(Some(Some(Verdict {
                    policy,
                    allowed_factors,
                    reauth_interval_minutes,
                    allow_trusted_device: self.plugin_trust,
                    deny: self.plugin_deny.clone(),
                })))
            }
            Some(_) => Err(bad("unknown outcome")),
        }
    }
}

/// What starting an MFA step writes: the transaction (with the plugin verdict the login
/// carries), the request the login answers (stored now if it has not waited yet), and the
/// audit record.
pub struct Start<'a> {
    pub txn: &'a MfaTransaction,
    pub request: Option<&'a LoginRequest>,
    pub audit: &'a Event<'a>,
    pub now: i64,
}

/// Writes a `Start` in one transaction: one commit, however many rows (a login that reaches
/// the MFA step costs the single writer one turn, not four).
pub async fn start(db: &Db, s: &Start<'_>) -> AppResult<()> {
    let t = s.txn;
    let insert_txn = concat!(
        "INSERT INTO mfa_transactions (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
    );
    let request = s.request.map(super::sessions::RequestRow::of);
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        if let Some(r) = &request {
            super::sessions::insert_auth_request(r, super::sessions::Insert::IfNew).execute(&mut *tx).await?;
        }
        let v = &t.plugin;
        sqlx::query(insert_txn)
            .bind(&t.token_hash).bind(&t.user_id).bind(&t.session_id).bind(t.auth_time).bind(&t.request_id)
            .bind(&t.app_id).bind(t.stage).bind(&t.challenge).bind(&t.enroll).bind(t.can_postpone)
            .bind(t.allow_trust).bind(&t.verified_factor).bind(&v.plugin_outcome).bind(&v.plugin_policy)
            .bind(&v.plugin_factors).bind(v.plugin_reauth_minutes).bind(v.plugin_trust).bind(&v.plugin_deny)
            .bind(t.recovery).bind(t.created_at).bind(t.expires_at)
            .execute(&mut *tx).await?;
        super::audit::insert(s.audit, s.now).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn find_live(db: &Db, token_hash: &str, now: i64) -> AppResult<Option<MfaTransaction>> {
    let sql = concat!("SELECT ", columns!(), " FROM mfa_transactions WHERE token_hash = $1 AND expires_at > $2");
    Ok(on_db!(db, p => sqlx::query_as::<_, MfaTransaction>(sql).bind(token_hash).bind(now).fetch_optional(p).await?))
}

/// Moves a transaction from `from` to `to`, recording the verified factor; exactly one
/// caller succeeds, so a code or assertion cannot complete the same login twice.
pub async fn advance(
    db: &Db,
    token_hash: &str,
    from: TxnStage,
    to: TxnStage,
    factor: Option<&str>,
    now: i64,
) -> AppResult<bool> {
    let sql = "UPDATE mfa_transactions SET stage = $3, verified_factor = COALESCE($4, verified_factor) \
               WHERE token_hash = $1 AND stage = $2 AND expires_at > $5";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(token_hash).bind(from).bind(to).bind(factor).bind(now)
        .execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Ends a transaction (it is finished, or a new one replaces it).
pub async fn delete(db: &Db, token_hash: &str) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("DELETE FROM mfa_transactions WHERE token_hash = $1").bind(token_hash)
        .execute(p).await?.rows_affected());
    Ok(())
}

/// Ends every transaction of a user (a security event: none may finish into a session).
pub async fn delete_for_user(db: &Db, user_id: &str) -> AppResult<u64> {
    Ok(on_db_write!(db, p => sqlx::query("DELETE FROM mfa_transactions WHERE user_id = $1").bind(user_id)
        .execute(p).await?.rows_affected()))
}

/// Remembers the one-time "trust this device" token of a finished transaction.
pub async fn set_trust_token(db: &Db, token_hash: &str, trust_hash: &str) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("UPDATE mfa_transactions SET trust_token_hash = $2 WHERE token_hash = $1")
        .bind(token_hash).bind(trust_hash).execute(p).await?.rows_affected());
    Ok(())
}

/// Consumes a trust token: the finished transaction it belongs to, once.
pub async fn take_trust_token(db: &Db, trust_hash: &str, now: i64) -> AppResult<Option<MfaTransaction>> {
    let sql = concat!(
        "DELETE FROM mfa_transactions WHERE trust_token_hash = $1 AND stage = 'done' AND expires_at > $2 RETURNING ",
        columns!()
    );
    Ok(on_db_write!(db, p => returned(sqlx::query_as::<_, MfaTransaction>(sql).bind(trust_hash).bind(now)
        .fetch_all(p).await?)))
}

pub async fn purge_expired(db: &Db, now: i64) -> AppResult<()> {
    on_db_write!(db, p => {
        sqlx::query("DELETE FROM mfa_transactions WHERE expires_at <= $1").bind(now).execute(p).await?;
        sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at <= $1").bind(now).execute(p).await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_columns_keep_every_verdict() {
        let full = Verdict {
            policy: Some(Policy::Passkey),
            allowed_factors: Some(vec![Factor::Passkey, Factor::BackupCode]),
            reauth_interval_minutes: Some(15),
            allow_trusted_device: Some(false),
            deny: Some("not from there".into()),
        };
        let none_allowed = Verdict { allowed_factors: Some(vec![]), ..Verdict::default() };
        for carried in [None, Some(None), Some(Some(Verdict::default())), Some(Some(full)), Some(Some(none_allowed))] {
            let columns = VerdictColumns::of(carried.as_ref());
            assert_eq!(columns.carried().unwrap(), carried);
        }
        let bad = VerdictColumns { plugin_outcome: Some("maybe".into()), ..Default::default() };
        assert!(bad.carried().is_err());
    }
}
