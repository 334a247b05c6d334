//! SSO sessions and pending authorization requests. Both live in the database so that any
//! node can serve any request, and a logout on one node ends the session on all of them.

use sqlx::FromRow;

use super::{Db, returned};
use crate::error::{AppError, AppResult};
use crate::login::request::{Answer, LoginRequest, OidcAnswer, SamlAnswer, Wants};
use crate::mfa::assurance::Assurance;
use crate::store::apps::Protocol;
use crate::store::grants::{Grant, NewCode};
use crate::{on_db, on_db_write};

#[derive(Debug, Clone, FromRow)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub auth_time: i64,
    /// The methods the session began with (RFC 8176 words, space-separated).
    pub amr: String,
    /// The assurance the session began with (`Assurance`'s stored name; older rows hold the
    /// OIDC `acr` value). Tokens compute their own `acr` from the factor.
    pub acr: String,
    /// When a second factor was last verified in this session, and which.
    pub mfa_at: Option<i64>,
    pub mfa_factor: Option<String>,
    /// The client address and User-Agent of the sign-in that began it.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub expires_at: i64,
    pub auth_time: i64,
    pub amr: &'a str,
    pub acr: &'a str,
    pub mfa_factor: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

macro_rules! columns {
    () => {
        "id, user_id, created_at, last_seen_at, expires_at, auth_time, amr, acr, mfa_at, mfa_factor, ip, user_agent"
    };
}

/// A sign-in's writes, committed together: the browser's previous session ends, the new one
/// begins, where the user came from is remembered, the audit record is written, the right
/// password's attempt budgets are settled and, for a waiting authorization request, the
/// request is consumed and its grant and code written. A
/// crash or a failure leaves none of it; a request consumed meanwhile leaves none of it but
/// the audit record.
pub struct SignIn<'a> {
    /// The new session's public id (`new_id`), which the grant names.
    pub id: &'a str,
    /// The token hash of the session cookie the browser came with: that session ends (no
    /// session fixation), whoever's it was.
    pub previous: Option<&'a str>,
    pub session: NewSession<'a>,
    /// Where the user signed in from: `(kind, value hash)`.
    pub sightings: &'a [(&'a str, &'a str)],
    pub audit: super::audit::Event<'a>,
    /// The id of the waiting request this sign-in answers, consumed here, once.
    pub request: Option<&'a str>,
    /// The grant and code that answer it (OIDC).
    pub code: Option<(&'a Grant, NewCode<'a>)>,
    /// The attempt budgets of the right password this sign-in follows, settled in its commit
    /// whether or not the request was still waiting (the password was right either way).
    pub settle: Option<super::audit::Settlement<'a>>,
}

/// A new session's public id.
pub fn new_id() -> String {
    crate::crypto::b64url(&crate::crypto::random_bytes::<16>())
}

/// Writes a sign-in (see `SignIn`) in one commit: on PostgreSQL one statement (one round
/// trip), on SQLite one batch of statements in a transaction on the writer (three trips to its
/// thread: begin, the batch, commit; the batch's numbered parameters are the same for every
/// statement in it). Returns the new session, or `None` when the request was no longer
/// waiting (then nothing was written but the settlement: a sign-in that lost the race for its
/// request is no sign-in, and its `login.success` is not on record).
#[rustfmt::skip]
pub async fn sign_in(db: &Db, s: &SignIn<'_>, now: i64) -> AppResult<Option<Session>> {
    // `$1` the request (NULL: none), `$2` now, `$3` the previous session's token hash, `$4` to
    // `$13` the session, `$14` the sightings as JSON `[[kind, hash], …]`, `$15` to `$20` the
    // audit record, `$21` to `$30` the grant (NULL: none), `$31` to `$34` its code, `$35` and
    // `$36` the settlement's keys to clear and to release (JSON arrays; NULL: none).
    //
    // SQLite: the writer is the only one, so the request found waiting by the first statements
    // is the one the last takes; every write waits for it.
    const SQLITE: &str = "\
        DELETE FROM sessions WHERE token_hash = $3 \
          AND ($1 IS NULL OR EXISTS (SELECT 1 FROM auth_requests WHERE id = $1 AND expires_at > $2)); \
        INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, auth_time, amr, acr, mfa_at, mfa_factor, ip, user_agent) \
          SELECT $4, $5, $6, $2, $2, $7, $8, $9, $10, CASE WHEN $11 IS NULL THEN NULL ELSE $2 END, $11, $12, $13 \
          WHERE $1 IS NULL OR EXISTS (SELECT 1 FROM auth_requests WHERE id = $1 AND expires_at > $2); \
        INSERT INTO user_sightings (user_id, kind, value_hash, first_seen_at, last_seen_at) \
          SELECT $6, value ->> 0, value ->> 1, $2, $2 FROM json_each($14) \
          WHERE $1 IS NULL OR EXISTS (SELECT 1 FROM auth_requests WHERE id = $1 AND expires_at > $2) \
          ON CONFLICT (user_id, kind, value_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at; \
        INSERT INTO grants (id, client_id, user_id, session_id, scope, nonce, auth_time, amr, acr, created_at, revoked_at) \
          SELECT $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, NULL \
          WHERE $21 IS NOT NULL AND ($1 IS NULL OR EXISTS (SELECT 1 FROM auth_requests WHERE id = $1 AND expires_at > $2)); \
        INSERT INTO auth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at, used_at) \
          SELECT $31, $21, $32, $33, $34, NULL \
          WHERE $21 IS NOT NULL AND ($1 IS NULL OR EXISTS (SELECT 1 FROM auth_requests WHERE id = $1 AND expires_at > $2)); \
        INSERT INTO audit_log (at, event, user_id, actor_id, app_id, ip, detail) SELECT $2, $15, $16, $17, $18, $19, $20 \
          WHERE $1 IS NULL OR EXISTS (SELECT 1 FROM auth_requests WHERE id = $1 AND expires_at > $2); \
        DELETE FROM rate_limits WHERE key IN (SELECT value FROM json_each($35)) \
          AND (locked_until IS NULL OR locked_until <= $2); \
        UPDATE rate_limits SET failures = failures - 1 WHERE key IN (SELECT value FROM json_each($36)) AND failures > 0; \
        DELETE FROM auth_requests WHERE id = $1 AND expires_at > $2 RETURNING 1";
    // PostgreSQL: every part only once the request is taken (`go` has its row when there is
    // none to take).
    const POSTGRES: &str = "WITH taken AS (DELETE FROM auth_requests WHERE id = $1 AND expires_at > $2 RETURNING id), \
         go AS (SELECT 1 AS one WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM taken)), \
         prev AS (DELETE FROM sessions WHERE token_hash = $3 AND EXISTS (SELECT 1 FROM go)), \
         s AS (INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, auth_time, amr, acr, mfa_at, mfa_factor, ip, user_agent) \
               SELECT $4, $5, $6, $2, $2, $7, $8, $9, $10, CASE WHEN $11::text IS NULL THEN NULL ELSE $2 END, $11, $12, $13 FROM go), \
         seen AS (INSERT INTO user_sightings (user_id, kind, value_hash, first_seen_at, last_seen_at) \
               SELECT $6, e ->> 0, e ->> 1, $2, $2 FROM go, json_array_elements($14::json) AS e \
               ON CONFLICT (user_id, kind, value_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at), \
         audit AS (INSERT INTO audit_log (at, event, user_id, actor_id, app_id, ip, detail) SELECT $2, $15, $16, $17, $18, $19, $20 FROM go), \
         g AS (INSERT INTO grants (id, client_id, user_id, session_id, scope, nonce, auth_time, amr, acr, created_at, revoked_at) \
               SELECT $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, NULL FROM go WHERE $21::text IS NOT NULL), \
         c AS (INSERT INTO auth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at, used_at) \
               SELECT $31, $21, $32, $33, $34, NULL FROM go WHERE $21::text IS NOT NULL), \
         cleared AS (DELETE FROM rate_limits WHERE key IN (SELECT json_array_elements_text($35::json)) \
               AND (locked_until IS NULL OR locked_until <= $2)), \
         released AS (UPDATE rate_limits SET failures = failures - 1 \
               WHERE key IN (SELECT json_array_elements_text($36::json)) AND failures > 0) \
         SELECT 1 FROM go";
    let (id, n, a) = (s.id, &s.session, &s.audit);
    let sightings = serde_json::to_string(s.sightings).map_err(|e| AppError::internal(e.to_string()))?;
    let (grant, code) = (s.code.as_ref().map(|c| c.0), s.code.as_ref().map(|c| &c.1));
    let (clear, release) = s.settle.map(|t| t.json()).transpose()?.unzip();
    macro_rules! bound {
        ($q:expr) => {
            $q.bind(s.request).bind(now).bind(s.previous)
                .bind(id).bind(n.token_hash).bind(n.user_id).bind(n.expires_at).bind(n.auth_time).bind(n.amr)
                .bind(n.acr).bind(n.mfa_factor).bind(n.ip).bind(n.user_agent)
                .bind(&sightings)
                .bind(a.event).bind(a.user_id).bind(a.actor_id).bind(a.app_id).bind(a.ip).bind(a.detail)
                .bind(grant.map(|g| &g.id)).bind(grant.map(|g| &g.client_id)).bind(grant.map(|g| &g.user_id))
                .bind(grant.and_then(|g| g.session_id.as_ref())).bind(grant.map(|g| &g.scope))
                .bind(grant.and_then(|g| g.nonce.as_ref())).bind(grant.map(|g| g.auth_time))
                .bind(grant.map(|g| &g.amr)).bind(grant.map(|g| &g.acr)).bind(grant.map(|g| g.created_at))
                .bind(code.map(|c| c.code_hash)).bind(code.map(|c| c.redirect_uri))
                .bind(code.and_then(|c| c.code_challenge)).bind(code.map(|c| c.expires_at))
                .bind(&clear).bind(&release)
        };
    }
    let went = match db {
        Db::Sqlite(sqlite) => {
            let _gate = sqlite.lock_writer().await;
            let mut tx = sqlite.writer.begin().await?;
            let taken = bound!(sqlx::query_scalar::<_, i64>(SQLITE)).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            s.request.is_none() || !taken.is_empty()
        }
        Db::Postgres(pg) => {
            let go = crate::retry_pg!(&pg.pool, p, {
                bound!(sqlx::query_scalar::<_, i32>(POSTGRES)).fetch_all(p).await?
            }, crate::store::Statement::Write);
            !go.is_empty()
        }
    };
    Ok(went.then(|| Session {
        id: id.to_owned(),
        user_id: n.user_id.to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: n.expires_at,
        auth_time: n.auth_time,
        amr: n.amr.to_owned(),
        acr: n.acr.to_owned(),
        mfa_at: n.mfa_factor.map(|_| now),
        mfa_factor: n.mfa_factor.map(str::to_owned),
        ip: n.ip.map(str::to_owned),
        user_agent: n.user_agent.map(str::to_owned),
    }))
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

/// A user's live sessions (not expired), the most recently seen first.
pub async fn list_for_user(db: &Db, user_id: &str, now: i64) -> AppResult<Vec<Session>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC LIMIT 100"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Session>(sql).bind(user_id).bind(now).fetch_all(p).await?))
}

/// Ends one session of a user; false when the user has no such session.
pub async fn delete_of_user(db: &Db, user_id: &str, id: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2").bind(id)
        .bind(user_id).execute(p).await?.rows_affected());
    Ok(n == 1)
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

/// A waiting login request's row: the typed wants in columns of their own, the answer in the
/// protocol's columns (an SP's entity ID in `client_id`, the ACS in `redirect_uri`, the
/// RelayState in `state`). Mapped to and from `LoginRequest` here and nowhere else.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct RequestRow {
    pub(crate) id: String,
    app_id: String,
    protocol: Protocol,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: Option<String>,
    max_age: Option<i64>,
    login_hint: Option<String>,
    acr_values: Option<String>,
    saml_request_id: Option<String>,
    saml_name_id_format: Option<String>,
    saml_requested: Option<String>,
    assurance: Assurance,
    reauthenticate: bool,
    passive: bool,
    created_at: i64,
    expires_at: i64,
}

impl RequestRow {
    pub(crate) fn of(r: &LoginRequest) -> RequestRow {
        let w = &r.wants;
        let mut row = RequestRow {
            id: r.id.clone(),
            app_id: r.app_id.clone(),
            protocol: match r.answer {
                Answer::Oidc(_) => Protocol::Oidc,
                Answer::Saml(_) => Protocol::Saml,
            },
            client_id: String::new(),
            redirect_uri: String::new(),
            scope: String::new(),
            state: None,
            nonce: None,
            code_challenge: None,
            prompt: None,
            max_age: w.max_age,
            login_hint: w.login_hint.clone(),
            acr_values: None,
            saml_request_id: None,
            saml_name_id_format: None,
            saml_requested: None,
            assurance: w.assurance,
            reauthenticate: w.reauthenticate,
            passive: w.passive,
            created_at: r.created_at,
            expires_at: r.expires_at,
        };
        match &r.answer {
            Answer::Oidc(a) => {
                row.client_id = a.client_id.clone();
                row.redirect_uri = a.redirect_uri.clone();
                row.scope = a.scope.clone();
                row.state = a.state.clone();
                row.nonce = a.nonce.clone();
                row.code_challenge = a.code_challenge.clone();
                row.prompt = a.prompt.clone();
                row.acr_values = a.acr_values.clone();
            }
            Answer::Saml(a) => {
                row.client_id = a.sp_entity_id.clone();
                row.redirect_uri = a.acs.clone();
                row.state = a.relay_state.clone();
                row.saml_request_id = a.in_response_to.clone();
                row.saml_name_id_format = a.name_id_format.clone();
                row.saml_requested = Some(a.requested.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(" "))
                    .filter(|s| !s.is_empty());
            }
        }
        row
    }

    fn into_request(self) -> AppResult<LoginRequest> {
        let bad = |what: &str| AppError::internal(format!("auth request {}: {what}", self.id));
        let assurance = self.assurance;
        let answer = match self.protocol {
            Protocol::Oidc => Answer::Oidc(OidcAnswer {
                client_id: self.client_id,
                redirect_uri: self.redirect_uri,
                state: self.state,
                nonce: self.nonce,
                code_challenge: self.code_challenge,
                scope: self.scope,
                acr_values: self.acr_values,
                prompt: self.prompt,
            }),
            Protocol::Saml => {
                let requested =
                    self.saml_requested.as_deref().unwrap_or("").split_ascii_whitespace().map(Assurance::parse);
                Answer::Saml(SamlAnswer {
                    sp_entity_id: self.client_id,
                    acs: self.redirect_uri,
                    relay_state: self.state,
                    in_response_to: self.saml_request_id,
                    name_id_format: self.saml_name_id_format,
                    requested: requested.collect::<Option<_>>().ok_or_else(|| bad("unknown requested level"))?,
                })
            }
        };
        Ok(LoginRequest {
            id: self.id,
            app_id: self.app_id,
            wants: Wants {
                assurance,
                max_age: self.max_age,
                reauthenticate: self.reauthenticate,
                passive: self.passive,
                login_hint: self.login_hint,
            },
            answer,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

macro_rules! req_columns {
    () => {
        "id, app_id, protocol, client_id, redirect_uri, scope, state, nonce, code_challenge, prompt, max_age, login_hint, \
         acr_values, saml_request_id, saml_name_id_format, saml_requested, assurance, reauthenticate, passive, created_at, \
         expires_at"
    };
}

/// Stores a request waiting for its login. On PostgreSQL its commit does not wait for the
/// WAL to reach the disk (`synchronous_commit` off for this one statement's transaction): a
/// crash of the database in the next few hundred milliseconds may lose the request, and the
/// user then starts the login again; nothing issued depends on it, since every write that
/// consumes it commits synchronously and so flushes it first. Every other write keeps the
/// server's setting.
pub async fn create_auth_request(db: &Db, r: &LoginRequest) -> AppResult<()> {
    let row = RequestRow::of(r);
    on_db_write!(db, p => insert_auth_request(&row, Insert::Waiting).execute(p).await?.rows_affected());
    Ok(())
}

/// How `insert_auth_request` stores its row.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Insert {
    /// A new request waiting for its login (see `create_auth_request`).
    Waiting,
    /// Inside a caller's transaction; a request already stored (same id) stays as it is.
    IfNew,
}

/// The statement storing a request's row, for either database.
pub(crate) fn insert_auth_request<'q, DB: sqlx::Database>(
    r: &'q RequestRow,
    how: Insert,
) -> sqlx::query::Query<'static, DB, DB::Arguments>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Protocol: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Assurance: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    // `set_config(…, true)` holds for the statement's own transaction only: the connection
    // goes back to the pool with the server's setting. (SQLite's commits follow
    // `sqlite_synchronous`, whose NORMAL already leaves the syncing to the checkpoint.)
    const WAITING_PG: &str = concat!(
        "INSERT INTO auth_requests (",
        req_columns!(),
        ") SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21 \
         FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
    );
    const WAITING: &str = concat!(
        "INSERT INTO auth_requests (",
        req_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
    );
    const IF_NEW: &str = concat!(
        "INSERT INTO auth_requests (",
        req_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
         ON CONFLICT (id) DO NOTHING"
    );
    let sql = match how {
        Insert::IfNew => IF_NEW,
        Insert::Waiting if DB::NAME == "PostgreSQL" => WAITING_PG,
        Insert::Waiting => WAITING,
    };
    sqlx::query(sql)
        .bind(&r.id)
        .bind(&r.app_id)
        .bind(r.protocol)
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
        .bind(&r.saml_requested)
        .bind(r.assurance)
        .bind(r.reauthenticate)
        .bind(r.passive)
        .bind(r.created_at)
        .bind(r.expires_at)
}

pub async fn find_auth_request(db: &Db, id: &str, now: i64) -> AppResult<Option<LoginRequest>> {
    let sql = concat!("SELECT ", req_columns!(), " FROM auth_requests WHERE id = $1 AND expires_at > $2");
    let row = on_db!(db, p => sqlx::query_as::<_, RequestRow>(sql).bind(id).bind(now).fetch_optional(p).await?);
    row.map(RequestRow::into_request).transpose()
}

/// A waiting request and the name of the app it is for, in one read (the login page shows
/// both); `None` when the request is unknown or expired. The name is `None` only if the app
/// was removed while the request waited.
pub async fn find_auth_request_with_app_name(
    db: &Db,
    id: &str,
    now: i64,
) -> AppResult<Option<(LoginRequest, Option<String>)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        request: RequestRow,
        app_name: Option<String>,
    }
    let sql = concat!(
        "SELECT ",
        req_columns!(),
        ", (SELECT a.name FROM apps a WHERE a.id = auth_requests.app_id) AS app_name \
         FROM auth_requests WHERE id = $1 AND expires_at > $2"
    );
    let row = on_db!(db, p => sqlx::query_as::<_, Row>(sql).bind(id).bind(now).fetch_optional(p).await?);
    row.map(|r| Ok((r.request.into_request()?, r.app_name))).transpose()
}

/// Consumes the request: exactly one caller gets it back.
pub async fn take_auth_request(db: &Db, id: &str, now: i64) -> AppResult<Option<LoginRequest>> {
    let sql = concat!("DELETE FROM auth_requests WHERE id = $1 AND expires_at > $2 RETURNING ", req_columns!());
    let row =
        on_db_write!(db, p => returned(sqlx::query_as::<_, RequestRow>(sql).bind(id).bind(now).fetch_all(p).await?));
    row.map(RequestRow::into_request).transpose()
}
