//! Grants (one per authorization), their authorization codes and refresh tokens. A grant is a
//! refresh-token family: revoking it kills every token issued from it (RFC 9700 §4.14.2).
//! Every single-use artefact is consumed by one conditional statement (an UPDATE of a code, a
//! refresh token's successor inserted under a unique index), so two concurrent
//! redemptions on any number of nodes yield exactly one winner.

use futures_util::future::BoxFuture;
use sqlx::{FromRow, PgConnection, SqliteConnection};

use super::group_commit::{PgGroupedWrite, SqliteGroupedWrite};
use super::users::Profile;
use super::{Db, returned};
use crate::crypto::Located;
use crate::error::AppResult;
use crate::{on_db, on_db_write, profile_columns};

#[derive(Debug, Clone, FromRow)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    pub acr: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

macro_rules! grant_columns {
    () => {
        "id, client_id, user_id, session_id, scope, nonce, auth_time, amr, acr, created_at, revoked_at"
    };
}

/// The grant's columns of `grants g` beside `profile_columns!()`, which supplies `user_id`.
macro_rules! grant_columns_beside_profile {
    () => {
        "g.id, g.client_id, g.session_id, g.scope, g.nonce, g.auth_time, g.amr, g.acr, g.created_at, g.revoked_at"
    };
}

pub struct NewCode<'a> {
    pub code_hash: &'a str,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
    pub expires_at: i64,
}

/// The grant's values, `$1` to `$10` of its insert.
macro_rules! grant_values {
    ($q:expr, $g:expr) => {
        $q.bind(&$g.id)
            .bind(&$g.client_id)
            .bind(&$g.user_id)
            .bind(&$g.session_id)
            .bind(&$g.scope)
            .bind(&$g.nonce)
            .bind($g.auth_time)
            .bind(&$g.amr)
            .bind(&$g.acr)
            .bind($g.created_at)
    };
}

/// Creates a grant and its authorization code together.
#[rustfmt::skip]
pub async fn create_with_code(db: &Db, g: &Grant, code: &NewCode<'_>) -> AppResult<()> {
    // PostgreSQL writes both rows in one statement (one trip where a transaction took four);
    // SQLite, without data-modifying CTEs, in one transaction on its writer.
    const POSTGRES: &str = concat!(
        "WITH g AS (INSERT INTO grants (",
        grant_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL) RETURNING id) \
         INSERT INTO auth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at, used_at) \
         SELECT $11, g.id, $12, $13, $14, NULL FROM g"
    );
    match db {
        Db::Sqlite(sqlite) => {
            let _gate = sqlite.lock_writer().await;
            let mut tx = sqlite.writer.begin().await?;
            insert_with_code(&mut tx, g, code).await?;
            tx.commit().await?;
        }
        Db::Postgres(pg) => {
            crate::retry_pg!(&pg.pool, p, {
                grant_values!(sqlx::query(POSTGRES), g)
                    .bind(code.code_hash).bind(code.redirect_uri).bind(code.code_challenge).bind(code.expires_at)
                    .execute(p).await?
            }, crate::store::Statement::Write);
        }
    }
    Ok(())
}

/// Writes a grant and its code on SQLite, in the caller's transaction (SQLite has no
/// data-modifying CTEs).
async fn insert_with_code(conn: &mut SqliteConnection, g: &Grant, code: &NewCode<'_>) -> sqlx::Result<()> {
    const GRANT: &str =
        concat!("INSERT INTO grants (", grant_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)");
    const CODE: &str = "INSERT INTO auth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at, used_at) \
                        VALUES ($1, $2, $3, $4, $5, NULL)";
    grant_values!(sqlx::query(GRANT), g).execute(&mut *conn).await?;
    sqlx::query(CODE)
        .bind(code.code_hash)
        .bind(&g.id)
        .bind(code.redirect_uri)
        .bind(code.code_challenge)
        .bind(code.expires_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What a rotation (and a code's redemption) returns on SQLite: the grant with its user's
/// profile and groups as one JSON object (`RefreshedObject`), the grant and the user each found
/// once by primary key from the written row's `$grant_id` (a subquery per column found them
/// sixteen times, on the one writer thread).
/// SQLite keeps booleans as 0 and 1; `json()` makes them JSON's own.
macro_rules! refreshed_of_token {
    ($grant_id:literal) => {
        concat!(
            ", (SELECT json_object('id', g.id, 'client_id', g.client_id, 'user_id', g.user_id, \
               'session_id', g.session_id, 'scope', g.scope, 'nonce', g.nonce, 'auth_time', g.auth_time, \
               'amr', g.amr, 'acr', g.acr, 'created_at', g.created_at, 'revoked_at', g.revoked_at, \
               'username', u.username, 'email', u.email, \
               'email_verified', json(iif(u.email_verified, 'true', 'false')), \
               'display_name', u.display_name, 'updated_at', u.updated_at, \
               'disabled', json(iif(u.disabled, 'true', 'false')), \
               'groups', (SELECT json_group_array(gr.name ORDER BY gr.name) FROM groups gr \
                 JOIN user_groups ug ON ug.group_id = gr.id WHERE ug.user_id = u.id)) \
             FROM grants g JOIN users u ON u.id = g.user_id WHERE g.id = ",
            $grant_id,
            ") AS refreshed"
        )
    };
}

/// `refreshed_of_token!` on PostgreSQL, as text: the same object, for the one statement that
/// returns it there (a code's redemption; rotations there return columns).
macro_rules! pg_refreshed_of {
    ($grant_id:literal) => {
        concat!(
            ", (SELECT json_build_object('id', g.id, 'client_id', g.client_id, 'user_id', g.user_id, \
               'session_id', g.session_id, 'scope', g.scope, 'nonce', g.nonce, 'auth_time', g.auth_time, \
               'amr', g.amr, 'acr', g.acr, 'created_at', g.created_at, 'revoked_at', g.revoked_at, \
               'username', u.username, 'email', u.email, 'email_verified', u.email_verified, \
               'display_name', u.display_name, 'updated_at', u.updated_at, 'disabled', u.disabled, \
               'groups', (SELECT COALESCE(json_agg(gr.name ORDER BY gr.name), '[]'::json) FROM groups gr \
                 JOIN user_groups ug ON ug.group_id = gr.id WHERE ug.user_id = u.id))::text \
             FROM grants g JOIN users u ON u.id = g.user_id WHERE g.id = ",
            $grant_id,
            ") AS refreshed"
        )
    };
}

#[derive(Debug, Clone, FromRow)]
pub struct RedeemedCode {
    pub grant_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
    /// The grant's state as of the redemption itself: a replay racing this request revokes
    /// the grant only after this statement, so the winner still gets (soon revoked) tokens,
    /// exactly as when the replay comes later.
    pub grant_revoked: bool,
    /// The row of the exchange's refresh token, stored with the redemption: there exactly when
    /// every check of `Exchange` held.
    pub refresh_id: Option<i64>,
    /// The grant with its user's profile and groups, as one JSON object (`RefreshedObject`).
    #[sqlx(rename = "refreshed")]
    granted: Option<String>,
}

pub enum CodeRedemption {
    /// First use: the caller may issue tokens (after checking client, redirect URI, PKCE),
    /// for the grant and profile read in the same statement.
    Fresh {
        code: RedeemedCode,
        granted: Box<Refreshed>,
    },
    /// Already used: the grant it belongs to (now to be revoked).
    Replayed {
        grant_id: String,
    },
    Unknown,
}

/// What a code exchange brings, checked by the statement that redeems the code: the refresh
/// token is stored with the redemption, in its commit, only when the code was issued to this
/// client for this redirect URI and this PKCE challenge, has not expired, and its grant and
/// user are still in force. The caller checks the same from the returned row to say which
/// failed; a refused exchange stores nothing but the code's use.
pub struct Exchange<'a> {
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    /// The S256 challenge of the verifier sent: `None` when none was sent; a value no
    /// challenge has (`NO_CHALLENGE`) when the one sent is malformed.
    pub challenge: Option<&'a str>,
    pub refresh_token_hash: &'a str,
    pub refresh_expires_at: i64,
}

/// Stands for a malformed verifier in `Exchange::challenge`: no stored challenge equals it.
pub const NO_CHALLENGE: &str = "!";

/// Marks the code used and reads its grant, the user's profile and groups in the same
/// statement (one trip to the database for what tokens need), storing the exchange's refresh
/// token in the same commit when its checks hold (see `Exchange`). Exactly one concurrent
/// caller sees `Fresh`.
pub async fn redeem_code(db: &Db, code_hash: &str, x: &Exchange<'_>, now: i64) -> AppResult<CodeRedemption> {
    // `$1` the code, `$2` now, `$3` the refresh token's hash, `$4` its expiry, `$5` the client,
    // `$6` the redirect URI, `$7` the verifier's challenge. SQLite runs two statements in one
    // transaction on its one writer (the token first, while the code is still unused; its row
    // is the connection's last insert if it was stored, and another row if not); on PostgreSQL
    // the token is one more part of the redemption's statement.
    const SQLITE: &str = concat!(
        "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) \
         SELECT $3, a.grant_id, $2, $4 FROM auth_codes a \
           JOIN grants g ON g.id = a.grant_id JOIN users u ON u.id = g.user_id \
         WHERE a.code_hash = $1 AND a.used_at IS NULL AND a.expires_at > $2 AND g.client_id = $5 \
           AND g.revoked_at IS NULL AND NOT u.disabled AND a.redirect_uri = $6 \
           AND a.code_challenge IS $7; \
         UPDATE auth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL \
         RETURNING grant_id, redirect_uri, code_challenge, expires_at, \
         (SELECT g.revoked_at IS NOT NULL FROM grants g WHERE g.id = auth_codes.grant_id) AS grant_revoked, \
         (SELECT r.id FROM refresh_tokens r WHERE r.id = last_insert_rowid() AND r.token_hash = $3) AS refresh_id",
        refreshed_of_token!("auth_codes.grant_id"),
    );
    const POSTGRES: &str = concat!(
        "WITH r AS (UPDATE auth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL \
           RETURNING grant_id, redirect_uri, code_challenge, expires_at), \
         stored AS (INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) \
           SELECT $3, r.grant_id, $2, $4 FROM r \
             JOIN grants g ON g.id = r.grant_id JOIN users u ON u.id = g.user_id \
           WHERE r.expires_at > $2 AND g.client_id = $5 AND g.revoked_at IS NULL AND NOT u.disabled \
             AND r.redirect_uri = $6::text AND r.code_challenge IS NOT DISTINCT FROM $7::text \
           RETURNING id) \
         SELECT grant_id, redirect_uri, code_challenge, expires_at, \
         (SELECT g.revoked_at IS NOT NULL FROM grants g WHERE g.id = r.grant_id) AS grant_revoked, \
         (SELECT id FROM stored) AS refresh_id",
        pg_refreshed_of!("r.grant_id"),
        " FROM r",
    );
    macro_rules! bound {
        ($q:expr) => {
            $q.bind(code_hash)
                .bind(now)
                .bind(x.refresh_token_hash)
                .bind(x.refresh_expires_at)
                .bind(x.client_id)
                .bind(x.redirect_uri)
                .bind(x.challenge)
        };
    }
    let fresh = match db {
        Db::Sqlite(sqlite) => {
            let _gate = sqlite.lock_writer().await;
            let mut tx = sqlite.writer.begin().await?;
            let rows = bound!(sqlx::query_as::<_, RedeemedCode>(SQLITE)).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            returned(rows)
        }
        Db::Postgres(pg) => {
            let query = || bound!(sqlx::query_as::<_, RedeemedCode>(POSTGRES));
            returned(crate::retry_pg!(&pg.pool, p, query().fetch_all(p).await?, crate::store::Statement::Write))
        }
    };
    if let Some(mut code) = fresh {
        // The grant and its user outlive their codes (foreign keys), so the object is there.
        let Some(object) = code.granted.take() else { return Ok(CodeRedemption::Unknown) };
        return Ok(CodeRedemption::Fresh { code, granted: Box::new(refreshed_of(&object)?) });
    }
    let used = on_db!(db, p => sqlx::query_scalar::<_, String>("SELECT grant_id FROM auth_codes WHERE code_hash = $1")
        .bind(code_hash).fetch_optional(p).await?);
    Ok(match used {
        Some(grant_id) => CodeRedemption::Replayed { grant_id },
        None => CodeRedemption::Unknown,
    })
}

/// Is the grant still in force? (Used on every userinfo and introspection call.)
pub async fn is_active(db: &Db, id: &str) -> AppResult<bool> {
    let sql = "SELECT revoked_at IS NULL FROM grants WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, bool>(sql).bind(id).fetch_optional(p).await?).unwrap_or(false))
}

pub async fn revoke(db: &Db, id: &str, now: i64) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// Revokes the grants bound to an SSO session that ends (logout), except `offline_access` ones.
pub async fn revoke_for_session(db: &Db, session_id: &str, now: i64) -> AppResult<()> {
    let sql = "UPDATE grants SET revoked_at = $2 WHERE session_id = $1 AND revoked_at IS NULL \
               AND ' ' || scope || ' ' NOT LIKE '% offline_access %'";
    on_db_write!(db, p => sqlx::query(sql).bind(session_id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn revoke_for_user(db: &Db, user_id: &str, now: i64) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("UPDATE grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// What a refresh response is built from, read by the statement that rotates the token: after
/// that commit nothing is read, so a refresh can no longer fail once its token is consumed (a
/// client that then retries with the consumed token would revoke its own family).
#[derive(Debug, Clone, FromRow)]
pub struct Refreshed {
    #[sqlx(flatten)]
    pub grant: Grant,
    #[sqlx(flatten)]
    pub user: Profile,
    /// The user's group names, sorted (aggregated to a JSON array by the statement).
    #[sqlx(json)]
    pub groups: Vec<String>,
}

/// `Refreshed` as SQLite's rotation returns it: one JSON object per rotated row
/// (`refreshed_of_token!`).
#[derive(serde::Deserialize)]
struct RefreshedObject {
    id: String,
    client_id: String,
    user_id: String,
    session_id: Option<String>,
    scope: String,
    nonce: Option<String>,
    auth_time: i64,
    amr: String,
    acr: String,
    created_at: i64,
    revoked_at: Option<i64>,
    username: String,
    email: Option<String>,
    email_verified: bool,
    display_name: Option<String>,
    updated_at: i64,
    disabled: bool,
    groups: Vec<String>,
}

impl From<RefreshedObject> for Refreshed {
    fn from(o: RefreshedObject) -> Refreshed {
        Refreshed {
            grant: Grant {
                id: o.id,
                client_id: o.client_id,
                user_id: o.user_id.clone(),
                session_id: o.session_id,
                scope: o.scope,
                nonce: o.nonce,
                auth_time: o.auth_time,
                amr: o.amr,
                acr: o.acr,
                created_at: o.created_at,
                revoked_at: o.revoked_at,
            },
            user: Profile {
                id: o.user_id,
                username: o.username,
                email: o.email,
                email_verified: o.email_verified,
                display_name: o.display_name,
                updated_at: o.updated_at,
                disabled: o.disabled,
            },
            groups: o.groups,
        }
    }
}

pub enum Rotation {
    /// The old token is consumed and its successor stored, atomically, as the row `id`.
    Rotated { id: i64, refreshed: Box<Refreshed> },
    /// The token was already used: reuse of a rotated token (RFC 9700 §4.14.2). The family
    /// has been revoked.
    Reused { grant_id: String },
    /// Unknown, expired, another client's, or its grant is revoked.
    Invalid,
}

/// A token may be replaced only if it is unused, unexpired, and its grant is this client's and
/// in force; a token presented by another client stays untouched for its owner. One text for
/// every statement that rotates (single or grouped, either backend), given where the
/// presented row's key and hash, the time and the client come from, so the rule cannot differ
/// between them. The presented token is the row `p`, found by its key; its hash must match.
/// That it has not been replaced yet is the successor's insert's to find: the unique index on
/// `parent_id` takes one successor per token (`ON CONFLICT (parent_id) DO NOTHING`), however
/// many statements race for it, on any number of nodes; `used_at` is set only on tokens of
/// the earlier form (migration 0021). The grant is read by its key from the token's row, as a
/// scalar subquery (the client of that grant if it is in force, compared with the presenting
/// client), never a join on the client: an `IN (SELECT id FROM grants WHERE client_id = …)`
/// made SQLite list every grant of the client on every refresh, and an `EXISTS` that
/// PostgreSQL turned into a semi-join let its planner match a group's entries with every grant
/// of their client before finding their tokens. An optional fifth argument adds a condition on
/// the token's key alone (`AND p.id …`).
macro_rules! consumable_refresh {
    ($id:literal, $hash:literal, $now:literal, $client:literal) => {
        consumable_refresh!($id, $hash, $now, $client, "")
    };
    ($id:literal, $hash:literal, $now:literal, $client:literal, $key_also:literal) => {
        concat!(
            " WHERE p.id = ",
            $id,
            $key_also,
            " AND p.token_hash = ",
            $hash,
            " AND p.used_at IS NULL AND p.expires_at > ",
            $now,
            " AND (SELECT g.client_id FROM grants g WHERE g.id = p.grant_id AND g.revoked_at IS NULL) = ",
            $client,
            " "
        )
    };
}

/// Whether the token `r` has been used: replaced by a successor, or (a token of the earlier
/// form) marked used.
macro_rules! refresh_used {
    () => {
        "(r.used_at IS NOT NULL OR EXISTS (SELECT 1 FROM refresh_tokens c WHERE c.parent_id = r.id))"
    };
}

/// The rows a rotation stored (`stored`: the successor's `id`, `token_hash` and `grant_id`),
/// each with its grant, the user's profile and groups, on PostgreSQL.
macro_rules! pg_stored_with_grant {
    () => {
        concat!(
            "SELECT s.id AS rotated_id, s.token_hash AS rotated_to, ",
            grant_columns_beside_profile!(),
            ", ",
            profile_columns!(),
            ", (SELECT COALESCE(json_agg(gr.name ORDER BY gr.name), '[]'::json) FROM groups gr \
               JOIN user_groups ug ON ug.group_id = gr.id WHERE ug.user_id = u.id) AS groups",
            " FROM stored s JOIN grants g ON g.id = s.grant_id JOIN users u ON u.id = g.user_id"
        )
    };
}

/// PostgreSQL stores the successor and reads the grant with its user's profile and groups in
/// one statement (one round trip, one atomic unit). `$1` the presented row, `$2` its hash,
/// `$3` now, `$4` the client, `$5` the successor's hash, `$6` its expiry.
const PG_ROTATE_REFRESH: &str = concat!(
    "WITH stored AS (INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, parent_id) \
       SELECT $5, p.grant_id, $3, $6, p.id FROM refresh_tokens p",
    consumable_refresh!("$1", "$2", "$3", "$4"),
    "ON CONFLICT (parent_id) DO NOTHING RETURNING id, token_hash, grant_id) ",
    pg_stored_with_grant!()
);

/// The same on SQLite, whose INSERT returns the grant and profile as one JSON object, by
/// primary-key lookups all. One statement is one atomic unit and one trip to the database
/// thread.
const SQLITE_ROTATE_REFRESH: &str = concat!(
    "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, parent_id) \
     SELECT $5, p.grant_id, $3, $6, p.id FROM refresh_tokens p",
    consumable_refresh!("$1", "$2", "$3", "$4"),
    "ON CONFLICT (parent_id) DO NOTHING RETURNING refresh_tokens.id, refresh_tokens.token_hash AS rotated_to",
    refreshed_of_token!("refresh_tokens.grant_id"),
);

/// A group of rotations as one statement (`group_commit`): the same rule as
/// `SQLITE_ROTATE_REFRESH`, for each entry of the JSON array `$1`
/// (`[{"id", "old", "new", "client", "now", "exp"}]`). `jsonb_each` hands each entry on in
/// SQLite's binary form, which `->>` reads as it is (`json_each` gives it back as text, which
/// every row then parsed again). A token named by two entries gets one successor (the second
/// insert meets the first in the unique index and does nothing), and the other entry finds
/// it used, as it would one after the other. Each stored row says which entry it was by its
/// new hash. Public for the test that reads its query plan.
pub const SQLITE_ROTATE_GROUP: &str = concat!(
    "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, parent_id) \
     SELECT j.new_hash, p.grant_id, j.now, j.expires_at, p.id \
     FROM (SELECT value ->> 'id' AS id, value ->> 'old' AS old_hash, value ->> 'new' AS new_hash, \
           value ->> 'client' AS client_id, value ->> 'now' AS now, value ->> 'exp' AS expires_at \
           FROM jsonb_each($1)) AS j, refresh_tokens p",
    consumable_refresh!("j.id", "j.old_hash", "j.now", "j.client_id"),
    "ON CONFLICT (parent_id) DO NOTHING RETURNING refresh_tokens.id, refresh_tokens.token_hash AS rotated_to",
    refreshed_of_token!("refresh_tokens.grant_id"),
);

/// A group of rotations as one statement on PostgreSQL: `PG_ROTATE_REFRESH` over the arrays
/// `$1` (presented rows), `$2` (their hashes), `$3` (new hashes), `$4` (clients), `$5` (times)
/// and `$6` (new expiries), one entry per rotation. A token named by two entries gets one
/// successor (the second insert meets the first in the unique index and does nothing), and
/// the other entry finds it used, as it would one after the other. Each stored row says which
/// entry it was by its new hash. Public for the test that reads its query plan.
pub const PG_ROTATE_GROUP: &str = concat!(
    "WITH j AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) \
       AS j(old_id, old_hash, new_hash, client_id, at_time, expires_at)), \
     stored AS (INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, parent_id) \
       SELECT j.new_hash, p.grant_id, j.at_time, j.expires_at, p.id FROM j, refresh_tokens p",
    // `= ANY($1)` besides the join: an index condition of the table alone, so even with no
    // statistics yet (a new database under a flood) the tokens are found by key, where the
    // join alone let the planner read the whole table into a hash.
    consumable_refresh!("j.old_id", "j.old_hash", "j.at_time", "j.client_id", " AND p.id = ANY($1::bigint[])"),
    "ON CONFLICT (parent_id) DO NOTHING RETURNING id, token_hash, grant_id) ",
    pg_stored_with_grant!()
);

/// Replaces the presented token (`presented`: its row and hash) with a successor of hash
/// `new_hash`, atomically; a reused token revokes its whole family. Nothing is half-written:
/// if storing the successor fails, the presented token stays usable.
pub async fn rotate_refresh_token(
    db: &Db,
    presented: &Located,
    new_hash: &str,
    client_id: &str,
    now: i64,
    new_expires_at: i64,
) -> AppResult<Rotation> {
    let rotate = GroupedRotation {
        old_id: presented.id,
        old_hash: presented.hash.clone(),
        new_hash: new_hash.to_owned(),
        client_id: client_id.to_owned(),
        now,
        new_expires_at,
    };
    // Rotations come in floods: on either backend they are committed in groups with the
    // others queued beside them (see `group_commit`).
    let rotated = match db {
        Db::Sqlite(s) => s.rotations.write(rotate).await?,
        Db::Postgres(p) => p.rotations.write(rotate).await?,
    };
    if let Some((id, refreshed)) = rotated {
        return Ok(Rotation::Rotated { id, refreshed: Box::new(refreshed) });
    }
    let sql =
        concat!("SELECT r.grant_id FROM refresh_tokens r WHERE r.id = $1 AND r.token_hash = $2 AND ", refresh_used!());
    let used = on_db!(db, p => sqlx::query_scalar::<_, String>(sql).bind(presented.id).bind(&presented.hash)
        .fetch_optional(p).await?);
    match used {
        Some(grant_id) => {
            revoke(db, &grant_id, now).await?;
            Ok(Rotation::Reused { grant_id })
        }
        None => Ok(Rotation::Invalid),
    }
}

/// One rotation, committed in a group with the others queued beside it.
pub struct GroupedRotation {
    old_id: i64,
    old_hash: String,
    new_hash: String,
    client_id: String,
    now: i64,
    new_expires_at: i64,
}

/// A stored successor on PostgreSQL: its row, the new hash that says whose it is, and what
/// the response is built from.
#[derive(FromRow)]
struct Rotated {
    rotated_id: i64,
    rotated_to: String,
    #[sqlx(flatten)]
    refreshed: Refreshed,
}

/// The `Refreshed` of a rotated row on SQLite.
fn refreshed_of(object: &str) -> Result<Refreshed, sqlx::Error> {
    let object: RefreshedObject = serde_json::from_str(object).map_err(|e| sqlx::Error::Decode(e.into()))?;
    Ok(object.into())
}

/// A row a rotation stored on SQLite (`SQLITE_ROTATE_REFRESH`, `SQLITE_ROTATE_GROUP`): its new
/// hash, the successor's row and what the response is built from (a JSON object,
/// `refreshed_of_token!`, read where it lies).
fn sqlite_rotated(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64, Refreshed)> {
    let object = row.get_ref(2)?.as_str()?;
    let refreshed = serde_json::from_str::<RefreshedObject>(object)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into()))?;
    Ok((row.get(1)?, row.get(0)?, refreshed.into()))
}

/// What one rotation yields: the successor's row and what the response is built from.
type RotationOutput = Option<(i64, Refreshed)>;

/// Each rotation's successor in a group statement's answer (rows of a new hash, the
/// successor's row and what it rotated to), in the group's order (`None` where its token was
/// not consumable).
fn by_new_hash(
    group: &[&GroupedRotation],
    rows: impl Iterator<Item = (String, i64, Refreshed)>,
) -> Vec<RotationOutput> {
    let mut rows: std::collections::HashMap<String, (i64, Refreshed)> =
        rows.map(|(hash, id, refreshed)| (hash, (id, refreshed))).collect();
    group.iter().map(|r| rows.remove(&r.new_hash)).collect()
}

/// One entry of SQLite's group statement's JSON input.
#[derive(serde::Serialize)]
struct GroupEntry<'a> {
    id: i64,
    old: &'a str,
    new: &'a str,
    client: &'a str,
    now: i64,
    exp: i64,
}

impl SqliteGroupedWrite for GroupedRotation {
    type Output = RotationOutput;

    fn run(&self, conn: &rusqlite::Connection) -> rusqlite::Result<RotationOutput> {
        // SQLite numbers `$N` parameters in the order they first appear, so they are bound by
        // name.
        let mut statement = conn.prepare_cached(SQLITE_ROTATE_REFRESH)?;
        let rows = statement.query_map(
            rusqlite::named_params! {
                "$1": self.old_id, "$2": self.old_hash, "$3": self.now,
                "$4": self.client_id, "$5": self.new_hash, "$6": self.new_expires_at,
            },
            sqlite_rotated,
        )?;
        // Read to the end (`returned`'s note): the statement commits when it is done.
        let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(returned(rows).map(|(_, id, refreshed)| (id, refreshed)))
    }

    fn run_group(group: &[&Self], conn: &rusqlite::Connection) -> Option<rusqlite::Result<Vec<RotationOutput>>> {
        let entries: Vec<GroupEntry> = group
            .iter()
            .map(|r| GroupEntry {
                id: r.old_id,
                old: &r.old_hash,
                new: &r.new_hash,
                client: &r.client_id,
                now: r.now,
                exp: r.new_expires_at,
            })
            .collect();
        let input = match serde_json::to_string(&entries) {
            Ok(input) => input,
            Err(e) => return Some(Err(rusqlite::Error::ToSqlConversionFailure(e.into()))),
        };
        let rows = (|| {
            let mut statement = conn.prepare_cached(SQLITE_ROTATE_GROUP)?;
            // Read to the end (`returned`'s note): the statement commits when it is done.
            let rows = statement.query_map(rusqlite::named_params! { "$1": input }, sqlite_rotated)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })();
        Some(rows.map(|rows| by_new_hash(group, rows.into_iter())))
    }
}

impl PgGroupedWrite for GroupedRotation {
    type Output = RotationOutput;

    fn run<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<RotationOutput, sqlx::Error>> {
        Box::pin(async move {
            let rows = sqlx::query_as::<_, Rotated>(PG_ROTATE_REFRESH)
                .bind(self.old_id)
                .bind(&self.old_hash)
                .bind(self.now)
                .bind(&self.client_id)
                .bind(&self.new_hash)
                .bind(self.new_expires_at)
                .fetch_all(conn)
                .await?;
            Ok(returned(rows).map(|r| (r.rotated_id, r.refreshed)))
        })
    }

    fn run_group<'c>(
        group: &'c [&'c Self],
        conn: &'c mut PgConnection,
    ) -> Option<BoxFuture<'c, Result<Vec<RotationOutput>, sqlx::Error>>> {
        let column = |f: fn(&GroupedRotation) -> &str| group.iter().map(|r| f(r)).collect::<Vec<&str>>();
        let (old, new, clients) = (column(|r| &r.old_hash), column(|r| &r.new_hash), column(|r| &r.client_id));
        let numbers = |f: fn(&GroupedRotation) -> i64| group.iter().map(|r| f(r)).collect::<Vec<i64>>();
        let (ids, times, expiries) = (numbers(|r| r.old_id), numbers(|r| r.now), numbers(|r| r.new_expires_at));
        Some(Box::pin(async move {
            let rows = sqlx::query_as::<_, Rotated>(PG_ROTATE_GROUP)
                .bind(ids)
                .bind(old)
                .bind(new)
                .bind(clients)
                .bind(times)
                .bind(expiries)
                .fetch_all(conn)
                .await?;
            Ok(by_new_hash(group, rows.into_iter().map(|r| (r.rotated_to, r.rotated_id, r.refreshed))))
        }))
    }
}

/// The row of a refresh token issued before tokens named their rows (migration 0021), found
/// by the hash of the whole token.
pub async fn legacy_refresh_token(db: &Db, token_hash: &str) -> AppResult<Option<Located>> {
    let sql = "SELECT id FROM refresh_tokens WHERE token_hash = $1 AND legacy";
    let id = on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(token_hash).fetch_optional(p).await?);
    Ok(id.map(|id| Located { id, hash: token_hash.to_owned() }))
}

/// The grant a (possibly used) refresh token belongs to, for revocation and introspection:
/// the grant, whether the token was used, and when it expires.
pub async fn find_by_refresh_token(db: &Db, token: &Located) -> AppResult<Option<(Grant, bool, i64)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        grant: Grant,
        used: bool,
        expires_at_rt: i64,
    }
    let sql = concat!(
        "SELECT g.id, g.client_id, g.user_id, g.session_id, g.scope, g.nonce, g.auth_time, g.amr, g.acr, \
         g.created_at, g.revoked_at, ",
        refresh_used!(),
        " AS used, r.expires_at AS expires_at_rt \
         FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.id = $1 AND r.token_hash = $2"
    );
    let row = on_db!(db, p => sqlx::query_as::<_, Row>(sql).bind(token.id).bind(&token.hash).fetch_optional(p).await?);
    Ok(row.map(|r| (r.grant, r.used, r.expires_at_rt)))
}

/// Revokes a client's own access token (one of no grant: the client credentials grant's) until
/// it expires, by its `jti`. Nothing is stored when the client is gone: its tokens ended with it.
pub async fn revoke_client_token(db: &Db, jti: &str, client_id: &str, expires_at: i64) -> AppResult<()> {
    let sql = "INSERT INTO revoked_access_tokens (jti, client_id, expires_at) \
               SELECT $1, client_id, $3 FROM oidc_clients WHERE client_id = $2 ON CONFLICT (jti) DO NOTHING";
    on_db_write!(db, p => sqlx::query(sql).bind(jti).bind(client_id).bind(expires_at).execute(p).await?.rows_affected());
    Ok(())
}

/// Whether a client's own access token was revoked.
pub async fn client_token_revoked(db: &Db, jti: &str) -> AppResult<bool> {
    let sql = "SELECT 1 FROM revoked_access_tokens WHERE jti = $1";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, i32>(sql).bind(jti).fetch_optional(p).await?).is_some())
}

/// Housekeeping: drops expired codes and refresh tokens, and grants with nothing left, and the
/// revocations of access tokens that have expired.
pub async fn purge_expired(db: &Db, now: i64) -> AppResult<()> {
    on_db_write!(db, p => {
        sqlx::query("DELETE FROM auth_codes WHERE expires_at <= $1").bind(now - 3600).execute(p).await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1").bind(now).execute(p).await?;
        sqlx::query("DELETE FROM revoked_access_tokens WHERE expires_at <= $1").bind(now).execute(p).await?;
    });
    Ok(())
}
