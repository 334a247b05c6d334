//! SAML service providers (apps whose protocol is `saml`) and the IdP's signing credential.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::apps::App;
use super::{Db, returned};
use crate::error::{AppError, AppResult};
use crate::{on_db, on_db_write};

/// An assertion consumer service: where responses are posted (SAML Metadata §2.4.4).
/// Which parts of a response the IdP signs for a service provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignedParts {
    Assertion,
    Response,
    Both,
}

impl SignedParts {
    pub fn parse(s: &str) -> Option<SignedParts> {
        match s {
            "assertion" => Some(SignedParts::Assertion),
            "response" => Some(SignedParts::Response),
            "both" => Some(SignedParts::Both),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SignedParts::Assertion => "assertion",
            SignedParts::Response => "response",
            SignedParts::Both => "both",
        }
    }
}

crate::text_enum!(SignedParts);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Acs {
    pub url: String,
    pub index: u32,
    pub binding: String,
    pub is_default: bool,
}

/// One SAML attribute of the response and the user field it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttributeMapping {
    pub name: String,
    pub source: String,
}

/// A registered service provider, with its lists decoded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceProvider {
    pub app_id: String,
    pub name: String,
    pub entity_id: String,
    pub acs: Vec<Acs>,
    pub slo_url: Option<String>,
    pub slo_binding: Option<String>,
    /// The SP's signing certificate, base64 DER.
    pub certificate: Option<String>,
    pub want_requests_signed: bool,
    pub name_id_format: String,
    pub attributes: Vec<AttributeMapping>,
    pub sign: SignedParts,
    pub allow_idp_initiated: bool,
    pub default_relay_state: Option<String>,
}

impl ServiceProvider {
    /// The ACS used when a request names none: the one marked default, else the lowest
    /// index (SAML Metadata §2.2.3).
    pub fn default_acs(&self) -> Option<&Acs> {
        self.acs.iter().find(|a| a.is_default).or_else(|| self.acs.iter().min_by_key(|a| a.index))
    }
}

#[derive(FromRow)]
struct Row {
    app_id: String,
    name: String,
    entity_id: String,
    acs: String,
    slo_url: Option<String>,
    slo_binding: Option<String>,
    certificate: Option<String>,
    want_requests_signed: bool,
    name_id_format: String,
    attributes: String,
    sign: SignedParts,
    allow_idp_initiated: bool,
    default_relay_state: Option<String>,
}

impl TryFrom<Row> for ServiceProvider {
    type Error = AppError;
    fn try_from(r: Row) -> AppResult<ServiceProvider> {
        let corrupt = |e: serde_json::Error| AppError::internal(format!("corrupt service provider row: {e}"));
        Ok(ServiceProvider {
            acs: serde_json::from_str(&r.acs).map_err(corrupt)?,
            attributes: serde_json::from_str(&r.attributes).map_err(corrupt)?,
            app_id: r.app_id,
            name: r.name,
            entity_id: r.entity_id,
            slo_url: r.slo_url,
            slo_binding: r.slo_binding,
            certificate: r.certificate,
            want_requests_signed: r.want_requests_signed,
            name_id_format: r.name_id_format,
            sign: r.sign,
            allow_idp_initiated: r.allow_idp_initiated,
            default_relay_state: r.default_relay_state,
        })
    }
}

macro_rules! sp_select {
    () => {
        "SELECT s.app_id, a.name, s.entity_id, s.acs, s.slo_url, s.slo_binding, s.certificate, \
         s.want_requests_signed, s.name_id_format, s.attributes, s.sign, s.allow_idp_initiated, \
         s.default_relay_state FROM saml_service_providers s JOIN apps a ON a.id = s.app_id"
    };
}

/// Creates the app and its service provider in one transaction.
pub async fn create(db: &Db, sp: &ServiceProvider, now: i64) -> AppResult<App> {
    let app =
        App { id: sp.app_id.clone(), name: sp.name.clone(), protocol: super::apps::Protocol::Saml, created_at: now };
    let acs = serde_json::to_string(&sp.acs).map_err(AppError::internal)?;
    let attributes = serde_json::to_string(&sp.attributes).map_err(AppError::internal)?;
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("INSERT INTO apps (id, name, protocol, created_at) VALUES ($1, $2, 'saml', $3)")
            .bind(&app.id).bind(&app.name).bind(now).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO saml_service_providers (app_id, entity_id, acs, slo_url, slo_binding, certificate, \
                     want_requests_signed, name_id_format, attributes, sign, allow_idp_initiated, default_relay_state) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(&app.id).bind(&sp.entity_id).bind(&acs).bind(&sp.slo_url).bind(&sp.slo_binding)
            .bind(&sp.certificate).bind(sp.want_requests_signed).bind(&sp.name_id_format).bind(&attributes)
            .bind(sp.sign).bind(sp.allow_idp_initiated).bind(&sp.default_relay_state)
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(app)
}

pub async fn find_by_entity_id(db: &Db, entity_id: &str) -> AppResult<Option<ServiceProvider>> {
    let sql = concat!(sp_select!(), " WHERE s.entity_id = $1");
    let row = on_db!(db, p => sqlx::query_as::<_, Row>(sql).bind(entity_id).fetch_optional(p).await?);
    row.map(ServiceProvider::try_from).transpose()
}

pub async fn find_by_app(db: &Db, app_id: &str) -> AppResult<Option<ServiceProvider>> {
    let sql = concat!(sp_select!(), " WHERE s.app_id = $1");
    let row = on_db!(db, p => sqlx::query_as::<_, Row>(sql).bind(app_id).fetch_optional(p).await?);
    row.map(ServiceProvider::try_from).transpose()
}

/// The IdP's signing credential as stored: the private key still encrypted.
#[derive(Clone, FromRow)]
pub struct StoredCredential {
    pub private_key: Vec<u8>,
    pub certificate: Vec<u8>,
    pub created_at: i64,
    pub not_after: i64,
}

const CREDENTIAL_ID: &str = "idp";

pub async fn find_credential(db: &Db) -> AppResult<Option<StoredCredential>> {
    let sql = "SELECT private_key, certificate, created_at, not_after FROM saml_credentials WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_as::<_, StoredCredential>(sql).bind(CREDENTIAL_ID).fetch_optional(p).await?))
}

/// Stores the credential unless another node stored one first; returns the one that counts.
pub async fn insert_credential(db: &Db, c: &StoredCredential) -> AppResult<StoredCredential> {
    let sql = "INSERT INTO saml_credentials (id, private_key, certificate, created_at, not_after) \
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING";
    on_db_write!(db, p => sqlx::query(sql).bind(CREDENTIAL_ID).bind(&c.private_key).bind(&c.certificate)
        .bind(c.created_at).bind(c.not_after).execute(p).await?.rows_affected());
    find_credential(db).await?.ok_or_else(|| AppError::internal("the SAML credential vanished after insert"))
}

/// Records an AuthnRequest ID for its SP; `false` when it was seen before (a replay).
pub async fn remember_request_id(db: &Db, entity_id: &str, request_id: &str, expires_at: i64) -> AppResult<bool> {
    let sql = "INSERT INTO saml_request_ids (entity_id, request_id, expires_at) VALUES ($1, $2, $3) \
               ON CONFLICT (entity_id, request_id) DO NOTHING";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(entity_id).bind(request_id).bind(expires_at).execute(p).await?
        .rows_affected());
    Ok(n == 1)
}

/// A response waiting for the browser to post it to the SP.
/// The response is a signed bearer assertion: it stays out of `Debug`.
#[derive(Debug, Clone, FromRow)]
pub struct Delivery {
    pub session_id: Option<String>,
    pub acs_url: String,
    pub response: crate::crypto::Secret,
    pub relay_state: Option<String>,
}

pub async fn create_delivery(db: &Db, token_hash: &str, d: &Delivery, expires_at: i64) -> AppResult<()> {
    let sql = "INSERT INTO saml_deliveries (token_hash, session_id, acs_url, response, relay_state, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    on_db_write!(db, p => sqlx::query(sql).bind(token_hash).bind(&d.session_id).bind(&d.acs_url).bind(&d.response)
        .bind(&d.relay_state).bind(expires_at).execute(p).await?.rows_affected());
    Ok(())
}

/// Consumes a delivery: exactly one caller gets it.
pub async fn take_delivery(db: &Db, token_hash: &str, now: i64) -> AppResult<Option<Delivery>> {
    let sql = "DELETE FROM saml_deliveries WHERE token_hash = $1 AND expires_at > $2 \
               RETURNING session_id, acs_url, response, relay_state";
    Ok(
        on_db_write!(db, p => returned(sqlx::query_as::<_, Delivery>(sql).bind(token_hash).bind(now).fetch_all(p).await?)),
    )
}

/// Notes that an SP got an assertion in a session (for single logout).
pub async fn add_participant(
    db: &Db,
    session_id: &str,
    app_id: &str,
    name_id: &str,
    session_index: &str,
) -> AppResult<()> {
    let sql = "INSERT INTO saml_session_participants (session_id, app_id, name_id, session_index) \
               VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, app_id) DO UPDATE SET name_id = $3, session_index = $4";
    on_db_write!(db, p => sqlx::query(sql).bind(session_id).bind(app_id).bind(name_id).bind(session_index)
        .execute(p).await?.rows_affected());
    Ok(())
}

/// Drops replay records and deliveries that can no longer be used.
pub async fn purge_expired(db: &Db, now: i64) -> AppResult<()> {
    on_db_write!(db, p => {
        sqlx::query("DELETE FROM saml_request_ids WHERE expires_at <= $1").bind(now).execute(p).await?;
        sqlx::query("DELETE FROM saml_deliveries WHERE expires_at <= $1").bind(now).execute(p).await?;
    });
    Ok(())
}

/// The NameID an SP got in a session, if it took part in it.
pub async fn find_participant(db: &Db, session_id: &str, app_id: &str) -> AppResult<Option<String>> {
    let sql = "SELECT name_id FROM saml_session_participants WHERE session_id = $1 AND app_id = $2";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, String>(sql).bind(session_id).bind(app_id).fetch_optional(p).await?))
}

/// Replaces a registered service provider (same app id) and renames its app, in one
/// transaction; `false` when it is gone.
pub async fn update(db: &Db, sp: &ServiceProvider) -> AppResult<bool> {
    let acs = serde_json::to_string(&sp.acs).map_err(AppError::internal)?;
    let attributes = serde_json::to_string(&sp.attributes).map_err(AppError::internal)?;
    let n = on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        let n = sqlx::query("UPDATE saml_service_providers SET entity_id = $2, acs = $3, slo_url = $4, slo_binding = $5, \
                     certificate = $6, want_requests_signed = $7, name_id_format = $8, attributes = $9, sign = $10, \
                     allow_idp_initiated = $11, default_relay_state = $12 WHERE app_id = $1")
            .bind(&sp.app_id).bind(&sp.entity_id).bind(&acs).bind(&sp.slo_url).bind(&sp.slo_binding)
            .bind(&sp.certificate).bind(sp.want_requests_signed).bind(&sp.name_id_format).bind(&attributes)
            .bind(sp.sign).bind(sp.allow_idp_initiated).bind(&sp.default_relay_state)
            .execute(&mut *tx).await?.rows_affected();
        sqlx::query("UPDATE apps SET name = $2 WHERE id = $1").bind(&sp.app_id).bind(&sp.name).execute(&mut *tx).await?;
        tx.commit().await?;
        n
    });
    Ok(n == 1)
}
