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
    // DESIGN §5: trusted devices are revoked on a password change.
    store::devices::delete_all(&state.db, &user.id).await?;
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

/// Admin actions need an administrator whose session satisfies the global MFA policy now
/// (a trusted device counts as it would for a login).
pub async fn authorize(
    state: &AppState,
    session: &store::sessions::Session,
    user: &store::users::User,
    device_token: Option<&str>,
) -> AppResult<()> {
    use crate::mfa::policy::{Decision, StepUp};
    if !user.is_admin {
        return Err(AppError::Forbidden("administrators only".into()));
    }
    let ctx = crate::mfa::step::LoginCtx {
        user,
        app_id: None,
        step_up: StepUp::None,
        freshness_demanded: false,
        session: Some(session),
        device_token,
        request: None,
        origin: &crate::audit::Origin::default(),
        user_agent: None,
        plugin: crate::mfa::step::PluginRun::Skip,
    };
    match crate::mfa::step::decide(state, &ctx).await?.decision {
        Decision::Satisfied { .. } => Ok(()),
        _ => Err(AppError::Forbidden("mfa_required: verify a second factor first (POST /api/v1/auth/step-up)".into())),
    }
}

/// Applies a partial update (a JSON object of setting keys) to the global MFA settings.
/// Unknown keys and invalid values are refused, naming the key; nothing is half-written.
pub async fn update_settings(
    state: &AppState,
    patch: &serde_json::Value,
    actor: Option<&str>,
    origin: &crate::audit::Origin,
) -> AppResult<crate::mfa::policy::Settings> {
    let serde_json::Value::Object(changes) = patch else {
        return Err(AppError::BadRequest("settings must be a JSON object".into()));
    };
    let current = store::settings::load(&state.db).await?;
    let mut merged = serde_json::to_value(&current).expect("settings serialise");
    for (k, v) in changes {
        if merged.get(k).is_none() {
            return Err(AppError::BadRequest(format!("unknown setting `{k}`")));
        }
        // Check each key on its own, so the error names it.
        let mut single = serde_json::to_value(&current).expect("settings serialise");
        single[k] = v.clone();
        if let Err(e) = serde_json::from_value::<crate::mfa::policy::Settings>(single) {
            return Err(AppError::BadRequest(format!("setting `{k}`: {e}")));
        }
        merged[k] = v.clone();
    }
    let new: crate::mfa::policy::Settings =
        serde_json::from_value(merged).map_err(|e| AppError::BadRequest(format!("invalid setting: {e}")))?;
    new.validate().map_err(AppError::BadRequest)?;
    store::settings::save(&state.db, &new, state.now()).await?;
    let keys: Vec<&str> = changes.keys().map(String::as_str).collect();
    let detail = serde_json::json!({"changed": keys}).to_string();
    crate::audit::record(state, crate::audit::event::SETTINGS_CHANGED, actor, None, origin, Some(&detail)).await?;
    Ok(new)
}

/// Sets an app's MFA policy, re-auth interval and trusted-device setting.
pub async fn set_app_policy(
    state: &AppState,
    app_id: &str,
    policy: &crate::mfa::policy::AppPolicy,
    actor: Option<&str>,
    origin: &crate::audit::Origin,
) -> AppResult<()> {
    if !(0..=60 * 24 * 365).contains(&policy.reauth_interval_minutes) {
        return Err(AppError::BadRequest("reauth_interval_minutes must be between 0 and 525600".into()));
    }
    if !store::settings::update_app_policy(&state.db, app_id, policy).await? {
        return Err(AppError::NotFound);
    }
    let detail = serde_json::to_string(policy).expect("policy serialises");
    crate::audit::record(state, crate::audit::event::SETTINGS_CHANGED, actor, Some(app_id), origin, Some(&detail)).await
}

/// Sets a group's minimum MFA policy (creating the group), `None` to clear it.
pub async fn set_group_policy(
    state: &AppState,
    group: &str,
    policy: Option<crate::mfa::policy::Policy>,
    actor: Option<&str>,
    origin: &crate::audit::Origin,
) -> AppResult<()> {
    let group = group.trim();
    if group.is_empty() || group.len() > 128 {
        return Err(AppError::BadRequest("group names are 1-128 characters".into()));
    }
    store::settings::set_group_policy(&state.db, group, policy).await?;
    let detail = serde_json::json!({"group": group, "mfa_policy": policy}).to_string();
    crate::audit::record(state, crate::audit::event::SETTINGS_CHANGED, actor, None, origin, Some(&detail)).await
}

/// Removes every second factor and trusted device of a user (lost device): the next login
/// leads to enrolment wherever MFA is required.
pub async fn reset_mfa(
    state: &AppState,
    username: &str,
    actor: Option<&str>,
    origin: &crate::audit::Origin,
) -> AppResult<()> {
    let user = find_user(state, username).await?;
    store::factors::delete_totp(&state.db, &user.id).await?;
    store::factors::delete_backup_codes(&state.db, &user.id).await?;
    store::factors::delete_passkeys(&state.db, &user.id).await?;
    store::devices::delete_all(&state.db, &user.id).await?;
    let detail = format!("reset by {}", actor.unwrap_or("cli"));
    crate::audit::record(state, crate::audit::event::FACTOR_REMOVED, Some(&user.id), None, origin, Some(&detail)).await
}
