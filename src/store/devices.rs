//! Trusted devices: a 256-bit token in the `idp_device` cookie, stored here only as a hash.

use super::{Db, returned_one};
use crate::error::AppResult;
use crate::{on_db, on_db_write};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
#[schema(as = TrustedDevice)]
pub struct Device {
    pub id: String,
    #[serde(skip)]
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

macro_rules! columns {
    () => {
        "id, user_id, name, created_at, last_seen_at, expires_at"
    };
}

pub async fn create(
    db: &Db,
    user_id: &str,
    token_hash: &str,
    name: &str,
    expires_at: i64,
    now: i64,
) -> AppResult<Device> {
    let id = crate::crypto::b64url(&crate::crypto::random_bytes::<12>());
    let sql = concat!(
        "INSERT INTO trusted_devices (id, user_id, token_hash, name, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING ",
        columns!()
    );
    Ok(
        on_db_write!(db, p => returned_one(sqlx::query_as::<_, Device>(sql).bind(&id).bind(user_id).bind(token_hash).bind(name)
        .bind(now).bind(expires_at).fetch_all(p).await?)?),
    )
}

/// The user's live device for a cookie token; anyone else's token finds nothing.
pub async fn find_live(db: &Db, user_id: &str, token_hash: &str, now: i64) -> AppResult<Option<Device>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM trusted_devices WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3"
    );
    Ok(
        on_db!(db, p => sqlx::query_as::<_, Device>(sql).bind(token_hash).bind(user_id).bind(now).fetch_optional(p).await?),
    )
}

pub async fn touch(db: &Db, id: &str, now: i64) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("UPDATE trusted_devices SET last_seen_at = $2 WHERE id = $1").bind(id).bind(now)
        .execute(p).await?.rows_affected());
    Ok(())
}

pub async fn list(db: &Db, user_id: &str, now: i64) -> AppResult<Vec<Device>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM trusted_devices WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Device>(sql).bind(user_id).bind(now).fetch_all(p).await?))
}

pub async fn delete(db: &Db, user_id: &str, id: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query("DELETE FROM trusted_devices WHERE id = $1 AND user_id = $2")
        .bind(id).bind(user_id).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Revokes every device of the user (password change, factor reset).
pub async fn delete_all(db: &Db, user_id: &str) -> AppResult<u64> {
    Ok(on_db_write!(db, p => sqlx::query("DELETE FROM trusted_devices WHERE user_id = $1").bind(user_id)
        .execute(p).await?.rows_affected()))
}
