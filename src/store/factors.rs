//! Second factors: TOTP credentials, backup codes and passkeys.

use super::Db;
use crate::error::AppResult;
use crate::mfa::policy::Enrolled;
use crate::{on_db, on_db_write};

/// What the user has enrolled, in one round trip.
pub async fn enrolled(db: &Db, user_id: &str) -> AppResult<Enrolled> {
    let sql = "SELECT \
        (SELECT COUNT(*) FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL), \
        (SELECT COUNT(*) FROM passkeys WHERE user_id = $1), \
        (SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL), \
        (SELECT COUNT(*) FROM oob_factors WHERE user_id = $1 AND kind = 'sms'), \
        (SELECT COUNT(*) FROM oob_factors WHERE user_id = $1 AND kind = 'email')";
    let (t, p, b, sms, email) =
        on_db!(db, p => sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(sql).bind(user_id).fetch_one(p).await?);
    Ok(Enrolled { totp: t > 0, passkeys: p as usize, backup_codes: b as usize, sms: sms > 0, email: email > 0 })
}

#[derive(sqlx::FromRow)]
pub struct TotpRow {
    pub secret: Vec<u8>,
    pub confirmed_at: Option<i64>,
    pub last_used_step: Option<i64>,
    pub created_at: i64,
    /// A new secret waiting for its first code, beside a confirmed one (recovery).
    pub replacement: Option<Vec<u8>>,
    pub replacement_created_at: Option<i64>,
}

impl std::fmt::Debug for TotpRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRow").field("confirmed_at", &self.confirmed_at).finish_non_exhaustive()
    }
}

pub async fn find_totp(db: &Db, user_id: &str) -> AppResult<Option<TotpRow>> {
    let sql = "SELECT secret, confirmed_at, last_used_step, created_at, replacement, replacement_created_at \
               FROM totp_credentials WHERE user_id = $1";
    Ok(on_db!(db, p => sqlx::query_as::<_, TotpRow>(sql).bind(user_id).fetch_optional(p).await?))
}

/// Starts (or restarts) an enrolment: an unconfirmed secret. A confirmed credential is kept;
/// returns false then.
pub async fn put_pending_totp(db: &Db, user_id: &str, encrypted: &[u8], now: i64) -> AppResult<bool> {
    let sql = "INSERT INTO totp_credentials (user_id, secret, confirmed_at, last_used_step, created_at) \
               VALUES ($1, $2, NULL, NULL, $3) \
               ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at \
               WHERE totp_credentials.confirmed_at IS NULL";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(user_id).bind(encrypted).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Accepts time step `step` exactly once (RFC 6238 §5.2): succeeds only when it is later than
/// every step accepted before, in one statement, so parallel requests cannot both win.
/// `confirm` also marks a pending enrolment as confirmed.
pub async fn accept_totp_step(db: &Db, user_id: &str, step: i64, confirm: bool, now: i64) -> AppResult<bool> {
    let sql = "UPDATE totp_credentials SET last_used_step = $2, \
               confirmed_at = CASE WHEN $3 THEN COALESCE(confirmed_at, $4) ELSE confirmed_at END \
               WHERE user_id = $1 AND (last_used_step IS NULL OR last_used_step < $2) \
               AND (confirmed_at IS NOT NULL OR $3)";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(user_id).bind(step).bind(confirm).bind(now)
        .execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Puts a new secret beside the confirmed credential (a recovery session), to replace it once
/// a code for it is right. False when there is no confirmed credential.
pub async fn put_replacement_totp(db: &Db, user_id: &str, encrypted: &[u8], now: i64) -> AppResult<bool> {
    let sql = "UPDATE totp_credentials SET replacement = $2, replacement_created_at = $3 \
               WHERE user_id = $1 AND confirmed_at IS NOT NULL";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(user_id).bind(encrypted).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Makes the waiting replacement the credential, its time step `step` accepted, in one
/// statement: exactly one of simultaneous confirmations wins.
pub async fn confirm_replacement_totp(db: &Db, user_id: &str, step: i64, now: i64) -> AppResult<bool> {
    let sql = "UPDATE totp_credentials SET secret = replacement, replacement = NULL, replacement_created_at = NULL, \
               confirmed_at = $3, created_at = $3, last_used_step = $2 \
               WHERE user_id = $1 AND replacement IS NOT NULL";
    let n =
        on_db_write!(db, p => sqlx::query(sql).bind(user_id).bind(step).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Removes every factor of a user set up before `before` (a recovery replaced them) and their
/// backup codes, in one transaction. Returns how many went.
pub async fn delete_older_than(db: &Db, user_id: &str, before: i64) -> AppResult<u64> {
    Ok(on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        let mut n = 0;
        for sql in [
            "DELETE FROM totp_credentials WHERE user_id = $1 AND created_at < $2",
            "DELETE FROM passkeys WHERE user_id = $1 AND created_at < $2",
            "DELETE FROM oob_factors WHERE user_id = $1 AND created_at < $2",
            "DELETE FROM backup_codes WHERE user_id = $1 AND created_at < $2",
        ] {
            n += sqlx::query(sql).bind(user_id).bind(before).execute(&mut *tx).await?.rows_affected();
        }
        sqlx::query("UPDATE users SET primary_factor = NULL WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        n
    }))
}

pub async fn delete_totp(db: &Db, user_id: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1").bind(user_id)
        .execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Replaces the user's backup codes with a new set (hashes), in one transaction.
pub async fn replace_backup_codes(db: &Db, user_id: &str, hashes: &[String], now: i64) -> AppResult<()> {
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for h in hashes {
            sqlx::query("INSERT INTO backup_codes (code_hash, user_id, created_at, used_at) VALUES ($1, $2, $3, NULL)")
                .bind(h).bind(user_id).bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Uses a backup code once: true for exactly one caller.
pub async fn use_backup_code(db: &Db, user_id: &str, hash: &str, now: i64) -> AppResult<bool> {
    let sql = "UPDATE backup_codes SET used_at = $3 WHERE code_hash = $2 AND user_id = $1 AND used_at IS NULL";
    let n =
        on_db_write!(db, p => sqlx::query(sql).bind(user_id).bind(hash).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct BackupCodeStatus {
    pub remaining: i64,
    pub total: i64,
    pub generated_at: Option<i64>,
}

pub async fn backup_code_status(db: &Db, user_id: &str) -> AppResult<BackupCodeStatus> {
    let sql = "SELECT COUNT(*) FILTER (WHERE used_at IS NULL), COUNT(*), MAX(created_at) FROM backup_codes WHERE user_id = $1";
    let (remaining, total, generated_at) =
        on_db!(db, p => sqlx::query_as::<_, (i64, i64, Option<i64>)>(sql).bind(user_id).fetch_one(p).await?);
    Ok(BackupCodeStatus { remaining, total, generated_at })
}

pub async fn delete_backup_codes(db: &Db, user_id: &str) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn delete_passkeys(db: &Db, user_id: &str) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("DELETE FROM passkeys WHERE user_id = $1").bind(user_id).execute(p).await?.rows_affected());
    Ok(())
}

/// The user's factors with names and times, for selector plugins.
pub async fn details(db: &Db, user_id: &str) -> AppResult<Vec<FactorDetail>> {
    let sql = "SELECT 'totp', 'Authenticator app', created_at, last_used_step * 30, 1 FROM totp_credentials \
               WHERE user_id = $1 AND confirmed_at IS NOT NULL \
               UNION ALL SELECT 'passkey', name, created_at, last_used_at, 1 FROM passkeys WHERE user_id = $1 \
               UNION ALL SELECT kind, destination, created_at, last_used_at, 1 FROM oob_factors WHERE user_id = $1 \
               UNION ALL SELECT 'backup_code', 'Backup codes', MIN(created_at), MAX(used_at), \
               SUM(CASE WHEN used_at IS NULL THEN 1 ELSE 0 END) FROM backup_codes \
               WHERE user_id = $1 HAVING SUM(CASE WHEN used_at IS NULL THEN 1 ELSE 0 END) > 0";
    let rows = on_db!(db, p => sqlx::query_as::<_, (String, String, i64, Option<i64>, i64)>(sql).bind(user_id)
        .fetch_all(p).await?);
    Ok(rows
        .into_iter()
        .map(|(kind, name, created_at, last_used_at, count)| FactorDetail {
            // An out-of-band factor is named by its masked destination, never the whole of it.
            name: match kind.as_str() {
                "sms" => crate::delivery::mask_phone(&name),
                "email" => crate::delivery::mask_email(&name),
                _ => name,
            },
            kind,
            created_at,
            last_used_at,
            count,
        })
        .collect())
}

/// One enrolled factor (or the set of unused backup codes, `count` of them).
#[derive(Debug, Clone)]
pub struct FactorDetail {
    pub kind: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub count: i64,
}

/// What `enrolled` reports, from the details.
pub fn enrolled_from(details: &[FactorDetail]) -> Enrolled {
    let count = |kind: &str| details.iter().filter(|d| d.kind == kind).map(|d| d.count.max(0) as usize).sum::<usize>();
    Enrolled {
        totp: count("totp") > 0,
        passkeys: count("passkey"),
        backup_codes: count("backup_code"),
        sms: count("sms") > 0,
        email: count("email") > 0,
    }
}
