//! Relying parties: OIDC clients and SAML service providers, registered and removed. The
//! SAML side of a registration is checked by `saml::registration`; every app's URLs by the
//! rules here.

use serde::Serialize;
use serde_json::json;
use url::Url;

use super::Admin;
use crate::audit::event;
use crate::crypto::{self, Secret};
use crate::error::{AppError, AppResult, Msg};
use crate::oidc::SCOPES_SUPPORTED;
use crate::oidc::token::client_secret_hash;
use crate::saml;
pub use crate::saml::registration::{SAML_ATTRIBUTE_SOURCES, SamlAppSpec};
use crate::state::AppState;
use crate::store;
use crate::store::apps::{App, NewOidcClient};
use crate::store::saml::ServiceProvider;

pub struct OidcAppSpec<'a> {
    pub name: &'a str,
    /// Chosen client id; generated when `None`.
    pub client_id: Option<&'a str>,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    /// Public clients (SPAs, native apps) get no secret and must use PKCE.
    pub public: bool,
    /// Extra scopes beyond the standard ones (e.g. `api:read`).
    pub extra_scopes: &'a [String],
    /// May ask for access tokens in its own name, with no user (RFC 6749 §4.4);
    /// confidential clients only.
    pub client_credentials: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedOidcApp {
    pub app_id: String,
    pub name: String,
    pub client_id: String,
    /// Shown once; only its hash is stored.
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<Secret>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Whether it may use the client credentials grant.
    pub client_credentials: bool,
}

/// A redirect URI must be absolute, without fragment (RFC 6749 §3.1.2); plain http only for
/// loopback (RFC 8252 §7.3) or in dev mode; private-use schemes with a dot for native apps
/// (RFC 8252 §7.1).
fn validate_redirect_uri(state: &AppState, uri: &str) -> AppResult<()> {
    validate_url(state, "redirect URI", uri, true)
}

/// An absolute URL without fragment: https, or http for loopback hosts and in dev mode, or
/// (when `private_schemes`) a reverse-domain private-use scheme.
fn validate_url(state: &AppState, what: &str, uri: &str, private_schemes: bool) -> AppResult<()> {
    if uri.len() > MAX_URL_BYTES {
        return Err(AppError::BadRequest(Msg::key("adm-err-url-long").with("what", what).with("max", MAX_URL_BYTES)));
    }
    let u = Url::parse(uri)
        .map_err(|_| AppError::BadRequest(Msg::key("adm-err-url-relative").with("what", what).with("url", uri)))?;
    if u.fragment().is_some() {
        return Err(AppError::BadRequest(Msg::key("adm-err-url-fragment").with("what", what).with("url", uri)));
    }
    let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback || state.config.dev_mode => Ok(()),
        "http" => Err(AppError::BadRequest(Msg::key("adm-err-url-http").with("what", what).with("url", uri))),
        s if private_schemes && s.contains('.') => Ok(()),
        _ => Err(AppError::BadRequest(Msg::key("adm-err-url-https").with("what", what).with("url", uri))),
    }
}

/// Bounds on what an app registration stores (it is read on every authorization request).
const MAX_URIS: usize = 32;
const MAX_SCOPES: usize = 32;
const MAX_URL_BYTES: usize = 2048;

/// What a client registration asks for besides its name, URIs and scopes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClientKind {
    /// No secret: PKCE only.
    pub public: bool,
    /// The client credentials grant (RFC 6749 §4.4).
    pub client_credentials: bool,
}

/// The name, URIs, scopes and grants of a client, checked; the scopes it may request (the
/// standard ones and the extras) returned. A public client exists for the code flow and needs
/// a redirect URI; a confidential one may have none (a service that never signs a user in,
/// using the client credentials grant, or one whose grant is turned off for now). Only a
/// confidential client may use that grant (RFC 6749 §4.4: it rests on the secret alone).
pub(crate) fn checked_client(
    state: &AppState,
    name: &str,
    redirect_uris: &[String],
    post_logout_redirect_uris: &[String],
    extra_scopes: &[String],
    kind: ClientKind,
) -> AppResult<Vec<String>> {
    check_name(name)?;
    if kind.public && kind.client_credentials {
        return Err(AppError::BadRequest(Msg::key("adm-err-cc-public")));
    }
    if redirect_uris.is_empty() && kind.public {
        return Err(AppError::BadRequest(Msg::key("adm-err-redirect-required")));
    }
    if redirect_uris.len() > MAX_URIS || post_logout_redirect_uris.len() > MAX_URIS {
        return Err(AppError::BadRequest(Msg::key("adm-err-redirect-many").with("max", MAX_URIS)));
    }
    if extra_scopes.len() > MAX_SCOPES || extra_scopes.iter().any(|s| s.len() > 128) {
        return Err(AppError::BadRequest(Msg::key("adm-err-scopes-many").with("max", MAX_SCOPES)));
    }
    for u in redirect_uris.iter().chain(post_logout_redirect_uris) {
        validate_redirect_uri(state, u)?;
    }
    let mut scopes: Vec<String> = SCOPES_SUPPORTED.iter().map(|s| s.to_string()).collect();
    for s in extra_scopes {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') && !scopes.contains(s) {
            scopes.push(s.clone());
        } else if !scopes.contains(s) {
            return Err(AppError::BadRequest(Msg::key("adm-err-scope").with("scope", s)));
        }
    }
    Ok(scopes)
}

pub(crate) fn check_name(name: &str) -> AppResult<()> {
    if name.trim().is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(Msg::key("adm-err-app-name")));
    }
    Ok(())
}

/// A client id: 1-128 visible ASCII characters without `:` (it travels in HTTP Basic). One in
/// the form of a user's id (a UUID, as some providers give, kept when an app moves here) may
/// not use the client credentials grant: its tokens have the client id as `sub`, and a
/// resource server would take them for that user's.
pub(crate) fn check_client_id(client_id: &str, client_credentials: bool) -> AppResult<()> {
    if client_id.is_empty() || client_id.len() > 128 || !client_id.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        return Err(AppError::BadRequest(Msg::key("adm-err-client-id")));
    }
    if client_credentials && store::apps::has_user_id_form(client_id) {
        return Err(AppError::BadRequest(Msg::key("adm-err-client-id-uuid")));
    }
    Ok(())
}

/// A service URL (ACS, SLO) checked as every app's URLs are.
pub(crate) fn check_url(state: &AppState, what: &str, url: &str) -> AppResult<()> {
    validate_url(state, what, url, false)
}

pub async fn add_oidc(state: &AppState, admin: &Admin, spec: &OidcAppSpec<'_>) -> AppResult<CreatedOidcApp> {
    let kind = ClientKind { public: spec.public, client_credentials: spec.client_credentials };
    let scopes =
        checked_client(state, spec.name, spec.redirect_uris, spec.post_logout_redirect_uris, spec.extra_scopes, kind)?;
    // Generated ids are hex: base64url could start with `-`, which a shell tool would read as a flag.
    let client_id = spec.client_id.map(str::to_owned).unwrap_or_else(|| hex::encode(crypto::random_bytes::<16>()));
    check_client_id(&client_id, spec.client_credentials)?;
    let secret = (!spec.public).then(Secret::random);
    let secret_hash = secret.as_deref().map(client_secret_hash);
    let app = store::apps::create_oidc(
        &state.db,
        &NewOidcClient {
            name: spec.name,
            client_id: &client_id,
            secret_hash: secret_hash.as_deref(),
            redirect_uris: spec.redirect_uris,
            post_logout_redirect_uris: spec.post_logout_redirect_uris,
            allowed_scopes: &scopes,
            client_credentials: spec.client_credentials,
        },
        state.now(),
    )
    .await
    .map_err(|e| {
        if e.is_unique_violation() {
            AppError::Conflict(Msg::key("adm-err-client-id-taken").with("id", &client_id))
        } else {
            e
        }
    })?;
    let detail = json!({
        "protocol": "oidc",
        "name": app.name,
        "client_id": client_id,
        "public": spec.public,
        "client_credentials": spec.client_credentials,
    });
    admin.audit(state, event::APP_CREATED, None, Some(&app.id), &detail).await?;
    Ok(CreatedOidcApp {
        app_id: app.id,
        name: app.name,
        client_id,
        client_secret: secret,
        redirect_uris: spec.redirect_uris.to_vec(),
        post_logout_redirect_uris: spec.post_logout_redirect_uris.to_vec(),
        client_credentials: spec.client_credentials,
    })
}

/// Registers a SAML service provider (from the spec, its metadata, or both): the SAML side
/// is checked by `saml::registration`, the URLs as every app's are.
pub async fn add_saml(state: &AppState, admin: &Admin, spec: SamlAppSpec) -> AppResult<ServiceProvider> {
    let check_url = |what: &str, url: &str| validate_url(state, what, url, false);
    check_name(&spec.name)?;
    let sp = saml::registration::service_provider(spec, uuid::Uuid::new_v4().to_string(), &check_url)?;
    store::saml::create(&state.db, &sp, state.now()).await.map_err(|e| {
        if e.is_unique_violation() {
            AppError::Conflict(Msg::key("adm-err-entity-taken").with("id", &sp.entity_id))
        } else {
            e
        }
    })?;
    let detail = json!({"protocol": "saml", "name": sp.name, "entity_id": sp.entity_id});
    admin.audit(state, event::APP_CREATED, None, Some(&sp.app_id), &detail).await?;
    Ok(sp)
}

/// An app by its id, an OIDC client id or a SAML entity ID.
pub async fn find(state: &AppState, reference: &str) -> AppResult<App> {
    if let Some(a) = store::apps::find(&state.db, reference).await? {
        return Ok(a);
    }
    if let Some(c) = store::apps::find_client(&state.db, reference).await?
        && let Some(a) = store::apps::find(&state.db, &c.app_id).await?
    {
        return Ok(a);
    }
    if let Some(sp) = store::saml::find_by_entity_id(&state.db, reference).await?
        && let Some(a) = store::apps::find(&state.db, &sp.app_id).await?
    {
        return Ok(a);
    }
    Err(AppError::NotFound)
}

/// Removes an app with its client or service provider, policy, plugin assignments and
/// grants (refresh tokens and codes go with them).
pub async fn remove(state: &AppState, admin: &Admin, app: &App) -> AppResult<()> {
    let removed = store::apps::delete(&state.db, &app.id).await?;
    state.clients.changed();
    if !removed {
        return Err(AppError::NotFound);
    }
    let detail = json!({"protocol": app.protocol, "name": app.name});
    admin.audit(state, event::APP_REMOVED, None, Some(&app.id), &detail).await
}

/// What an edit of an OIDC app sets. The client id and its kind (public or confidential)
/// stay: a client that changes kind is a new registration.
pub struct OidcAppEdit<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub post_logout_redirect_uris: &'a [String],
    pub extra_scopes: &'a [String],
    pub client_credentials: bool,
}

/// Changes an OIDC app's name, redirect URIs, extra scopes and whether it may use the client
/// credentials grant. Grants already made keep their scopes until they end; new authorization
/// requests see the new registration. Turning the client credentials grant off ends the
/// client's own access tokens at introspection at once.
pub async fn update_oidc(state: &AppState, admin: &Admin, app: &App, edit: &OidcAppEdit<'_>) -> AppResult<()> {
    let client = store::apps::find_client_by_app(&state.db, &app.id).await?.ok_or(AppError::NotFound)?;
    let kind = ClientKind { public: client.is_public(), client_credentials: edit.client_credentials };
    let scopes =
        checked_client(state, edit.name, edit.redirect_uris, edit.post_logout_redirect_uris, edit.extra_scopes, kind)?;
    check_client_id(&client.client_id, edit.client_credentials)?;
    let changed = store::apps::update_oidc(
        &state.db,
        &app.id,
        &store::apps::OidcClientEdit {
            name: edit.name.trim(),
            redirect_uris: edit.redirect_uris,
            post_logout_redirect_uris: edit.post_logout_redirect_uris,
            allowed_scopes: &scopes,
            client_credentials: edit.client_credentials,
        },
        state.now(),
    )
    .await?;
    state.clients.changed();
    if !changed {
        return Err(AppError::NotFound);
    }
    let detail = json!({
        "protocol": "oidc",
        "name": edit.name.trim(),
        "redirect_uris": edit.redirect_uris,
        "post_logout_redirect_uris": edit.post_logout_redirect_uris,
        "scopes": scopes,
        "client_credentials": edit.client_credentials,
    });
    admin.audit(state, event::APP_UPDATED, None, Some(&app.id), &detail).await
}

/// Replaces a SAML app's registration with what `spec` describes (checked as a new one is).
pub async fn update_saml(state: &AppState, admin: &Admin, app: &App, spec: SamlAppSpec) -> AppResult<ServiceProvider> {
    let previous = store::saml::find_by_app(&state.db, &app.id).await?.ok_or(AppError::NotFound)?;
    let from_metadata = spec.metadata.is_some();
    let check_url = |what: &str, url: &str| validate_url(state, what, url, false);
    check_name(&spec.name)?;
    let mut sp = saml::registration::service_provider(spec, app.id.clone(), &check_url)?;
    // Fields list ACS and SLO URLs only; where they are unchanged, the indexes and bindings
    // the SP's metadata gave them stay (an SP may ask for its ACS by index).
    if !from_metadata {
        let urls = |acs: &[crate::store::saml::Acs]| acs.iter().map(|a| a.url.clone()).collect::<Vec<_>>();
        if urls(&sp.acs) == urls(&previous.acs) {
            sp.acs = previous.acs;
        }
        if sp.slo_url.is_some() && sp.slo_url == previous.slo_url {
            sp.slo_binding = previous.slo_binding;
        }
    }
    let changed = store::saml::update(&state.db, &sp).await.map_err(|e| {
        if e.is_unique_violation() {
            AppError::Conflict(Msg::key("adm-err-entity-taken").with("id", &sp.entity_id))
        } else {
            e
        }
    })?;
    if !changed {
        return Err(AppError::NotFound);
    }
    let detail = json!({"protocol": "saml", "name": sp.name, "entity_id": sp.entity_id});
    admin.audit(state, event::APP_UPDATED, None, Some(&app.id), &detail).await?;
    Ok(sp)
}

/// A new secret for a confidential client, shown once: the old one stops working at once
/// (a leaked secret is the usual reason to rotate). Public clients have none to rotate.
pub async fn rotate_secret(state: &AppState, admin: &Admin, app: &App) -> AppResult<Secret> {
    let client = store::apps::find_client_by_app(&state.db, &app.id).await?.ok_or(AppError::NotFound)?;
    let Some(old_hash) = client.secret_hash.as_deref() else {
        return Err(AppError::BadRequest(Msg::key("adm-err-public-no-secret")));
    };
    let secret = Secret::random();
    let rotated = store::apps::update_client_secret(
        &state.db,
        &client.client_id,
        old_hash,
        &client_secret_hash(&secret),
        state.now(),
    )
    .await?;
    state.clients.changed();
    if !rotated {
        return Err(AppError::Conflict(Msg::key("adm-err-secret-raced")));
    }
    let detail = json!({"protocol": "oidc", "client_id": client.client_id});
    admin.audit(state, event::APP_SECRET_ROTATED, None, Some(&app.id), &detail).await?;
    Ok(secret)
}
