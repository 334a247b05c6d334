//! Administrative operations shared by the CLI, the JSON API, the pages and the tests.

pub mod security;

use security::SecurityEvent;

use serde::Serialize;
use url::Url;

use crate::audit::Origin;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::mfa::policy::{Factor, Policy, Settings};
use crate::oidc::SCOPES_SUPPORTED;
use crate::oidc::token::client_secret_hash;
use crate::saml;
pub use crate::saml::registration::{SAML_ATTRIBUTE_SOURCES, SamlAppSpec};
use crate::state::AppState;
use crate::store::saml::ServiceProvider;
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

/// Sets a new password; the security event ends the user's sessions, grants and devices.
pub async fn set_password(state: &AppState, username: &str, password: &str, origin: &Origin) -> AppResult<()> {
    validate_password(password)?;
    let user = find_user(state, username).await?;
    let hash = state.hasher.hash(password).await?;
    store::users::update_password(&state.db, &user.id, &hash, state.now()).await?;
    security::apply(state, &user.id, SecurityEvent::PasswordChanged, origin).await
}

/// Disables (or re-enables) a user; disabling ends their sessions, grants and devices.
pub async fn set_disabled(state: &AppState, username: &str, disabled: bool, origin: &Origin) -> AppResult<()> {
    let user = find_user(state, username).await?;
    store::users::update_disabled(&state.db, &user.id, disabled, state.now()).await?;
    if disabled {
        security::apply(state, &user.id, SecurityEvent::UserDisabled, origin).await?;
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

#[derive(Serialize)]
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
/// loopback (RFC 8252 §7.3) or in dev mode; private-use schemes with a dot for native apps
/// (RFC 8252 §7.1).
fn validate_redirect_uri(state: &AppState, uri: &str) -> AppResult<()> {
    validate_url(state, "redirect URI", uri, true)
}

/// An absolute URL without fragment: https, or http for loopback hosts and in dev mode, or
/// (when `private_schemes`) a reverse-domain private-use scheme.
fn validate_url(state: &AppState, what: &str, uri: &str, private_schemes: bool) -> AppResult<()> {
    let u = Url::parse(uri).map_err(|_| AppError::BadRequest(format!("{what} `{uri}` is not an absolute URL")))?;
    if u.fragment().is_some() {
        return Err(AppError::BadRequest(format!("{what} `{uri}` must not have a fragment")));
    }
    let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback || state.config.dev_mode => Ok(()),
        "http" => Err(AppError::BadRequest(format!("{what} `{uri}`: http is only allowed for loopback hosts"))),
        s if private_schemes && s.contains('.') => Ok(()),
        _ => Err(AppError::BadRequest(format!("{what} `{uri}` must be https"))),
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

/// Registers a SAML service provider (from the spec, its metadata, or both): the SAML side
/// is checked by `saml::registration`, the URLs as every app's are.
pub async fn add_saml_app(state: &AppState, spec: SamlAppSpec) -> AppResult<ServiceProvider> {
    let check_url = |what: &str, url: &str| validate_url(state, what, url, false);
    let sp = saml::registration::service_provider(spec, uuid::Uuid::new_v4().to_string(), &check_url)?;
    store::saml::create(&state.db, &sp, state.now()).await.map_err(|e| {
        if e.is_unique_violation() {
            AppError::Conflict(format!("entity ID `{}` is already registered", sp.entity_id))
        } else {
            e
        }
    })?;
    Ok(sp)
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
        set_password(state, "demo", &password, &Origin::default()).await?;
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
    use crate::mfa::assurance::Assurance;
    use crate::mfa::policy::Decision;
    if !user.is_admin {
        return Err(AppError::Forbidden("administrators only".into()));
    }
    let ctx = crate::mfa::step::LoginCtx {
        user,
        app_id: None,
        step_up: Assurance::Password,
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
        _ => Err(AppError::MfaRequired("verify a second factor first (POST /api/v1/auth/step-up)".into())),
    }
}

/// Applies a partial update (a JSON object of setting keys) to the global MFA settings.
/// Unknown keys and invalid values are refused, naming the key; nothing is half-written.
pub async fn update_settings(
    state: &AppState,
    patch: &serde_json::Value,
    actor: Option<&str>,
    origin: &crate::audit::Origin,
) -> AppResult<Settings> {
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
    check_policies(state, &new, None).await?;
    store::settings::save(&state.db, &new, state.now()).await?;
    let keys: Vec<&str> = changes.keys().map(String::as_str).collect();
    let detail = serde_json::json!({"changed": keys}).to_string();
    crate::audit::record(state, crate::audit::event::SETTINGS_CHANGED, actor, None, origin, Some(&detail)).await?;
    Ok(new)
}

/// A policy that is about to change: a group's or an app's (by id).
enum Proposed<'a> {
    Group(&'a str, Option<Policy>),
    App(&'a str, Option<Policy>),
}

/// Why `policy` (named `what`) could never be met under `s`, if it could not.
fn policy_problem(state: &AppState, what: &str, policy: Policy, s: &Settings) -> Option<String> {
    let usable = crate::mfa::manage::usable_factors(state, s);
    if crate::mfa::policy::satisfiable(policy, &usable) {
        return None;
    }
    let need = crate::mfa::policy::weakest_factor_for(policy);
    if s.mfa_allowed_factors.contains(&need) {
        return Some(format!(
            "{what} `{}` cannot be met on this issuer: passkeys need a domain name ({}), so no one could sign in",
            policy.as_str(),
            state.issuer()
        ));
    }
    let allowed: Vec<&str> = s.mfa_allowed_factors.iter().map(|f| f.as_str()).collect();
    Some(format!(
        "{what} `{}` needs `{}` in mfa_allowed_factors (now [{}]), or no one it applies to could sign in",
        policy.as_str(),
        need.as_str(),
        allowed.join(", ")
    ))
}

/// Refuses settings under which some policy in force could never be met (DESIGN §5: no
/// settings change can lock every administrator out): the global one, every group's minimum
/// and every app's own, with `proposed` standing in for the one about to change.
async fn check_policies(state: &AppState, s: &Settings, proposed: Option<&Proposed<'_>>) -> AppResult<()> {
    if let Some(m) = policy_problem(state, "mfa_policy", s.mfa_policy, s) {
        return Err(AppError::BadRequest(m));
    }
    if s.mfa_enforce_enrollment && crate::mfa::manage::usable_factors(state, s).is_empty() {
        return Err(AppError::BadRequest(
            "mfa_enforce_enrollment needs a factor in mfa_allowed_factors that works on this issuer".into(),
        ));
    }
    // The policy about to be set (for a group that may not exist yet), then every other one.
    if let Some(Proposed::Group(name, Some(p))) = proposed
        && let Some(m) = policy_problem(state, &format!("group `{name}`: mfa_policy"), *p, s)
    {
        return Err(AppError::BadRequest(m));
    }
    for g in store::settings::list_groups(&state.db).await? {
        if matches!(proposed, Some(Proposed::Group(name, _)) if *name == g.name) {
            continue;
        }
        if let Some(p) = g.mfa_policy.as_deref().and_then(Policy::parse)
            && let Some(m) = policy_problem(state, &format!("group `{}`: mfa_policy", g.name), p, s)
        {
            return Err(AppError::BadRequest(m));
        }
    }
    for app in store::apps::list(&state.db).await? {
        let policy = match proposed {
            Some(Proposed::App(id, p)) if *id == app.id => *p,
            _ => store::settings::find_app_policy(&state.db, &app.id).await?.and_then(|a| a.mfa_policy),
        };
        if let Some(p) = policy
            && let Some(m) = policy_problem(state, &format!("app `{}`: mfa_policy", app.name), p, s)
        {
            return Err(AppError::BadRequest(m));
        }
    }
    Ok(())
}

/// What an administrator should know after changing policies: where their own account
/// falls short of what the global policy (raised by their groups) now asks. They are not
/// locked out (enrolment is always offered for an allowed factor), but their next sign-in,
/// and their next admin action, will ask for the second step.
pub async fn own_account_warnings(state: &AppState, user: &User) -> AppResult<Vec<String>> {
    let s = store::settings::load(&state.db).await?;
    let groups = store::settings::user_groups(&state.db, &user.id).await?;
    let policy = groups.iter().filter_map(|(_, p)| *p).fold(s.mfa_policy, Policy::max);
    if policy <= Policy::Optional {
        return Ok(Vec::new());
    }
    let enrolled = store::factors::enrolled(&state.db, &user.id).await?;
    let has = enrolled.list().into_iter().any(|f| {
        f != Factor::BackupCode && crate::mfa::policy::qualifies(f, policy, crate::mfa::assurance::Assurance::Password)
    });
    if has {
        return Ok(Vec::new());
    }
    let need = crate::mfa::policy::weakest_factor_for(policy);
    Ok(vec![format!(
        "Your own account has no {} yet, which the policy `{}` now asks of you: set one up on your account page before you sign in again or change settings.",
        need.label(),
        policy.as_str()
    )])
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
    let settings = store::settings::load(&state.db).await?;
    check_policies(state, &settings, Some(&Proposed::App(app_id, policy.mfa_policy))).await?;
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
    policy: Option<Policy>,
    actor: Option<&str>,
    origin: &crate::audit::Origin,
) -> AppResult<()> {
    let group = group.trim();
    if group.is_empty() || group.len() > 128 {
        return Err(AppError::BadRequest("group names are 1-128 characters".into()));
    }
    let settings = store::settings::load(&state.db).await?;
    check_policies(state, &settings, Some(&Proposed::Group(group, policy))).await?;
    store::settings::set_group_policy(&state.db, group, policy).await?;
    let detail = serde_json::json!({"group": group, "mfa_policy": policy}).to_string();
    crate::audit::record(state, crate::audit::event::SETTINGS_CHANGED, actor, None, origin, Some(&detail)).await
}

/// Removes every second factor and trusted device of a user (lost device): the next login
/// leads to enrolment wherever MFA is required, and no existing sign-in survives it.
pub async fn reset_mfa(state: &AppState, username: &str, actor: Option<&str>, origin: &Origin) -> AppResult<()> {
    let user = find_user(state, username).await?;
    store::factors::delete_totp(&state.db, &user.id).await?;
    store::factors::delete_backup_codes(&state.db, &user.id).await?;
    store::factors::delete_passkeys(&state.db, &user.id).await?;
    let detail = format!("reset by {}", actor.unwrap_or("cli"));
    crate::audit::record(state, crate::audit::event::FACTOR_REMOVED, Some(&user.id), None, origin, Some(&detail))
        .await?;
    security::apply(state, &user.id, SecurityEvent::MfaResetByAdmin, origin).await
}

crate::debug_redacted!(CreatedOidcApp {
    shown: [app_id, name, client_id, redirect_uris, post_logout_redirect_uris],
    secret: [client_secret],
});
