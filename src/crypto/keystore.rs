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

/// Reads the published keys with the windows in which they sign; `None` when there is none.
pub async fn load(db: &Db, mk: &MasterKey, now: i64) -> AppResult<Option<KeyRing>> {
    let rows = store::keys::find_published(db, now).await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        let alg =
            SigningAlg::parse(&row.alg).ok_or_else(|| AppError::internal(format!("unknown key alg {}", row.alg)))?;
        let pkcs8 = mk.decrypt(&aad(&row.kid), &row.private_key).map_err(AppError::Internal)?;
        let key = Arc::new(SigningKey::from_pkcs8(row.kid.clone(), alg, &pkcs8).map_err(AppError::Internal)?);
        keys.push((key, row.activates_at.unwrap_or(row.created_at), row.retired_at));
    }
    Ok(KeyRing::with_windows(keys))
}

async fn generate(mk: &MasterKey, alg: SigningAlg) -> AppResult<(String, Vec<u8>)> {
    let (key, pkcs8) = tokio::task::spawn_blocking(move || SigningKey::generate(alg))
        .await
        .map_err(|e| AppError::internal(format!("key generation task: {e}")))?
        .map_err(AppError::Internal)?;
    let encrypted = mk.encrypt(&aad(&key.kid), &pkcs8);
    Ok((key.kid.clone(), encrypted))
}

/// Generates a key of `alg` that starts signing `activation_delay` seconds from now, when the
/// key it replaces stops; that one stays published for `retired_publish_seconds` more so the
/// tokens it signed still verify. Nodes re-read keys every `tokens.key_reload_seconds`, so a
/// delay of at least that puts the new key in every node's JWKS before any node signs with it.
pub async fn rotate(
    db: &Db,
    mk: &MasterKey,
    alg: SigningAlg,
    now: i64,
    activation_delay: i64,
    retired_publish_seconds: i64,
) -> AppResult<String> {
    let (kid, encrypted) = generate(mk, alg).await?;
    store::keys::insert_rotated(
        db,
        &kid,
        alg.as_str(),
        &encrypted,
        now,
        now + activation_delay,
        retired_publish_seconds,
    )
    .await?;
    Ok(kid)
}

/// Loads the key ring, generating the first key on first start. Nodes starting together on
/// an empty database agree on one key: whichever claims the first-key row makes it.
pub async fn load_or_init(db: &Db, mk: &MasterKey, alg: SigningAlg, now: i64) -> AppResult<KeyRing> {
    if let Some(ring) = load(db, mk, now).await? {
        return Ok(ring);
    }
    let (kid, encrypted) = generate(mk, alg).await?;
    if store::keys::insert_first(db, &kid, alg.as_str(), &encrypted, now).await? {
        tracing::info!(%kid, alg = alg.as_str(), "generated the first signing key");
    }
    load(db, mk, now).await?.ok_or_else(|| AppError::internal("no signing key after first start"))
}
