//! The delivery outbox (DESIGN §4): messages written with the change that caused them, then
//! claimed with a lease by one node's worker and delivered. A claim is one statement: on
//! PostgreSQL its rows are locked `FOR UPDATE SKIP LOCKED`, so two nodes polling at once take
//! different messages; on SQLite the single writer runs it whole. A message whose node died
//! mid-send is claimable again once its lease (`next_attempt_at` while `sending`) has passed.
//! Completion is conditional on still holding the lease, so a node that lost it never
//! overwrites the outcome of the node that took over.

use super::{Db, returned_one};
use crate::error::AppResult;
use crate::{on_db, on_db_write};

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = MessageChannel)]
pub enum Channel {
    Email,
    Sms,
    /// An event for a webhook subscriber (the recipient is the subscriber's id).
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            "webhook" => Some(Channel::Webhook),
            _ => None,
        }
    }
}
crate::text_enum!(Channel);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = MessageStatus)]
pub enum Status {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a node, which holds it until its lease runs out.
    Sending,
    Sent,
    /// Given up (a permanent error, or retried until it was no longer worth sending).
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "sending" => Some(Status::Sending),
            "sent" => Some(Status::Sent),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
}
crate::text_enum!(Status);

/// A message about to be queued. `payload` is already sealed under the master key.
pub struct NewMessage {
    pub id: String,
    pub channel: Channel,
    pub purpose: &'static str,
    pub recipient: String,
    pub user_id: Option<String>,
    pub payload: Vec<u8>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for NewMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMessage")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("purpose", &self.purpose)
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

/// Queues `$msg` (a `&NewMessage`) on `$conn`, an executor of either backend: inside the
/// transaction of the change that caused the message, so both commit or neither does.
#[macro_export]
macro_rules! queue_message {
    ($conn:expr, $msg:expr) => {{
        let m: &$crate::store::outbox::NewMessage = $msg;
        sqlx::query(
            "INSERT INTO outbox (id, channel, purpose, recipient, user_id, payload, status, attempts, \
             next_attempt_at, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $8)",
        )
        .bind(&m.id)
        .bind(m.channel)
        .bind(m.purpose)
        .bind(&m.recipient)
        .bind(&m.user_id)
        .bind(&m.payload)
        .bind(m.created_at)
        .bind(m.expires_at)
        .execute($conn)
        .await?
        .rows_affected()
    }};
}

/// Queues a message that is a change of its own (nothing else to commit with it).
pub async fn insert(db: &Db, msg: &NewMessage) -> AppResult<()> {
    on_db_write!(db, p => queue_message!(p, msg));
    Ok(())
}

/// A message this node claimed: it holds it until `lease_until`.
#[derive(sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub channel: Channel,
    pub purpose: String,
    pub recipient: String,
    pub user_id: Option<String>,
    pub payload: Option<Vec<u8>>,
    pub attempts: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Messages due at `$1` (matches the partial index `outbox_due`).
macro_rules! due {
    () => {
        "status IN ('pending', 'sending') AND next_attempt_at <= $1"
    };
}

/// Whether any message is due (a read, so an idle node's poll never takes the writer).
pub async fn has_due(db: &Db, now: i64) -> AppResult<bool> {
    let sql = concat!("SELECT id FROM outbox WHERE ", due!(), " LIMIT 1");
    Ok(on_db!(db, p => sqlx::query_scalar::<_, String>(sql).bind(now).fetch_optional(p).await?).is_some())
}

/// Claims up to `limit` due messages that have not expired, for `node` until `lease_until`.
pub async fn claim(db: &Db, node: &str, now: i64, lease_until: i64, limit: i64) -> AppResult<Vec<Claimed>> {
    macro_rules! claim_sql {
        ($lock:literal) => {
            concat!(
                "UPDATE outbox SET status = 'sending', lease_owner = $2, attempts = attempts + 1, next_attempt_at = $3 \
                 WHERE id IN (SELECT id FROM outbox WHERE ",
                due!(),
                " AND expires_at > $1 ORDER BY next_attempt_at LIMIT $4",
                $lock,
                ") RETURNING id, channel, purpose, recipient, user_id, payload, attempts, expires_at"
            )
        };
    }
    // Only PostgreSQL has row locks to skip; SQLite's single writer runs the statement whole.
    let sql = match db {
        Db::Sqlite(_) => claim_sql!(""),
        Db::Postgres(_) => claim_sql!(" FOR UPDATE SKIP LOCKED"),
    };
    Ok(on_db_write!(db, p => sqlx::query_as::<_, Claimed>(sql).bind(now).bind(node).bind(lease_until).bind(limit)
        .fetch_all(p).await?))
}

/// A message given up because it expired before it could be delivered.
#[derive(Debug, sqlx::FromRow)]
pub struct Expired {
    pub id: String,
    pub channel: Channel,
    pub purpose: String,
    pub recipient: String,
    pub user_id: Option<String>,
    pub last_error: Option<String>,
}

/// Gives up every due message whose time has run out: its body is dropped, its record kept.
pub async fn give_up_expired(db: &Db, now: i64) -> AppResult<Vec<Expired>> {
    let sql = concat!(
        "UPDATE outbox SET status = 'failed', payload = NULL, lease_owner = NULL, finished_at = $1, \
         last_error = COALESCE(last_error, 'not delivered before it expired') WHERE ",
        due!(),
        " AND expires_at <= $1 RETURNING id, channel, purpose, recipient, user_id, last_error"
    );
    Ok(on_db_write!(db, p => sqlx::query_as::<_, Expired>(sql).bind(now).fetch_all(p).await?))
}

/// Records that `node` delivered its claim `attempt` of message `id`. False when the node no
/// longer held the lease (it ran out and another node took the message over).
pub async fn mark_sent(db: &Db, id: &str, node: &str, attempt: i64, now: i64) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query(
        "UPDATE outbox SET status = 'sent', payload = NULL, lease_owner = NULL, last_error = NULL, finished_at = $4 \
         WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'sending'")
        .bind(id).bind(node).bind(attempt).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Puts message `id` back for another attempt at `next_at`, noting why this one failed.
pub async fn retry_later(db: &Db, id: &str, node: &str, attempt: i64, next_at: i64, error: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query(
        "UPDATE outbox SET status = 'pending', lease_owner = NULL, next_attempt_at = $4, last_error = $5 \
         WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'sending'")
        .bind(id).bind(node).bind(attempt).bind(next_at).bind(error).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Gives message `id` up: its body is dropped, its record and the reason kept.
pub async fn mark_failed(db: &Db, id: &str, node: &str, attempt: i64, error: &str, now: i64) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query(
        "UPDATE outbox SET status = 'failed', payload = NULL, lease_owner = NULL, last_error = $4, finished_at = $5 \
         WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'sending'")
        .bind(id).bind(node).bind(attempt).bind(error).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

macro_rules! summary_columns {
    () => {
        "id, channel, purpose, recipient, user_id, status, attempts, last_error, created_at, next_attempt_at, finished_at"
    };
}

/// What an administrator sees of a message: never its body.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
#[schema(as = OutboxMessage)]
pub struct Summary {
    pub id: String,
    pub channel: Channel,
    pub purpose: String,
    pub recipient: String,
    pub user_id: Option<String>,
    pub status: Status,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub finished_at: Option<i64>,
}

/// How many messages are in each status, every status named (the metrics' outbox depth).
pub async fn count_by_status(db: &Db) -> AppResult<Vec<(Status, i64)>> {
    let sql = "SELECT status, COUNT(*) FROM outbox GROUP BY status";
    let counted: Vec<(Status, i64)> = on_db!(db, p => sqlx::query_as(sql).fetch_all(p).await?);
    Ok([Status::Pending, Status::Sending, Status::Sent, Status::Failed]
        .into_iter()
        .map(|s| (s, counted.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n)))
        .collect())
}

/// The newest messages, optionally only those in `status`.
pub async fn list(db: &Db, status: Option<Status>, limit: i64) -> AppResult<Vec<Summary>> {
    // `$1 IS NULL` lets one statement serve both: every status, or the one asked for.
    let sql = concat!(
        "SELECT ",
        summary_columns!(),
        " FROM outbox WHERE ($1 IS NULL OR status = $1) ORDER BY created_at DESC, id LIMIT $2"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Summary>(sql).bind(status).bind(limit).fetch_all(p).await?))
}

/// The newest `limit` messages to one recipient on `channel` (a webhook subscriber's log).
pub async fn list_for_recipient(db: &Db, channel: Channel, recipient: &str, limit: i64) -> AppResult<Vec<Summary>> {
    let sql = concat!(
        "SELECT ",
        summary_columns!(),
        " FROM outbox WHERE channel = $1 AND recipient = $2 ORDER BY created_at DESC, id LIMIT $3"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Summary>(sql).bind(channel).bind(recipient).bind(limit).fetch_all(p).await?))
}

/// One message's record.
pub async fn find(db: &Db, id: &str) -> AppResult<Option<Summary>> {
    let sql = concat!("SELECT ", summary_columns!(), " FROM outbox WHERE id = $1");
    Ok(on_db!(db, p => sqlx::query_as::<_, Summary>(sql).bind(id).fetch_optional(p).await?))
}

/// Whether the message's body is still stored (it is dropped once sent or given up).
pub async fn holds_body(db: &Db, id: &str) -> AppResult<bool> {
    let n: i64 = on_db!(db, p => returned_one(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM outbox WHERE id = $1 AND payload IS NOT NULL").bind(id).fetch_all(p).await?)?);
    Ok(n > 0)
}

/// Drops the records of messages finished before `before`.
pub async fn purge_finished(db: &Db, before: i64) -> AppResult<u64> {
    Ok(on_db_write!(db, p => sqlx::query("DELETE FROM outbox WHERE status IN ('sent', 'failed') AND finished_at < $1")
        .bind(before).execute(p).await?.rows_affected()))
}
