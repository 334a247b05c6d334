//! SSO sessions and pending authorization requests. Both live in the database so that any
//! node can serve any request, and a logout on one node ends the session on all of them.

use sqlx::FromRow;

use super::{Db, returned, returned_one};
use crate::error::AppResult;
use crate::{on_db, on_db_write};

#[derive(Debug, Clone, FromRow)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub auth_time: i64,
    pub amr: String,
    pub acr: String,
    /// When a second factor was last verified in this session, and which.
    pub mfa_at: Option<i64>,
    pub mfa_factor: Option<String>,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub expires_at: i64,
    pub auth_time: i64,
    pub amr: &'a str,
    pub acr: &'a str,
    pub mfa_factor: Option<&'a str>,
}

macro_rules! columns {
    () => {
        "id, user_id, created_at, last_seen_at, expires_at, auth_time, amr, acr, mfa_at, mfa_factor"
    };
}

pub async fn create(db: &Db, s: &NewSession<'_>, now: i64) -> AppResult<Session> {
    let id = crate::crypto::b64url(&crate::crypto::random_bytes::<16>());
    let sql = concat!(
        "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, auth_time, amr, acr, mfa_at, mfa_factor) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, CASE WHEN $9 IS NULL THEN NULL ELSE $4 END, $9) RETURNING ",
        columns!()
    );
    Ok(on_db_write!(db, p => returned_one(sqlx::query_as::<_, Session>(sql)
        .bind(&id).bind(s.token_hash).bind(s.user_id).bind(now).bind(s.expires_at).bind(s.auth_time).bind(s.amr).bind(s.acr).bind(s.mfa_factor)
        .fetch_all(p).await?)?))
}

/// The live session for a cookie's token hash: not past its absolute expiry and not idle
/// longer than `idle_seconds`.
pub async fn find_live(db: &Db, token_hash: &str, now: i64, idle_seconds: i64) -> AppResult<Option<Session>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM sessions WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Session>(sql).bind(token_hash).bind(now).bind(now - idle_seconds)
        .fetch_optional(p).await?))
}

/// A live session by its public id.
pub async fn find_live_by_id(db: &Db, id: &str, now: i64, idle_seconds: i64) -> AppResult<Option<Session>> {
    let sql = concat!("SELECT ", columns!(), " FROM sessions WHERE id = $1 AND expires_at > $2 AND last_seen_at > $3");
    Ok(on_db!(db, p => sqlx::query_as::<_, Session>(sql).bind(id).bind(now).bind(now - idle_seconds)
        .fetch_optional(p).await?))
}

pub async fn touch(db: &Db, id: &str, now: i64) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1").bind(id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// Records a second factor verified in this session (step-up of an existing session).
pub async fn record_mfa(db: &Db, id: &str, factor: &str, now: i64) -> AppResult<Option<Session>> {
    let sql = concat!(
        "UPDATE sessions SET mfa_at = $3, mfa_factor = $2, last_seen_at = $3 WHERE id = $1 RETURNING ",
        columns!()
    );
    Ok(
        on_db_write!(db, p => returned(sqlx::query_as::<_, Session>(sql).bind(id).bind(factor).bind(now).fetch_all(p).await?)),
    )
}

pub async fn delete(db: &Db, id: &str) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn delete_for_user(db: &Db, user_id: &str) -> AppResult<u64> {
    Ok(
        on_db_write!(db, p => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(p).await?.rows_affected()),
    )
}

pub async fn delete_for_user_except(db: &Db, user_id: &str, keep: &str) -> AppResult<u64> {
    Ok(
        on_db_write!(db, p => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2").bind(user_id).bind(keep)
        .execute(p).await?.rows_affected()),
    )
}

/// Removes expired sessions and authorization requests (housekeeping, any node).
pub async fn purge_expired(db: &Db, now: i64, idle_seconds: i64) -> AppResult<()> {
    on_db_write!(db, p => {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now).bind(now - idle_seconds).execute(p).await?;
        sqlx::query("DELETE FROM auth_requests WHERE expires_at <= $1").bind(now).execute(p).await?;
    });
    Ok(())
}

/// A request waiting for the user to sign in: an OIDC authorization request, or a SAML
/// AuthnRequest (then `client_id` is the SP's entity ID, `redirect_uri` the ACS URL, `state`
/// the RelayState, `prompt` carries ForceAuthn (`login`) or IsPassive (`none`) and
/// `acr_values` the requested authentication context).
#[derive(Debug, Clone, FromRow)]
pub struct AuthRequest {
    pub id: String,
    pub app_id: String,
    /// `oidc` or `saml`.
    pub protocol: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
    /// The AuthnRequest's ID (`InResponseTo`); `None` for IdP-initiated SAML and for OIDC.
    pub saml_request_id: Option<String>,
    /// The NameID format a SAML request asked for (short name), when it asked for one the SP
    /// may have; `None`: the SP's registered format.
    pub saml_name_id_format: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl AuthRequest {
    pub fn is_saml(&self) -> bool {
        self.protocol == "saml"
    }
}

macro_rules! req_columns {
    () => {
        "id, app_id, protocol, client_id, redirect_uri, scope, state, nonce, code_challenge, prompt, max_age, login_hint, \
         acr_values, saml_request_id, saml_name_id_format, created_at, expires_at"
    };
}

pub async fn create_auth_request(db: &Db, r: &AuthRequest) -> AppResult<()> {
    on_db_write!(db, p => insert_auth_request(r, false).execute(p).await?.rows_affected());
    Ok(())
}

/// The statement storing `r`, for either database; `if_new` leaves a request already stored
/// (same id) as it is.
pub(crate) fn insert_auth_request<'q, DB: sqlx::Database>(
    r: &'q AuthRequest,
    if_new: bool,
) -> sqlx::query::Query<'static, DB, DB::Arguments>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    const SQL: &str = concat!(
        "INSERT INTO auth_requests (",
        req_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    );
    const IF_NEW: &str = concat!(
        "INSERT INTO auth_requests (",
        req_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO NOTHING"
    );
    sqlx::query(if if_new { IF_NEW } else { SQL })
        .bind(&r.id)
        .bind(&r.app_id)
        .bind(&r.protocol)
        .bind(&r.client_id)
        .bind(&r.redirect_uri)
        .bind(&r.scope)
        .bind(&r.state)
        .bind(&r.nonce)
        .bind(&r.code_challenge)
        .bind(&r.prompt)
        .bind(r.max_age)
        .bind(&r.login_hint)
        .bind(&r.acr_values)
        .bind(&r.saml_request_id)
        .bind(&r.saml_name_id_format)
        .bind(r.created_at)
        .bind(r.expires_at)
}

pub async fn find_auth_request(db: &Db, id: &str, now: i64) -> AppResult<Option<AuthRequest>> {
    let sql = concat!("SELECT ", req_columns!(), " FROM auth_requests WHERE id = $1 AND expires_at > $2");
    Ok(on_db!(db, p => sqlx::query_as::<_, AuthRequest>(sql).bind(id).bind(now).fetch_optional(p).await?))
}

/// Consumes the request: exactly one caller gets it back.
pub async fn take_auth_request(db: &Db, id: &str, now: i64) -> AppResult<Option<AuthRequest>> {
    let sql = concat!("DELETE FROM auth_requests WHERE id = $1 AND expires_at > $2 RETURNING ", req_columns!());
    Ok(on_db_write!(db, p => returned(sqlx::query_as::<_, AuthRequest>(sql).bind(id).bind(now).fetch_all(p).await?)))
}

pub async fn plugin_verdict(db: &Db, request_id: &str) -> AppResult<Option<String>> {
    let sql = "SELECT plugin_verdict FROM auth_requests WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, Option<String>>(sql).bind(request_id).fetch_optional(p).await?)
        .flatten())
}
