//! One-time account links (`account_links`): MFA recovery and password reset. A link is
//! 256-bit random and stored only as its hash; it is consumed by one statement, so of two
//! simultaneous uses exactly one wins, on either database and across nodes.

use super::outbox::NewMessage;
use super::{Db, returned};
use crate::error::AppResult;
use crate::{on_db, on_db_write, queue_message};

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Open a recovery session that can only enrol a new factor.
    MfaRecovery,
    /// Set a new password (the next sign-in still passes the MFA step).
    PasswordReset,
    /// Choose the first password of an account an administrator made.
    Invitation,
}

impl LinkPurpose {
    pub fn parse(s: &str) -> Option<LinkPurpose> {
        match s {
            "mfa_recovery" => Some(LinkPurpose::MfaRecovery),
            "password_reset" => Some(LinkPurpose::PasswordReset),
            "invitation" => Some(LinkPurpose::Invitation),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::MfaRecovery => "mfa_recovery",
            LinkPurpose::PasswordReset => "password_reset",
            LinkPurpose::Invitation => "invitation",
        }
    }
}

crate::text_enum!(LinkPurpose);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Link {
    pub token_hash: String,
    pub user_id: String,
    pub purpose: LinkPurpose,
    pub issued_by: Option<String>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "token_hash, user_id, purpose, issued_by, reason, request_id, created_at, expires_at, used_at"
    };
}

/// Stores a new link, ending the user's earlier unused links of the same purpose, and queues
/// the message that carries it (when there is one), in one transaction.
pub async fn issue(db: &Db, link: &Link, msg: Option<&NewMessage>) -> AppResult<()> {
    let insert = "INSERT INTO account_links (token_hash, user_id, purpose, issued_by, reason, request_id, created_at, \
                  expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)";
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM account_links WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL")
            .bind(&link.user_id)
            .bind(link.purpose)
            .execute(&mut *tx)
            .await?;
        sqlx::query(insert)
            .bind(&link.token_hash)
            .bind(&link.user_id)
            .bind(link.purpose)
            .bind(&link.issued_by)
            .bind(&link.reason)
            .bind(&link.request_id)
            .bind(link.created_at)
            .bind(link.expires_at)
            .execute(&mut *tx)
            .await?;
        if let Some(m) = msg {
            queue_message!(&mut *tx, m);
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The live (unused, unexpired) link of `purpose` behind a hash, without using it.
pub async fn find_live(db: &Db, token_hash: &str, purpose: LinkPurpose, now: i64) -> AppResult<Option<Link>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM account_links WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Link>(sql).bind(token_hash).bind(purpose).bind(now)
        .fetch_optional(p).await?))
}

/// Uses a live link once: the row when this call used it, `None` when it was used, expired
/// or never existed.
pub async fn take(db: &Db, token_hash: &str, purpose: LinkPurpose, now: i64) -> AppResult<Option<Link>> {
    let sql = concat!(
        "UPDATE account_links SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL \
         AND expires_at > $3 RETURNING ",
        columns!()
    );
    Ok(on_db_write!(db, p => returned(sqlx::query_as::<_, Link>(sql).bind(token_hash).bind(purpose).bind(now)
        .fetch_all(p).await?)))
}

/// Ends every unused link of a user (a recovery or a reset happened; the rest are moot).
pub async fn revoke_for_user(db: &Db, user_id: &str, now: i64) -> AppResult<u64> {
    Ok(on_db_write!(db, p => sqlx::query(
        "UPDATE account_links SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id).bind(now).execute(p).await?.rows_affected()))
}

/// Drops links that expired more than a day ago.
pub async fn purge(db: &Db, now: i64) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("DELETE FROM account_links WHERE expires_at < $1").bind(now - 86_400)
        .execute(p).await?.rows_affected());
    Ok(())
}
