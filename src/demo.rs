//! The built-in demo relying party (`serve --demo`): a real authorization code flow with PKCE
//! over HTTP, using the `openidconnect` crate exactly as an outside application would, then
//! a page with the verified ID token claims. Its per-flow state (PKCE verifier, nonce, state)
//! travels in a cookie encrypted under the master key, so the demo keeps no server state.
//!
//! It is not part of the identity provider: nothing in the server refers to it. The binary
//! registers it as any app is registered (`register`) and serves its routes next to the
//! provider's (`router`, given to `http::router`).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::admin::Admin;
use crate::admin::apps::{self, OidcAppSpec};
use crate::admin::users::{self, UserSpec};
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::http::error::{message_page, render};
use crate::state::AppState;
use crate::store;
use crate::web::{DemoClaims, DemoPage};

pub const CLIENT_ID: &str = "portcullis-demo";
const COOKIE: &str = "portcullis_demo_flow";

/// Registers (or refreshes) the demo client and sets the `demo` user's password, which is
/// returned so `serve --demo` can print it: the same on every start with the same data
/// directory (kept in `demo-password` there, readable by its owner only). The demo app asks
/// for a second step (its own policy `any`), so the first sign-in shows the MFA step: set up
/// an authenticator app or a passkey. Done by the operator, like `portcullis app add`.
pub async fn register(state: &AppState) -> AppResult<String> {
    let admin = Admin::operator();
    let redirect = vec![state.url("/demo/callback")];
    let logout = vec![state.url("/demo")];
    match store::apps::find_client(&state.db, CLIENT_ID).await? {
        Some(_) => {
            store::apps::update_redirect_uris(&state.db, CLIENT_ID, &redirect).await?;
            state.clients.changed();
        }
        None => {
            let spec = OidcAppSpec {
                name: "Portcullis demo app",
                client_id: Some(CLIENT_ID),
                redirect_uris: &redirect,
                post_logout_redirect_uris: &logout,
                public: true,
                extra_scopes: &[],
                client_credentials: false,
            };
            let created = apps::add_oidc(state, &admin, &spec).await?;
            let policy = crate::mfa::policy::AppPolicy {
                mfa_policy: Some(crate::mfa::policy::Policy::Any),
                ..Default::default()
            };
            crate::admin::settings::set_app_policy(state, &admin, &created.app_id, &policy).await?;
        }
    }
    // With an email transport (the demo script uses the log one), the demo user can try email
    // codes as a second step: the codes appear in the server's log.
    if state.delivery.is_available(crate::delivery::Channel::Email) {
        let allowed = store::settings::load(&state.db).await?.mfa_allowed_factors;
        if !allowed.contains(&crate::mfa::policy::Factor::Email) {
            let mut allowed = allowed;
            allowed.push(crate::mfa::policy::Factor::Email);
            crate::admin::settings::update(state, &admin, &serde_json::json!({"mfa_allowed_factors": allowed})).await?;
        }
    }
    let password = demo_password(&state.config.data_dir)?;
    if store::users::find_by_username(&state.db, "demo").await?.is_some() {
        users::set_password(state, &admin, "demo", &password).await?;
    } else {
        let spec = UserSpec {
            username: "demo",
            password: &password,
            email: Some("demo@example.test"),
            email_verified: true,
            display_name: Some("Demo User"),
            is_admin: false,
            groups: &["demo".to_string()],
        };
        users::add(state, &admin, &spec).await?;
    }
    Ok(password)
}

/// The demo user's password: the one kept in the data directory, else a new one kept there.
fn demo_password(data_dir: &std::path::Path) -> AppResult<String> {
    let path = data_dir.join("demo-password");
    if let Ok(kept) = std::fs::read_to_string(&path) {
        let kept = kept.trim();
        if users::validate_password(kept).is_ok() {
            return Ok(kept.to_owned());
        }
    }
    let password = users::generate_password();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts.open(&path).map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))?;
    std::io::Write::write_all(&mut file, format!("{password}\n").as_bytes())
        .map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))?;
    Ok(password)
}

#[derive(Clone)]
struct DemoState {
    app: AppState,
    http: openidconnect::reqwest::Client,
}

pub fn router(app: AppState) -> Router {
    let http = openidconnect::reqwest::Client::builder()
        // Following redirects would open the client to SSRF (openidconnect docs).
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client builds");
    Router::new()
        .route("/demo", get(index))
        .route("/demo/start", get(start))
        .route("/demo/callback", get(callback))
        .with_state(DemoState { app, http })
}

#[derive(Serialize, Deserialize)]
struct Flow {
    verifier: String,
    nonce: String,
    state: String,
}

async fn oidc_client(
    s: &DemoState,
) -> anyhow::Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
> {
    let issuer = IssuerUrl::new(s.app.issuer().to_owned())?;
    let meta = CoreProviderMetadata::discover_async(issuer, &s.http).await?;
    Ok(CoreClient::from_provider_metadata(meta, ClientId::new(CLIENT_ID.into()), None)
        .set_redirect_uri(RedirectUrl::new(s.app.url("/demo/callback"))?))
}

async fn index() -> Response {
    render(StatusCode::OK, &DemoPage { claims: None, logout_url: String::new() })
}

/// The demo's own failure: `status` 400 for what the browser brought (no state, a state that
/// does not match, the provider's refusal), 502 when talking to the provider failed.
fn demo_error_with(status: StatusCode, msg: &str) -> Response {
    message_page(status, "Demo sign-in failed", msg, Some(("/demo", "Back to the demo")))
}

fn demo_error(msg: &str) -> Response {
    demo_error_with(StatusCode::BAD_GATEWAY, msg)
}

fn demo_refused(msg: &str) -> Response {
    demo_error_with(StatusCode::BAD_REQUEST, msg)
}

/// What "sign in again" asks for: nothing more, a phishing-resistant method (`acr_values`),
/// or a fresh second step now (`max_age=0`).
#[derive(Deserialize, Default)]
struct StartQuery {
    #[serde(default)]
    ask: String,
}

async fn start(State(s): State<DemoState>, jar: CookieJar, Query(q): Query<StartQuery>) -> Response {
    let ask = q.ask;
    let client = match oidc_client(&s).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "demo: discovery failed");
            return demo_error("The demo app could not read the provider's discovery document.");
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("groups".into()))
        .set_pkce_challenge(challenge);
    match ask.as_str() {
        "phr" => {
            request = request.add_auth_context_value(openidconnect::AuthenticationContextClass::new(
                crate::oidc::acr::PHISHING_RESISTANT.into(),
            ))
        }
        "fresh" => request = request.set_max_age(std::time::Duration::ZERO),
        _ => {}
    }
    let (url, csrf, nonce) = request.url();
    let flow =
        Flow { verifier: verifier.secret().clone(), nonce: nonce.secret().clone(), state: csrf.secret().clone() };
    let sealed = s.app.master_key.encrypt("demo-flow", &serde_json::to_vec(&flow).expect("flow serialises"));
    let cookie = Cookie::build((COOKIE, crypto::b64url(&sealed)))
        .path("/demo")
        .http_only(true)
        .secure(s.app.config.is_https())
        .same_site(SameSite::Lax)
        .build();
    (jar.add(cookie), Redirect::to(url.as_str())).into_response()
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(State(s): State<DemoState>, jar: CookieJar, Query(q): Query<CallbackQuery>) -> Response {
    let flow = jar
        .get(COOKIE)
        .and_then(|c| crypto::b64url_decode(c.value()))
        .and_then(|b| s.app.master_key.decrypt("demo-flow", &b).ok())
        .and_then(|b| serde_json::from_slice::<Flow>(&b).ok());
    let jar = jar.remove(Cookie::build(COOKIE).path("/demo"));
    let Some(flow) = flow else {
        return (jar, demo_refused("The demo sign-in state is missing; start again.")).into_response();
    };
    if let Some(err) = q.error {
        let msg = format!("The provider answered `{err}`: {}", q.error_description.unwrap_or_default());
        return (jar, demo_refused(&msg)).into_response();
    }
    if q.state.as_deref() != Some(flow.state.as_str()) {
        return (jar, demo_refused("The state parameter does not match; start again.")).into_response();
    }
    let Some(code) = q.code else {
        return (jar, demo_refused("The provider sent no code.")).into_response();
    };
    let result = async {
        let client = oidc_client(&s).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
            .request_async(&s.http)
            .await
            .map_err(|e| anyhow::anyhow!("token request failed: {e}"))?;
        let id_token = tokens.id_token().ok_or_else(|| anyhow::anyhow!("no ID token"))?;
        let claims = id_token.claims(&client.id_token_verifier(), &Nonce::new(flow.nonce))?;
        let raw_payload = id_token.to_string().split('.').nth(1).and_then(crypto::b64url_decode).unwrap_or_default();
        let raw: serde_json::Value = serde_json::from_slice(&raw_payload).unwrap_or_default();
        let amr = claims
            .auth_method_refs()
            .map(|v| v.iter().map(|a| a.as_str().to_owned()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        let view = DemoClaims {
            sub: claims.subject().as_str().to_owned(),
            username: claims.preferred_username().map(|u| u.as_str().to_owned()).unwrap_or_default(),
            amr: format!("[{amr}]"),
            acr: claims.auth_context_ref().map(|a| a.as_str().to_owned()).unwrap_or_default(),
            auth_time: claims.auth_time().map(|t| t.to_rfc3339()).unwrap_or_default(),
            iss: claims.issuer().as_str().to_owned(),
            aud: claims.audiences().iter().map(|a| a.as_str().to_owned()).collect::<Vec<_>>().join(", "),
            raw: serde_json::to_string_pretty(&raw).unwrap_or_default(),
        };
        let logout_url = format!(
            "{}?id_token_hint={}&post_logout_redirect_uri={}",
            s.app.url("/oauth2/logout"),
            id_token,
            url::form_urlencoded::byte_serialize(s.app.url("/demo").as_bytes()).collect::<String>()
        );
        anyhow::Ok(DemoPage { claims: Some(view), logout_url })
    }
    .await;
    match result {
        Ok(page) => (jar, render(StatusCode::OK, &page)).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "demo: code exchange or ID token verification failed");
            (jar, demo_error(&format!("The demo app could not complete the sign-in: {e}"))).into_response()
        }
    }
}
