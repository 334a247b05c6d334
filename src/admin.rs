//! Administrative operations shared by the CLI, the tests and (later) the admin API.

use serde::Serialize;
use url::Url;

use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::oidc::SCOPES_SUPPORTED;
use crate::oidc::token::client_secret_hash;
use crate::state::AppState;
use crate::store::{self, apps::NewOidcClient, users::NewUser, users::User};

/// A generated password: 20 characters from an unambiguous alphabet (~110 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    crypto::random_bytes::<20>().iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

pub struct UserSpec<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub email: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub is_admin: bool,
    pub groups: &'a [String],
}

pub async fn add_user(state: &AppState, spec: &UserSpec<'_>) -> AppResult<User> {
    validate_username(spec.username)?;
    validate_password(spec.password)?;
    if store::users::find_by_username(&state.db, spec.username).await?.is_some() {
        return Err(AppError::Conflict(format!("user `{}` already exists", spec.username)));
    }
    let hash = state.hasher.hash(spec.password).await?;
    let user = store::users::create(
        &state.db,
        &NewUser {
            username: spec.username,
            email: spec.email,
            email_verified: false,
            display_name: spec.display_name,
            password_hash: Some(&hash),
            is_admin: spec.is_admin,
        },
        state.now(),
    )
    .await
    .map_err(|e| {
        if e.is_unique_violation() { AppError::Conflict(format!("user `{}` already exists", spec.username)) } else { e }
    })?;
    for g in spec.groups {
        store::users::add_to_group(&state.db, &user.id, g).await?;
    }
    Ok(user)
}

fn validate_username(u: &str) -> AppResult<()> {
    if u.is_empty() || u.len() > 64 || u.trim() != u || u.chars().any(char::is_control) {
        return Err(AppError::BadRequest("usernames are 1-64 characters, without surrounding spaces".into()));
    }
    Ok(())
}

/// ASVS 2.1.1/2.1.2: at least 12 characters, at most 128, anything allowed.
fn validate_password(p: &str) -> AppResult<()> {
    let n = p.chars().count();
    if !(12..=128).contains(&n) {
        return Err(AppError::BadRequest("passwords are 12 to 128 characters long".into()));
    }
    Ok(())
}

async fn find_user(state: &AppState, username: &str) -> AppResult<User> {
    store::users::find_by_username(&state.db, username)
        .await?
        .ok_or_else(|| AppError::BadRequest(format!("no user `{username}`")))
}

/// Sets a new password and ends the user's sessions and grants.
pub async fn set_password(state: &AppState, username: &str, password: &str) -> AppResult<()> {
    validate_password(password)?;
    let user = find_user(state, username).await?;
    let hash = state.hasher.hash(password).await?;
    let now = state.now();
    store::users::update_password(&state.db, &user.id, &hash, now).await?;
    store::sessions::delete_for_user(&state.db, &user.id).await?;
    store::grants::revoke_for_user(&state.db, &user.id, now).await?;
    Ok(())
}

/// Disables (or re-enables) a user; disabling ends their sessions and grants.
pub async fn set_disabled(state: &AppState, username: &str, disabled: bool) -> AppResult<()> {
    let user = find_user(state, username).await?;
    let now = state.now();
    store::users::update_disabled(&state.db, &user.id, disabled, now).await?;
    if disabled {
        store::sessions::delete_for_user(&state.db, &user.id).await?;
        store::grants::revoke_for_user(&state.db, &user.id, now).await?;
    }
    Ok(())
}

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
}

#[derive(Debug, Serialize)]
pub struct CreatedOidcApp {
    pub app_id: String,
    pub name: String,
    pub client_id: String,
    /// Shown once; only its hash is stored.
    pub client_secret: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
}

/// A redirect URI must be absolute, without fragment (RFC 6749 §3.1.2); plain http only for
/// loopback (RFC 8252 §7.3) or in dev mode.
fn validate_redirect_uri(state: &AppState, uri: &str) -> AppResult<()> {
    let u = Url::parse(uri).map_err(|_| AppError::BadRequest(format!("`{uri}` is not an absolute URL")))?;
    if u.fragment().is_some() {
        return Err(AppError::BadRequest(format!("`{uri}`: redirect URIs must not have a fragment")));
    }
    let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback || state.config.dev_mode => Ok(()),
        "http" => Err(AppError::BadRequest(format!("`{uri}`: http redirect URIs are only allowed for loopback hosts"))),
        // Private-use schemes for native apps (RFC 8252 §7.1) need a dot (reverse domain).
        s if s.contains('.') => Ok(()),
        _ => Err(AppError::BadRequest(format!("`{uri}`: unsupported scheme"))),
    }
}

pub async fn add_oidc_app(state: &AppState, spec: &OidcAppSpec<'_>) -> AppResult<CreatedOidcApp> {
    if spec.name.trim().is_empty() {
        return Err(AppError::BadRequest("the app needs a name".into()));
    }
    if spec.redirect_uris.is_empty() {
        return Err(AppError::BadRequest("at least one redirect URI is required".into()));
    }
    for u in spec.redirect_uris.iter().chain(spec.post_logout_redirect_uris) {
        validate_redirect_uri(state, u)?;
    }
    // Generated ids are hex: base64url could start with `-`, which a shell tool would read as a flag.
    let client_id = spec.client_id.map(str::to_owned).unwrap_or_else(|| hex::encode(crypto::random_bytes::<16>()));
    if client_id.is_empty() || client_id.len() > 128 || !client_id.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        return Err(AppError::BadRequest("client ids are 1-128 visible ASCII characters without `:`".into()));
    }
    let secret = (!spec.public).then(crypto::random_token);
    let secret_hash = secret.as_deref().map(client_secret_hash);
    let mut scopes: Vec<String> = SCOPES_SUPPORTED.iter().map(|s| s.to_string()).collect();
    for s in spec.extra_scopes {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') && !scopes.contains(s) {
            scopes.push(s.clone());
        } else if !scopes.contains(s) {
            return Err(AppError::BadRequest(format!("invalid scope `{s}`")));
        }
    }
    let app = store::apps::create_oidc(
        &state.db,
        &NewOidcClient {
            name: spec.name,
            client_id: &client_id,
            secret_hash: secret_hash.as_deref(),
            redirect_uris: spec.redirect_uris,
            post_logout_redirect_uris: spec.post_logout_redirect_uris,
            allowed_scopes: &scopes,
        },
        state.now(),
    )
    .await
    .map_err(|e| {
        if e.is_unique_violation() { AppError::Conflict(format!("client id `{client_id}` is taken")) } else { e }
    })?;
    Ok(CreatedOidcApp {
        app_id: app.id,
        name: app.name,
        client_id,
        client_secret: secret,
        redirect_uris: spec.redirect_uris.to_vec(),
        post_logout_redirect_uris: spec.post_logout_redirect_uris.to_vec(),
    })
}

/// First start with no users: creates `admin` with a generated password, returned once.
pub async fn ensure_initial_admin(state: &AppState) -> AppResult<Option<String>> {
    if store::users::count(&state.db).await? > 0 {
        return Ok(None);
    }
    let password = generate_password();
    match add_user(
        state,
        &UserSpec {
            username: "admin",
            password: &password,
            email: None,
            display_name: Some("Administrator"),
            is_admin: true,
            groups: &[],
        },
    )
    .await
    {
        Ok(_) => Ok(Some(password)),
        // Another node won the race.
        Err(AppError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Registers (or refreshes) the demo client and resets the `demo` user's password, which is
/// returned so `serve --demo` can print it.
pub async fn ensure_demo(state: &AppState) -> AppResult<String> {
    let redirect = vec![state.url("/demo/callback")];
    let logout = vec![state.url("/demo")];
    match store::apps::find_client(&state.db, crate::http::demo::CLIENT_ID).await? {
        Some(_) => {
            store::apps::update_redirect_uris(&state.db, crate::http::demo::CLIENT_ID, &redirect).await?;
        }
        None => {
            add_oidc_app(
                state,
                &OidcAppSpec {
                    name: "Portcullis demo app",
                    client_id: Some(crate::http::demo::CLIENT_ID),
                    redirect_uris: &redirect,
                    post_logout_redirect_uris: &logout,
                    public: true,
                    extra_scopes: &[],
                },
            )
            .await?;
        }
    }
    let password = generate_password();
    if store::users::find_by_username(&state.db, "demo").await?.is_some() {
        set_password(state, "demo", &password).await?;
    } else {
        add_user(
            state,
            &UserSpec {
                username: "demo",
                password: &password,
                email: Some("demo@example.test"),
                display_name: Some("Demo User"),
                is_admin: false,
                groups: &["demo".to_string()],
            },
        )
        .await?;
    }
    Ok(password)
}
