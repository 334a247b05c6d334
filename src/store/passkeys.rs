//! Passkeys (webauthn-rs credentials as JSON) and WebAuthn ceremony state. A ceremony's
//! state is taken out of the table when it is used, so each challenge answers once.

use super::{Db, returned, returned_one};
use crate::error::AppResult;
use crate::{on_db, on_db_write};

/// A passkey as the user sees it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A stored credential: its row id and the webauthn-rs `Passkey` as JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPasskey {
    pub id: String,
    pub credential: String,
}

pub async fn list(db: &Db, user_id: &str) -> AppResult<Vec<PasskeyInfo>> {
    let sql = "SELECT id, name, created_at, last_used_at FROM passkeys WHERE user_id = $1 ORDER BY created_at, id";
    Ok(on_db!(db, p => sqlx::query_as::<_, PasskeyInfo>(sql).bind(user_id).fetch_all(p).await?))
}

pub async fn credentials(db: &Db, user_id: &str) -> AppResult<Vec<StoredPasskey>> {
    let sql = "SELECT id, credential FROM passkeys WHERE user_id = $1 ORDER BY created_at, id";
    Ok(on_db!(db, p => sqlx::query_as::<_, StoredPasskey>(sql).bind(user_id).fetch_all(p).await?))
}

/// Adds a credential. A credential id registered before (to anyone) is a unique violation.
pub async fn insert(
    db: &Db,
    user_id: &str,
    name: &str,
    credential_id: &str,
    credential: &str,
    now: i64,
) -> AppResult<PasskeyInfo> {
    let id = crate::crypto::b64url(&crate::crypto::random_bytes::<12>());
    let sql = "INSERT INTO passkeys (id, user_id, name, credential_id, credential, created_at, last_used_at) \
               VALUES ($1, $2, $3, $4, $5, $6, NULL) RETURNING id, name, created_at, last_used_at";
    Ok(on_db_write!(db, p => returned_one(sqlx::query_as::<_, PasskeyInfo>(sql).bind(&id).bind(user_id).bind(name)
        .bind(credential_id).bind(credential).bind(now).fetch_all(p).await?)?))
}

/// Records a use: the updated credential (signature counter, backup state) and the time.
pub async fn record_use(db: &Db, id: &str, credential: Option<&str>, now: i64) -> AppResult<()> {
    let sql = "UPDATE passkeys SET credential = COALESCE($2, credential), last_used_at = $3 WHERE id = $1";
    on_db_write!(db, p => sqlx::query(sql).bind(id).bind(credential).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn rename(db: &Db, user_id: &str, id: &str, name: &str) -> AppResult<Option<PasskeyInfo>> {
    let sql = "UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2 \
               RETURNING id, name, created_at, last_used_at";
    Ok(on_db_write!(db, p => returned(sqlx::query_as::<_, PasskeyInfo>(sql).bind(id).bind(user_id).bind(name)
        .fetch_all(p).await?)))
}

pub async fn delete(db: &Db, user_id: &str, id: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id).bind(user_id).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Stores ceremony state under `id`, replacing an earlier ceremony with the same id.
pub async fn put_challenge(
    db: &Db,
    id: &str,
    user_id: &str,
    purpose: &str,
    state: &str,
    expires_at: i64,
) -> AppResult<()> {
    let sql = "INSERT INTO webauthn_challenges (id, user_id, purpose, state, expires_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, purpose = excluded.purpose, \
               state = excluded.state, expires_at = excluded.expires_at";
    on_db_write!(db, p => sqlx::query(sql).bind(id).bind(user_id).bind(purpose).bind(state).bind(expires_at)
        .execute(p).await?.rows_affected());
    Ok(())
}

/// Takes ceremony state out: only the user's, for this purpose, and only before it expires.
/// A second take of the same id finds nothing.
pub async fn take_challenge(db: &Db, id: &str, user_id: &str, purpose: &str, now: i64) -> AppResult<Option<String>> {
    let sql = "DELETE FROM webauthn_challenges WHERE id = $1 AND user_id = $2 AND purpose = $3 \
               RETURNING state, expires_at";
    let row = on_db_write!(db, p => returned(sqlx::query_as::<_, (String, i64)>(sql).bind(id).bind(user_id).bind(purpose)
        .fetch_all(p).await?));
    Ok(row.filter(|(_, expires_at)| *expires_at > now).map(|(s, _)| s))
}

pub async fn purge_challenges(db: &Db, now: i64) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at <= $1").bind(now)
        .execute(p).await?.rows_affected());
    Ok(())
}
