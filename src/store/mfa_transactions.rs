//! Logins between the first factor and a full session: the MFA challenge or enrolment. The
//! token (`mfa_token` / `enrollment_token`) is 256-bit random and stored only as a hash.

use super::audit::Event;
use super::{Db, returned};
use crate::error::AppResult;
use crate::login::request::LoginRequest;
use crate::{on_db, on_db_write};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MfaTransaction {
    pub token_hash: String,
    pub user_id: String,
    /// An existing SSO session being stepped up; `None` creates a session at the end.
    pub session_id: Option<String>,
    pub auth_time: i64,
    pub request_id: Option<String>,
    pub app_id: Option<String>,
    /// `challenge`, `enroll` or `done`.
    pub stage: String,
    pub challenge: String,
    pub enroll: String,
    pub can_postpone: bool,
    pub allow_trust: bool,
    pub verified_factor: Option<String>,
    /// The selector plugin's verdict for this login (JSON of `Option<Verdict>`); NULL when no
    /// plugin was evaluated.
    pub plugin_verdict: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

macro_rules! columns {
    () => {
        "token_hash, user_id, session_id, auth_time, request_id, app_id, stage, challenge, enroll, can_postpone, \
         allow_trust, verified_factor, plugin_verdict, created_at, expires_at"
    };
}

/// What starting an MFA step writes: the transaction, the request the login answers (stored
/// now if it has not waited yet) with the plugin verdict it carries, and the audit record.
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
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    let request = s.request.map(super::sessions::RequestRow::of);
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        if let Some(r) = &request {
            super::sessions::insert_auth_request(r, true).execute(&mut *tx).await?;
            if let Some(v) = &t.plugin_verdict {
                sqlx::query("UPDATE auth_requests SET plugin_verdict = $2 WHERE id = $1")
                    .bind(&r.id).bind(v).execute(&mut *tx).await?;
            }
        }
        sqlx::query(insert_txn)
            .bind(&t.token_hash).bind(&t.user_id).bind(&t.session_id).bind(t.auth_time).bind(&t.request_id)
            .bind(&t.app_id).bind(&t.stage).bind(&t.challenge).bind(&t.enroll).bind(t.can_postpone)
            .bind(t.allow_trust).bind(&t.verified_factor).bind(&t.plugin_verdict).bind(t.created_at)
            .bind(t.expires_at)
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
    from: &str,
    to: &str,
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

/// Consumes a trust token: the user it belongs to, once.
pub async fn take_trust_token(db: &Db, trust_hash: &str, now: i64) -> AppResult<Option<String>> {
    let sql = "DELETE FROM mfa_transactions WHERE trust_token_hash = $1 AND stage = 'done' AND expires_at > $2 RETURNING user_id";
    Ok(
        on_db_write!(db, p => returned(sqlx::query_scalar::<_, String>(sql).bind(trust_hash).bind(now).fetch_all(p).await?)),
    )
}

pub async fn purge_expired(db: &Db, now: i64) -> AppResult<()> {
    on_db_write!(db, p => {
        sqlx::query("DELETE FROM mfa_transactions WHERE expires_at <= $1").bind(now).execute(p).await?;
        sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at <= $1").bind(now).execute(p).await?;
    });
    Ok(())
}
