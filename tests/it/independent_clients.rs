//! Relying parties written by others, in other languages, against a real server: Python's
//! Authlib runs the code flow with PKCE through the login form, validates the ID token with
//! its own rules, and exercises userinfo, refresh rotation and reuse, introspection and
//! revocation (`tests/clients/authlib_rp.py`); Python's pysaml2 service provider signs in
//! over SAML and validates the signed response with its own rules, then gets NoPassive for a
//! passive step-up (`tests/clients/pysaml2_sp.py`). The README's test command installs them into
//! `tests/clients/.venv`; without it the test is skipped locally and fails under `CI=true`.

use std::path::PathBuf;

use crate::both_databases;
use crate::common::*;

both_databases!(authlib_code_flow, pysaml2_single_sign_on);

fn python() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/.venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true but {} is missing", venv.display());
    skip(&format!("the independent clients: {} is missing (scripts/test installs Authlib there)", venv.display()));
    None
}

async fn authlib_code_flow(b: Backend) {
    let Some(python) = python() else { return };
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    // Also a service in its own name (the client credentials grant, scope `api:read`).
    let spec = portcullis::admin::apps::OidcAppSpec {
        name: "Authlib",
        client_id: None,
        redirect_uris: &[REDIRECT.to_owned()],
        post_logout_redirect_uris: &[],
        public: false,
        extra_scopes: &["api:read".to_owned()],
        client_credentials: true,
    };
    let client =
        portcullis::admin::apps::add_oidc(&srv.state, &portcullis::admin::Admin::operator(), &spec).await.unwrap();
    // Password only until the client steps up (`acr_values`), as with mod_auth_openidc.
    srv.set_settings(serde_json::json!({"mfa_policy": "disabled"})).await;
    let e = portcullis::mfa::totp::begin_enrolment(&srv.state, &alice).await.unwrap();
    let code = totp_code(&e.secret, srv.now());
    assert!(portcullis::mfa::totp::verify(&srv.state, &alice, &code, true).await.unwrap());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/authlib_rp.py");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(script)
        .env("ISSUER", srv.issuer())
        .env("CLIENT_ID", &client.client_id)
        .env("CLIENT_SECRET", client.client_secret.as_deref().unwrap())
        .env("REDIRECT_URI", REDIRECT)
        .env("USERNAME", "alice")
        .env("PASSWORD", PASSWORD)
        .env("TOTP_SECRET", &e.secret);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "Authlib relying party failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("authlib: all checks passed"), "{stdout}");
    let user = portcullis::store::users::find_by_username(&srv.state.db, "alice").await.unwrap().unwrap();
    assert!(stdout.contains(&format!("\"sub\": \"{}\"", user.id)), "{stdout}");
    srv.stop().await;
}

async fn pysaml2_single_sign_on(b: Backend) {
    let Some(python) = python() else { return };
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let spec = serde_json::json!({
        "name": "pysaml2",
        "entity_id": "https://pysaml2.example/sp",
        "acs_urls": ["https://pysaml2.example/acs"],
    });
    portcullis::admin::apps::add_saml(
        &srv.state,
        &portcullis::admin::Admin::operator(),
        serde_json::from_value(spec).unwrap(),
    )
    .await
    .unwrap();
    srv.set_settings(serde_json::json!({"mfa_policy": "disabled"})).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/pysaml2_sp.py");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(script)
        .env("BASE", srv.url("/"))
        .env("SP_ENTITY", "https://pysaml2.example/sp")
        .env("ACS", "https://pysaml2.example/acs")
        .env("USERNAME", "alice")
        .env("PASSWORD", PASSWORD);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pysaml2 service provider failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("pysaml2: all checks passed"), "{stdout}");
    assert!(stdout.contains(&format!("\"name_id\": \"{}\"", alice.id)), "{stdout}");
    srv.stop().await;
}
