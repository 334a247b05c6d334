//! Loading, generating and rotating signing keys in the database. Every node re-reads the
//! keys periodically, so a rotation done by the CLI reaches running servers without restart.

use std::sync::Arc;

use super::{KeyRing, MasterKey, SigningKey};
use crate::config::SigningAlg;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};

fn aad(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// Reads the published keys; `None` when there is no active key yet.
pub async fn load(db: &Db, mk: &MasterKey, now: i64) -> AppResult<Option<KeyRing>> {
    let rows = store::keys::find_published(db, now).await?;
    let mut active = None;
    let mut published = Vec::with_capacity(rows.len());
    for row in rows {
        let alg =
            SigningAlg::parse(&row.alg).ok_or_else(|| AppError::internal(format!("unknown key alg {}", row.alg)))?;
        let pkcs8 = mk.decrypt(&aad(&row.kid), &row.private_key).map_err(AppError::Internal)?;
        let key = Arc::new(SigningKey::from_pkcs8(row.kid.clone(), alg, &pkcs8).map_err(AppError::Internal)?);
        if row.retired_at.is_none() && active.is_none() {
            active = Some(key.clone());
        }
        published.push(key);
    }
    Ok(active.map(|a| KeyRing::new(a, published)))
}

/// Generates a key of `alg`, makes it the active one and retires the previous one, which
/// stays published for `retired_publish_seconds` so tokens it signed still verify.
pub async fn rotate(
    db: &Db,
    mk: &MasterKey,
    alg: SigningAlg,
    now: i64,
    retired_publish_seconds: i64,
) -> AppResult<String> {
    let (key, pkcs8) = tokio::task::spawn_blocking(move || SigningKey::generate(alg))
        .await
        .map_err(|e| AppError::internal(format!("key generation task: {e}")))?
        .map_err(AppError::Internal)?;
    let encrypted = mk.encrypt(&aad(&key.kid), &pkcs8);
    store::keys::insert_active(db, &key.kid, alg.as_str(), &encrypted, now, now + retired_publish_seconds).await?;
    Ok(key.kid.clone())
}

/// Loads the key ring, generating the first key on first start.
pub async fn load_or_init(
    db: &Db,
    mk: &MasterKey,
    alg: SigningAlg,
    now: i64,
    retired_publish_seconds: i64,
) -> AppResult<KeyRing> {
    if let Some(ring) = load(db, mk, now).await? {
        return Ok(ring);
    }
    let kid = rotate(db, mk, alg, now, retired_publish_seconds).await?;
    tracing::info!(%kid, alg = alg.as_str(), "generated the first signing key");
    load(db, mk, now).await?.ok_or_else(|| AppError::internal("signing key vanished after creation"))
}
