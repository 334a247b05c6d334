//! Out-of-band factors (a phone number for SMS, the account's email address) and the one-time
//! codes sent to them. A code is written with its outbox message in one transaction, so a
//! code exists exactly when its message is on its way.

use super::{Db, outbox::NewMessage, returned};
use crate::error::AppResult;
use crate::mfa::policy::Factor;
use crate::{on_db, on_db_write, queue_message};

/// A confirmed out-of-band factor.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OobFactor {
    pub id: String,
    pub user_id: String,
    kind: String,
    pub destination: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl OobFactor {
    pub fn kind(&self) -> Factor {
        Factor::parse(&self.kind).unwrap_or(Factor::Sms)
    }
}

macro_rules! factor_columns {
    () => {
        "id, user_id, kind, destination, created_at, last_used_at"
    };
}

pub async fn find(db: &Db, user_id: &str, kind: Factor) -> AppResult<Option<OobFactor>> {
    let sql = concat!("SELECT ", factor_columns!(), " FROM oob_factors WHERE user_id = $1 AND kind = $2");
    Ok(on_db!(db, p => sqlx::query_as::<_, OobFactor>(sql).bind(user_id).bind(kind.as_str()).fetch_optional(p).await?))
}

pub async fn list(db: &Db, user_id: &str) -> AppResult<Vec<OobFactor>> {
    let sql = concat!("SELECT ", factor_columns!(), " FROM oob_factors WHERE user_id = $1 ORDER BY created_at");
    Ok(on_db!(db, p => sqlx::query_as::<_, OobFactor>(sql).bind(user_id).fetch_all(p).await?))
}

pub async fn touch(db: &Db, id: &str, now: i64) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("UPDATE oob_factors SET last_used_at = $2 WHERE id = $1").bind(id).bind(now)
        .execute(p).await?.rows_affected());
    Ok(())
}

/// Removes the user's factor `id`; false when the user has no such factor.
pub async fn delete(db: &Db, user_id: &str, id: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query("DELETE FROM oob_factors WHERE id = $1 AND user_id = $2")
        .bind(id).bind(user_id).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Removes every out-of-band factor and outstanding code of the user (an MFA reset).
pub async fn delete_all(db: &Db, user_id: &str) -> AppResult<()> {
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM oob_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM oob_factors WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?
    });
    Ok(())
}

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves a new destination while it is being set up.
    Enroll,
    /// A second factor at sign-in, bound to the MFA transaction.
    Login,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Enroll => "enroll",
            Purpose::Login => "login",
        }
    }
}

/// A code about to be sent (its hash only).
pub struct NewCode<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub kind: Factor,
    pub purpose: Purpose,
    pub destination: &'a str,
    pub binding: &'a str,
    pub code_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Stores `code` (replacing the user's earlier one of its kind and purpose) and queues its
/// message, in one transaction.
pub async fn put_code(db: &Db, code: &NewCode<'_>, msg: &NewMessage) -> AppResult<()> {
    let sql = "INSERT INTO oob_codes (id, user_id, kind, purpose, destination, binding, code_hash, tries, created_at, \
               expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, NULL) \
               ON CONFLICT (user_id, kind, purpose) DO UPDATE SET id = excluded.id, destination = excluded.destination, \
               binding = excluded.binding, code_hash = excluded.code_hash, tries = 0, created_at = excluded.created_at, \
               expires_at = excluded.expires_at, used_at = NULL";
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(sql)
            .bind(code.id)
            .bind(code.user_id)
            .bind(code.kind.as_str())
            .bind(code.purpose.as_str())
            .bind(code.destination)
            .bind(code.binding)
            .bind(code.code_hash)
            .bind(code.created_at)
            .bind(code.expires_at)
            .execute(&mut *tx)
            .await?;
        queue_message!(&mut *tx, msg);
        tx.commit().await?
    });
    Ok(())
}

/// The live code a guess is checked against, with one try already counted.
#[derive(Debug, sqlx::FromRow)]
pub struct Try {
    pub id: String,
    pub destination: String,
    pub code_hash: String,
}

/// Counts one try on the user's live code of `kind` and `purpose` bound to `binding`, before
/// the guess is compared (DESIGN §5: N simultaneous guesses never get more than `max_tries`
/// comparisons). `None`: no live code, or its tries are spent.
pub async fn take_try(
    db: &Db,
    user_id: &str,
    kind: Factor,
    purpose: Purpose,
    binding: &str,
    max_tries: i64,
    now: i64,
) -> AppResult<Option<Try>> {
    let sql = "UPDATE oob_codes SET tries = tries + 1 WHERE user_id = $1 AND kind = $2 AND purpose = $3 \
               AND binding = $4 AND used_at IS NULL AND expires_at > $5 AND tries < $6 \
               RETURNING id, destination, code_hash";
    Ok(returned(on_db_write!(db, p => sqlx::query_as::<_, Try>(sql).bind(user_id).bind(kind.as_str())
        .bind(purpose.as_str()).bind(binding).bind(now).bind(max_tries).fetch_all(p).await?)))
}

/// Uses code `id` up; true for the one request that did.
pub async fn consume(db: &Db, id: &str, now: i64) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query("UPDATE oob_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
        .bind(id).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Uses the set-up code `code_id` up and makes `destination` the user's factor of `kind`
/// (replacing an earlier one), in one transaction; an email factor also marks the address
/// verified. The factor takes the code's id, which the set-up answered as its `factor_id`.
/// `None` when the code was used meanwhile.
pub async fn confirm(
    db: &Db,
    user_id: &str,
    kind: Factor,
    destination: &str,
    code_id: &str,
    now: i64,
) -> AppResult<Option<OobFactor>> {
    let id = code_id;
    let upsert = concat!(
        "INSERT INTO oob_factors (id, user_id, kind, destination, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (user_id, kind) DO UPDATE SET id = excluded.id, destination = excluded.destination, \
         created_at = excluded.created_at, last_used_at = excluded.last_used_at RETURNING ",
        factor_columns!()
    );
    let factor = on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        let used = sqlx::query("UPDATE oob_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
            .bind(code_id).bind(now).execute(&mut *tx).await?.rows_affected();
        if used != 1 {
            None
        } else {
            let f = sqlx::query_as::<_, OobFactor>(upsert).bind(id).bind(user_id).bind(kind.as_str()).bind(destination)
                .bind(now).fetch_one(&mut *tx).await?;
            if kind == Factor::Email {
                sqlx::query("UPDATE users SET email_verified = TRUE WHERE id = $1 AND email = $2")
                    .bind(user_id).bind(destination).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Some(f)
        }
    });
    Ok(factor)
}

/// Sets (or clears) the factor the MFA page offers first.
pub async fn set_primary(db: &Db, user_id: &str, factor: Option<Factor>) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("UPDATE users SET primary_factor = $2 WHERE id = $1").bind(user_id)
        .bind(factor.map(Factor::as_str)).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn primary(db: &Db, user_id: &str) -> AppResult<Option<Factor>> {
    let v: Option<Option<String>> = on_db!(db, p => sqlx::query_scalar::<_, Option<String>>(
        "SELECT primary_factor FROM users WHERE id = $1").bind(user_id).fetch_optional(p).await?);
    Ok(v.flatten().as_deref().and_then(Factor::parse))
}

/// Drops codes that expired or were used more than a day ago.
pub async fn purge_codes(db: &Db, now: i64) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("DELETE FROM oob_codes WHERE expires_at < $1").bind(now - 86_400)
        .execute(p).await?.rows_affected());
    Ok(())
}
