//! Signing keys, private halves encrypted under the master key.

use sqlx::FromRow;

use super::Db;
use crate::error::AppResult;
use crate::{on_db, on_db_write};

#[derive(Clone, FromRow)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub private_key: Vec<u8>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// Keys still published at `now`: the active one first, then retired ones not yet expired,
/// newest first.
pub async fn find_published(db: &Db, now: i64) -> AppResult<Vec<StoredKey>> {
    let sql = "SELECT kid, alg, private_key, created_at, retired_at, expires_at FROM signing_keys \
               WHERE expires_at IS NULL OR expires_at > $1 ORDER BY (retired_at IS NULL) DESC, created_at DESC, kid";
    Ok(on_db!(db, p => sqlx::query_as::<_, StoredKey>(sql).bind(now).fetch_all(p).await?))
}

/// Adds `kid` as the active key and retires the previous active one (published until
/// `retire_expires_at`), in one transaction.
pub async fn insert_active(
    db: &Db,
    kid: &str,
    alg: &str,
    encrypted: &[u8],
    now: i64,
    retire_expires_at: i64,
) -> AppResult<()> {
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1, expires_at = $2 WHERE retired_at IS NULL")
            .bind(now).bind(retire_expires_at).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO signing_keys (kid, alg, private_key, created_at, retired_at, expires_at) VALUES ($1, $2, $3, $4, NULL, NULL)")
            .bind(kid).bind(alg).bind(encrypted).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}
