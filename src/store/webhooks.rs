//! Event subscribers (`webhooks`): where audit events go, signed as Standard Webhooks specify.

use super::{Db, returned};
use crate::error::AppResult;
use crate::{on_db, on_db_write};

#[derive(Clone, sqlx::FromRow)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub description: String,
    /// Space-separated event names or prefixes (`mfa.*`), or `*`.
    pub events: String,
    /// Sealed under the master key (context `webhook:{id}`).
    pub secret: Vec<u8>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_expires_at: Option<i64>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("id", &self.id).field("url", &self.url).finish_non_exhaustive()
    }
}

impl Webhook {
    /// Whether this subscriber wants `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events
            .split_ascii_whitespace()
            .any(|e| e == "*" || e == event || e.strip_suffix('*').is_some_and(|prefix| event.starts_with(prefix)))
    }
}

macro_rules! columns {
    () => {
        "id, url, description, events, secret, previous_secret, previous_expires_at, enabled, created_at, updated_at"
    };
}

pub async fn create(db: &Db, w: &Webhook) -> AppResult<()> {
    let sql = concat!("INSERT INTO webhooks (", columns!(), ") VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7, $7)");
    on_db_write!(db, p => sqlx::query(sql).bind(&w.id).bind(&w.url).bind(&w.description).bind(&w.events)
        .bind(&w.secret).bind(w.enabled).bind(w.created_at).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn list(db: &Db) -> AppResult<Vec<Webhook>> {
    let sql = concat!("SELECT ", columns!(), " FROM webhooks ORDER BY created_at, id");
    Ok(on_db!(db, p => sqlx::query_as::<_, Webhook>(sql).fetch_all(p).await?))
}

pub async fn find(db: &Db, id: &str) -> AppResult<Option<Webhook>> {
    let sql = concat!("SELECT ", columns!(), " FROM webhooks WHERE id = $1");
    Ok(on_db!(db, p => sqlx::query_as::<_, Webhook>(sql).bind(id).fetch_optional(p).await?))
}

/// Writes the editable fields of `w`. False when it no longer exists.
pub async fn update(db: &Db, w: &Webhook, now: i64) -> AppResult<bool> {
    let sql =
        "UPDATE webhooks SET url = $2, description = $3, events = $4, enabled = $5, updated_at = $6 WHERE id = $1";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(&w.id).bind(&w.url).bind(&w.description).bind(&w.events)
        .bind(w.enabled).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Puts a new secret in force; the current one keeps signing beside it until `keep_until`.
pub async fn rotate(db: &Db, id: &str, sealed: &[u8], keep_until: i64, now: i64) -> AppResult<Option<Webhook>> {
    let sql = concat!(
        "UPDATE webhooks SET previous_secret = secret, previous_expires_at = $3, secret = $2, updated_at = $4 \
         WHERE id = $1 RETURNING ",
        columns!()
    );
    Ok(on_db_write!(db, p => returned(sqlx::query_as::<_, Webhook>(sql).bind(id).bind(sealed).bind(keep_until)
        .bind(now).fetch_all(p).await?)))
}

pub async fn delete(db: &Db, id: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(p).await?
        .rows_affected());
    Ok(n == 1)
}
