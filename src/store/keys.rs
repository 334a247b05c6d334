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
    /// When it starts signing; `None`: from `created_at`.
    pub activates_at: Option<i64>,
}

/// Keys still published at `now` (pending, active and retired-but-not-expired), newest first.
pub async fn find_published(db: &Db, now: i64) -> AppResult<Vec<StoredKey>> {
    let sql = "SELECT kid, alg, private_key, created_at, retired_at, expires_at, activates_at FROM signing_keys \
               WHERE expires_at IS NULL OR expires_at > $1 ORDER BY COALESCE(activates_at, created_at) DESC, kid";
    Ok(on_db!(db, p => sqlx::query_as::<_, StoredKey>(sql).bind(now).fetch_all(p).await?))
}

/// Adds `kid`, signing from `activates_at`; whatever key signs now (or is pending) stops at
/// that instant and stays published until `activates_at + retired_publish_seconds`. One
/// transaction.
pub async fn insert_rotated(
    db: &Db,
    kid: &str,
    alg: &str,
    encrypted: &[u8],
    now: i64,
    activates_at: i64,
    retired_publish_seconds: i64,
) -> AppResult<()> {
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1, expires_at = $2 WHERE retired_at IS NULL OR retired_at > $1")
            .bind(activates_at).bind(activates_at + retired_publish_seconds).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO signing_keys (kid, alg, private_key, created_at, retired_at, expires_at, activates_at) \
                     VALUES ($1, $2, $3, $4, NULL, NULL, $5)")
            .bind(kid).bind(alg).bind(encrypted).bind(now).bind(activates_at).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Adds the very first key, unless another node already did: false when it lost the race.
pub async fn insert_first(db: &Db, kid: &str, alg: &str, encrypted: &[u8], now: i64) -> AppResult<bool> {
    let won = on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        let claimed = sqlx::query("INSERT INTO signing_key_init (id) VALUES (1)").execute(&mut *tx).await;
        match claimed {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => false,
            Err(e) => Err::<bool, sqlx::Error>(e)?,
            Ok(_) => {
                sqlx::query("INSERT INTO signing_keys (kid, alg, private_key, created_at, retired_at, expires_at, activates_at) \
                             VALUES ($1, $2, $3, $4, NULL, NULL, $4)")
                    .bind(kid).bind(alg).bind(encrypted).bind(now).execute(&mut *tx).await?;
                tx.commit().await?;
                true
            }
        }
    });
    Ok(won)
}
