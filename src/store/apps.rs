//! Applications (relying parties) and their OIDC client registrations.

use sqlx::FromRow;

use super::Db;
use crate::error::AppResult;
use crate::{on_db, on_db_write};

/// How an app signs its users in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Oidc,
    Saml,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "oidc" => Some(Protocol::Oidc),
            "saml" => Some(Protocol::Saml),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Oidc => "oidc",
            Protocol::Saml => "saml",
        }
    }
}

crate::text_enum!(Protocol);

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct App {
    pub id: String,
    pub name: String,
    pub protocol: Protocol,
    pub created_at: i64,
}

#[derive(Clone, FromRow)]
pub struct OidcClientRow {
    pub client_id: String,
    pub app_id: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub allowed_scopes: String,
    pub client_credentials_since: Option<i64>,
    pub client_credentials_epoch: Option<String>,
}

/// A registered OIDC client, with its lists decoded.
#[derive(Clone)]
pub struct OidcClient {
    pub client_id: String,
    pub app_id: String,
    pub name: String,
    /// SHA-256 of the secret; `None` for a public client.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_scopes: Vec<String>,
    /// May ask for tokens in its own name (RFC 6749 §4.4; confidential clients only) when set:
    /// since when its tokens count (the grant turned on, the secret last replaced). Private:
    /// read through `client_credentials_since()`, which also refuses a user-id-shaped client.
    client_credentials_since: Option<i64>,
    /// Which turning-on of the grant its tokens belong to (migration 0023); `None` for a client
    /// whose grant has not been turned on since that column came.
    pub client_credentials_epoch: Option<String>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("client_id", &self.client_id)
            .field("public", &self.is_public())
            .finish_non_exhaustive()
    }
}

/// Whether `id` is written as users' ids are (a hyphenated UUID, in either case). A client
/// with such an id may not use the client credentials grant, which makes it a token's `sub`.
pub fn has_user_id_form(id: &str) -> bool {
    id.len() == 36 && uuid::Uuid::try_parse(id).is_ok()
}

impl OidcClient {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    /// Since when its own tokens count, if it may use the client credentials grant. Never for
    /// a client whose id has the form of a user's id (given the grant before that was
    /// refused): its tokens' `sub` would name that user to a resource server.
    pub fn client_credentials_since(&self) -> Option<i64> {
        self.client_credentials_since.filter(|_| !has_user_id_form(&self.client_id))
    }

    /// Whether it may use the client credentials grant.
    pub fn client_credentials(&self) -> bool {
        self.client_credentials_since().is_some()
    }

    fn from_row(row: OidcClientRow, name: String) -> AppResult<Self> {
        let parse = |s: &str| -> AppResult<Vec<String>> {
            serde_json::from_str(s).map_err(|e| crate::error::AppError::internal(format!("corrupt client row: {e}")))
        };
        Ok(OidcClient {
            redirect_uris: parse(&row.redirect_uris)?,
            post_logout_redirect_uris: parse(&row.post_logout_redirect_uris)?,
            allowed_scopes: row.allowed_scopes.split_whitespace().map(str::to_owned).collect(),
            client_id: row.client_id,
            app_id: row.app_id,
            secret_hash: row.secret_hash,
            client_credentials_since: row.client_credentials_since,
            client_credentials_epoch: row.client_credentials_epoch,
            name,
        })
    }
}

pub struct NewOidcClient<'a> {
    pub name: &'a str,
    pub client_id: &'a str,
    pub secret_hash: Option<&'a str>,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub allowed_scopes: &'a [String],
    pub client_credentials: bool,
}

/// Creates the app and its client in one transaction.
pub async fn create_oidc(db: &Db, c: &NewOidcClient<'_>, now: i64) -> AppResult<App> {
    let app = App {
        id: uuid::Uuid::new_v4().to_string(),
        name: c.name.to_owned(),
        protocol: Protocol::Oidc,
        created_at: now,
    };
    let redirects = serde_json::to_string(c.redirect_uris).expect("strings serialise");
    let logouts = serde_json::to_string(c.post_logout_redirect_uris).expect("strings serialise");
    let scopes = c.allowed_scopes.join(" ");
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("INSERT INTO apps (id, name, protocol, created_at) VALUES ($1, $2, 'oidc', $3)")
            .bind(&app.id).bind(&app.name).bind(now).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO oidc_clients (client_id, app_id, secret_hash, redirect_uris, post_logout_redirect_uris, allowed_scopes, client_credentials_since, client_credentials_epoch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(c.client_id).bind(&app.id).bind(c.secret_hash).bind(&redirects).bind(&logouts).bind(&scopes)
            .bind(c.client_credentials.then_some(now)).bind(c.client_credentials.then(new_epoch))
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(app)
}

macro_rules! client_select {
    () => {
        "SELECT c.client_id, c.app_id, c.secret_hash, c.redirect_uris, c.post_logout_redirect_uris, c.allowed_scopes, \
         c.client_credentials_since, c.client_credentials_epoch, a.name \
         FROM oidc_clients c JOIN apps a ON a.id = c.app_id"
    };
}

#[derive(FromRow)]
struct ClientWithName {
    #[sqlx(flatten)]
    row: OidcClientRow,
    name: String,
}

pub async fn find_client(db: &Db, client_id: &str) -> AppResult<Option<OidcClient>> {
    let sql = concat!(client_select!(), " WHERE c.client_id = $1");
    let row = on_db!(db, p => sqlx::query_as::<_, ClientWithName>(sql).bind(client_id).fetch_optional(p).await?);
    row.map(|r| OidcClient::from_row(r.row, r.name)).transpose()
}

pub async fn find_client_by_app(db: &Db, app_id: &str) -> AppResult<Option<OidcClient>> {
    let sql = concat!(client_select!(), " WHERE c.app_id = $1");
    let row = on_db!(db, p => sqlx::query_as::<_, ClientWithName>(sql).bind(app_id).fetch_optional(p).await?);
    row.map(|r| OidcClient::from_row(r.row, r.name)).transpose()
}

pub async fn list(db: &Db) -> AppResult<Vec<App>> {
    let sql = "SELECT id, name, protocol, created_at FROM apps ORDER BY name, id";
    Ok(on_db!(db, p => sqlx::query_as::<_, App>(sql).fetch_all(p).await?))
}

pub async fn find(db: &Db, id: &str) -> AppResult<Option<App>> {
    let sql = "SELECT id, name, protocol, created_at FROM apps WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_as::<_, App>(sql).bind(id).fetch_optional(p).await?))
}

/// Deletes the app; its client, requests, grants, codes, refresh tokens and plugin
/// assignments go with it, in one transaction.
pub async fn delete(db: &Db, id: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM plugin_assignments WHERE scope = $1").bind(id).execute(&mut *tx).await?;
        let n = sqlx::query("DELETE FROM apps WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        n
    });
    Ok(n == 1)
}

/// Replaces a confidential client's secret, only if it is still `old_hash` (two rotations at
/// once: one wins, the other changes nothing). The tokens the client got in its own name
/// before `now` end with the old secret.
pub async fn update_client_secret(
    db: &Db,
    client_id: &str,
    old_hash: &str,
    secret_hash: &str,
    now: i64,
) -> AppResult<bool> {
    let sql = concat!(
        "UPDATE oidc_clients SET secret_hash = $3, ",
        client_tokens_restart!("$4"),
        " WHERE client_id = $1 AND secret_hash = $2"
    );
    let n = on_db_write!(db, p => sqlx::query(sql).bind(client_id).bind(old_hash).bind(secret_hash).bind(now)
        .execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// The assignment that makes a client's own tokens count from `$now` on, if it may use the
/// client credentials grant (a secret replaced: what the old one got ends).
macro_rules! client_tokens_restart {
    ($now:literal) => {
        concat!("client_credentials_since = CASE WHEN client_credentials_since IS NULL THEN NULL ELSE ", $now, " END")
    };
}

/// The assignments that turn the client credentials grant on (`$on` true: counting from
/// `$now`, in a new epoch (`new_epoch`), unless it was on already) or off.
macro_rules! client_credentials_set {
    ($on:literal, $now:literal, $epoch:literal) => {
        concat!(
            "client_credentials_since = CASE WHEN ",
            $on,
            " THEN COALESCE(client_credentials_since, ",
            $now,
            ") ELSE NULL END, client_credentials_epoch = CASE WHEN ",
            $on,
            " AND client_credentials_since IS NULL THEN ",
            $epoch,
            " ELSE client_credentials_epoch END"
        )
    };
}

/// A new epoch of the client credentials grant (migration 0023): random, so that no two
/// turnings-on share one.
pub fn new_epoch() -> String {
    crate::crypto::random_token()
}
pub(crate) use {client_credentials_set, client_tokens_restart};

pub async fn update_redirect_uris(db: &Db, client_id: &str, redirect_uris: &[String]) -> AppResult<bool> {
    let json = serde_json::to_string(redirect_uris).expect("strings serialise");
    let sql = "UPDATE oidc_clients SET redirect_uris = $2 WHERE client_id = $1";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(client_id).bind(&json).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// What an edit of an OIDC client changes.
pub struct OidcClientEdit<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub allowed_scopes: &'a [String],
    pub client_credentials: bool,
}

/// Renames the app and replaces its client's URIs, scopes and grants, in one transaction.
pub async fn update_oidc(db: &Db, app_id: &str, e: &OidcClientEdit<'_>, now: i64) -> AppResult<bool> {
    let redirects = serde_json::to_string(e.redirect_uris).expect("strings serialise");
    let logouts = serde_json::to_string(e.post_logout_redirect_uris).expect("strings serialise");
    let scopes = e.allowed_scopes.join(" ");
    let n = on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        let sql = concat!(
            "UPDATE oidc_clients SET redirect_uris = $2, post_logout_redirect_uris = $3, allowed_scopes = $4, ",
            client_credentials_set!("$5", "$6", "$7"),
            " WHERE app_id = $1"
        );
        let n = sqlx::query(sql).bind(app_id).bind(&redirects).bind(&logouts).bind(&scopes)
            .bind(e.client_credentials).bind(now).bind(new_epoch()).execute(&mut *tx).await?.rows_affected();
        sqlx::query("UPDATE apps SET name = $2 WHERE id = $1").bind(app_id).bind(e.name).execute(&mut *tx).await?;
        tx.commit().await?;
        n
    });
    Ok(n == 1)
}

/// How often a node asks whether the client registrations changed elsewhere (another node,
/// the CLI): the longest another node's change can go unseen. Changes made through this
/// node's own admin paths are seen at once (`ClientCache::changed`).
const CLIENTS_RECHECK: std::time::Duration = std::time::Duration::from_millis(250);
/// Registrations kept at most; past it the cache starts over (no client is ever unreadable).
const CLIENTS_CACHED: usize = 10_000;

/// The OIDC client registrations this node has read, so the token endpoint does not read the
/// client on every grant. Migration 0020's triggers bump the `clients` row of
/// `cache_versions` in the same transaction as any change of a client or its app's name; the
/// cache reads that version at most every `CLIENTS_RECHECK` and starts over when it moved.
/// Unknown client ids are never cached (a flood of made-up ids cannot fill it).
#[derive(Debug)]
pub struct ClientCache {
    inner: std::sync::RwLock<CachedClients>,
    started: std::time::Instant,
    /// Milliseconds after `started` when the version was last read; `u64::MAX` asks for a
    /// read on the next lookup.
    checked_at: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct CachedClients {
    version: Option<i64>,
    clients: std::collections::HashMap<String, std::sync::Arc<OidcClient>>,
}

impl Default for ClientCache {
    fn default() -> Self {
        ClientCache {
            inner: Default::default(),
            started: std::time::Instant::now(),
            checked_at: std::sync::atomic::AtomicU64::new(u64::MAX),
        }
    }
}

impl ClientCache {
    /// The client `client_id` as stored, from the cache when it is current.
    pub async fn find(&self, db: &Db, client_id: &str) -> AppResult<Option<std::sync::Arc<OidcClient>>> {
        let version = self.current_version(db).await?;
        if let Some(c) = self.read().clients.get(client_id) {
            return Ok(Some(c.clone()));
        }
        let Some(client) = find_client(db, client_id).await?.map(std::sync::Arc::new) else { return Ok(None) };
        let mut inner = self.write();
        // Kept only if no change was seen since the version this read began under: a read
        // that raced a change could hold the old registration.
        if inner.version == Some(version) {
            if inner.clients.len() >= CLIENTS_CACHED {
                inner.clients.clear();
            }
            inner.clients.insert(client_id.to_owned(), client.clone());
        }
        Ok(Some(client))
    }

    /// This node changed a registration: the next lookup reads the version first.
    pub fn changed(&self) {
        self.checked_at.store(u64::MAX, std::sync::atomic::Ordering::Release);
    }

    /// The version the cache holds, read again from the database when due.
    async fn current_version(&self, db: &Db) -> AppResult<i64> {
        use std::sync::atomic::Ordering;
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.checked_at.load(Ordering::Acquire);
        let due = last == u64::MAX || now.saturating_sub(last) >= CLIENTS_RECHECK.as_millis() as u64;
        if let (false, Some(v)) = (due, self.read().version) {
            return Ok(v);
        }
        // One lookup re-reads; others that find it due meanwhile read too (harmless).
        self.checked_at.store(now, Ordering::Release);
        let stored = match clients_version(db).await {
            Ok(v) => v,
            Err(e) => {
                self.changed();
                return Err(e);
            }
        };
        let mut inner = self.write();
        if inner.version != Some(stored) {
            inner.clients.clear();
            inner.version = Some(stored);
        }
        Ok(stored)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, CachedClients> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, CachedClients> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

async fn clients_version(db: &Db) -> AppResult<i64> {
    let sql = "SELECT version FROM cache_versions WHERE name = 'clients'";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await?))
}
