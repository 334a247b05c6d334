//! Users and groups.

use sqlx::FromRow;

use super::{Db, returned_one};
use crate::error::AppResult;
use crate::{on_db, on_db_write};

#[derive(Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub password_changed_at: Option<i64>,
    /// End of the MFA enrolment grace period, set the first time the user is asked to enrol.
    pub mfa_enroll_deadline: Option<i64>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password hash stays out of logs.
        f.debug_struct("User").field("id", &self.id).field("username", &self.username).finish_non_exhaustive()
    }
}

/// What tokens and userinfo say about a user, and whether the account is in force; never the
/// password hash. Read as its own row or beside a grant (whose `user_id` column it shares).
#[derive(Debug, Clone, FromRow)]
pub struct Profile {
    #[sqlx(rename = "user_id")]
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub updated_at: i64,
    pub disabled: bool,
}

/// The profile columns of `users u`, as `Profile` reads them.
#[macro_export]
macro_rules! profile_columns {
    () => {
        "u.id AS user_id, u.username, u.email, u.email_verified, u.display_name, u.updated_at, u.disabled"
    };
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub display_name: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub is_admin: bool,
}

macro_rules! columns {
    () => {
        "id, username, email, email_verified, display_name, password_hash, is_admin, disabled, created_at, updated_at, password_changed_at, mfa_enroll_deadline"
    };
}

pub async fn create(db: &Db, u: &NewUser<'_>, now: i64) -> AppResult<User> {
    let id = uuid::Uuid::new_v4().to_string();
    let sql = concat!(
        "INSERT INTO users (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $8, $9, NULL) RETURNING ",
        columns!()
    );
    let changed = u.password_hash.map(|_| now);
    let user = on_db_write!(db, p => returned_one(sqlx::query_as::<_, User>(sql)
        .bind(&id).bind(u.username).bind(u.email).bind(u.email_verified).bind(u.display_name)
        .bind(u.password_hash).bind(u.is_admin).bind(now).bind(changed)
        .fetch_all(p).await?)?);
    Ok(user)
}

pub async fn find_by_username(db: &Db, username: &str) -> AppResult<Option<User>> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE username = $1");
    Ok(on_db!(db, p => sqlx::query_as::<_, User>(sql).bind(username).fetch_optional(p).await?))
}

/// Active users whose verified address is `email` (compared without case): where a recovery
/// or reset link may go.
pub async fn find_by_verified_email(db: &Db, email: &str) -> AppResult<Vec<User>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM users WHERE email_verified AND NOT disabled AND LOWER(email) = LOWER($1) ORDER BY created_at LIMIT 10"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, User>(sql).bind(email).fetch_all(p).await?))
}

/// One page of users whose username, email or display name contains `q` (without case), by
/// username; and how many match in all.
pub async fn search(db: &Db, q: &str, limit: i64, offset: i64) -> AppResult<(Vec<User>, i64)> {
    let pattern = format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    macro_rules! matching {
        () => {
            " FROM users WHERE LOWER(username) LIKE $1 ESCAPE '\\' OR LOWER(COALESCE(email, '')) LIKE $1 ESCAPE '\\' \
             OR LOWER(COALESCE(display_name, '')) LIKE $1 ESCAPE '\\'"
        };
    }
    let list = concat!("SELECT ", columns!(), matching!(), " ORDER BY username LIMIT $2 OFFSET $3");
    let count = concat!("SELECT COUNT(*)", matching!());
    let users =
        on_db!(db, p => sqlx::query_as::<_, User>(list).bind(&pattern).bind(limit).bind(offset).fetch_all(p).await?);
    let total = on_db!(db, p => sqlx::query_scalar::<_, i64>(count).bind(&pattern).fetch_one(p).await?);
    Ok((users, total))
}

/// When the user last signed in (the audit log's newest `login.success`), if ever.
pub async fn last_sign_in(db: &Db, id: &str) -> AppResult<Option<i64>> {
    let sql = "SELECT MAX(at) FROM audit_log WHERE user_id = $1 AND event = 'login.success'";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, Option<i64>>(sql).bind(id).fetch_one(p).await?))
}

pub async fn find_by_id(db: &Db, id: &str) -> AppResult<Option<User>> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE id = $1");
    Ok(on_db!(db, p => sqlx::query_as::<_, User>(sql).bind(id).fetch_optional(p).await?))
}

pub async fn find_profile(db: &Db, id: &str) -> AppResult<Option<Profile>> {
    let sql = concat!("SELECT ", profile_columns!(), " FROM users u WHERE u.id = $1");
    Ok(on_db!(db, p => sqlx::query_as::<_, Profile>(sql).bind(id).fetch_optional(p).await?))
}

pub async fn list(db: &Db) -> AppResult<Vec<User>> {
    let sql = concat!("SELECT ", columns!(), " FROM users ORDER BY username");
    Ok(on_db!(db, p => sqlx::query_as::<_, User>(sql).fetch_all(p).await?))
}

pub async fn count(db: &Db) -> AppResult<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(p).await?))
}

/// Sets a new password hash. Returns false when the user does not exist.
pub async fn update_password(db: &Db, id: &str, hash: &str, now: i64) -> AppResult<bool> {
    let sql = "UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(id).bind(hash).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Replaces a hash with an upgraded one only if it is still the one that was verified.
pub async fn upgrade_password_hash(db: &Db, id: &str, old: &str, new: &str) -> AppResult<()> {
    let sql = "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2";
    on_db_write!(db, p => sqlx::query(sql).bind(id).bind(old).bind(new).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn update_disabled(db: &Db, id: &str, disabled: bool, now: i64) -> AppResult<bool> {
    let sql = "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(id).bind(disabled).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Starts the enrolment grace period unless it has started before; returns the deadline.
pub async fn start_enroll_grace(db: &Db, id: &str, deadline: i64) -> AppResult<i64> {
    let sql = "UPDATE users SET mfa_enroll_deadline = COALESCE(mfa_enroll_deadline, $2) WHERE id = $1 RETURNING mfa_enroll_deadline";
    Ok(
        on_db_write!(db, p => returned_one(sqlx::query_scalar::<_, i64>(sql).bind(id).bind(deadline).fetch_all(p).await?)?),
    )
}

/// Names of the user's groups, sorted.
pub async fn find_groups(db: &Db, user_id: &str) -> AppResult<Vec<String>> {
    let sql =
        "SELECT g.name FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = $1 ORDER BY g.name";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, String>(sql).bind(user_id).fetch_all(p).await?))
}

/// Adds the user to a group, creating the group if needed. False when already a member.
pub async fn add_to_group(db: &Db, user_id: &str, group: &str) -> AppResult<bool> {
    let gid = uuid::Uuid::new_v4().to_string();
    let added = on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("INSERT INTO groups (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(&gid).bind(group).execute(&mut *tx).await?;
        let n = sqlx::query("INSERT INTO user_groups (user_id, group_id) SELECT $1, id FROM groups WHERE name = $2 ON CONFLICT DO NOTHING")
            .bind(user_id).bind(group).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        n
    });
    Ok(added == 1)
}

/// Takes the user out of a group (the group stays, with its policy). False when not a member.
pub async fn remove_from_group(db: &Db, user_id: &str, group: &str) -> AppResult<bool> {
    let sql = "DELETE FROM user_groups WHERE user_id = $1 AND group_id IN (SELECT id FROM groups WHERE name = $2)";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(user_id).bind(group).execute(p).await?.rows_affected());
    Ok(n == 1)
}
