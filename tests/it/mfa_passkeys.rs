//! Passkeys as the second factor, driven by a software authenticator
//! (webauthn-authenticator-rs `SoftPasskey`), which builds and signs its own CTAP2 data:
//! enrolment inside a login, list/rename/remove, authentication over the JSON API and
//! through the browser pages of an OIDC flow, and the ways an assertion must fail
//! (replay, a foreign origin, a ceremony used twice, someone else's transaction).

use crate::both_databases;
use crate::common::*;
use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::{AuthenticatorBackend, WebauthnAuthenticator};

both_databases!(passkey_over_json, passkey_in_oidc_browser_flow, passkey_assertions_that_must_fail);

pub(crate) fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub(crate) fn localhost() -> Options {
    Options { localhost_issuer: true, manual_clock: true, ..Default::default() }
}

pub(crate) fn origin(srv: &TestServer) -> Url {
    Url::parse(srv.issuer()).unwrap()
}

/// Creates a credential for server options (`{"publicKey": ...}`).
pub(crate) fn register(key: &mut SoftPasskey, origin: &Url, options: &Value) -> Value {
    let options: CreationChallengeResponse = serde_json::from_value(options.clone()).expect("creation options");
    json!(key.do_registration(origin.clone(), options).expect("soft authenticator registers"))
}

/// Signs an assertion for server options (`{"publicKey": ...}`).
pub(crate) fn assert_with(key: &mut SoftPasskey, origin: &Url, options: &Value) -> Value {
    let options: RequestChallengeResponse = serde_json::from_value(options.clone()).expect("request options");
    json!(key.do_authentication(origin.clone(), options).expect("soft authenticator signs"))
}

/// Signs in over JSON and enrols a passkey inside the login (policy `any`, no factor yet).
pub(crate) async fn enrol_in_login(
    srv: &TestServer,
    http: &reqwest::Client,
    user: &str,
    key: &mut SoftPasskey,
) -> Value {
    let (status, body) = api_login(srv, http, user).await;
    assert_eq!(status, 200);
    assert_eq!(body["mfa_enrollment_required"], true, "{body}");
    assert_eq!(body["factors"], json!(["passkey", "totp"]));
    let token = body["enrollment_token"].as_str().unwrap().to_owned();
    let (status, begin) =
        api_post(http, &srv.url("/api/v1/mfa/passkey/register/begin"), json!({"enrollment_token": token})).await;
    assert_eq!(status, 200, "{begin}");
    assert_eq!(begin["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(begin["publicKey"]["authenticatorSelection"]["userVerification"], "required");
    let ceremony = begin["session"].as_str().unwrap();
    let credential = register(key, &origin(srv), &begin);
    let url = srv.url(&format!("/api/v1/mfa/passkey/register/finish?session={ceremony}"));
    let (status, body) =
        api_post(http, &url, json!({"enrollment_token": token, "credential": credential, "name": "Soft key"})).await;
    assert_eq!(status, 200, "{body}");
    // Registering with user verification is this login's second factor.
    assert_eq!(body["authenticated"], true);
    assert_eq!(body["session"]["mfa_factor"], "passkey");
    // The ceremony answered once.
    let (status, _) =
        api_post(http, &url, json!({"enrollment_token": token, "credential": credential, "name": "again"})).await;
    assert_eq!(status, 400);
    body
}

/// Password, then a passkey assertion over JSON; returns the final body.
pub(crate) async fn passkey_login(
    srv: &TestServer,
    http: &reqwest::Client,
    user: &str,
    key: &mut SoftPasskey,
) -> Value {
    let (_, body) = api_login(srv, http, user).await;
    assert_eq!(body["mfa_required"], true, "{body}");
    assert!(body["factors"].as_array().unwrap().contains(&json!("passkey")), "{body}");
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    let (status, options) =
        api_post(http, &srv.url("/api/v1/auth/mfa/passkey/begin"), json!({"mfa_token": token})).await;
    assert_eq!(status, 200, "{options}");
    let credential = assert_with(key, &origin(srv), &options);
    let (status, body) = api_post(
        http,
        &srv.url("/api/v1/auth/mfa/passkey/finish"),
        json!({"mfa_token": token, "credential": credential}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn passkey_over_json(b: Backend) {
    let Some(srv) = TestServer::start_with(b, localhost()).await else { return };
    srv.add_user("alice").await;
    srv.set_settings(json!({"mfa_policy": "any"})).await;
    let mut key = SoftPasskey::new(true);
    let http = cookie_client();
    enrol_in_login(&srv, &http, "alice", &mut key).await;

    // Listed, renamed, fetched.
    let list: Value = http.get(srv.url("/api/v1/mfa/passkeys")).send().await.unwrap().json().await.unwrap();
    let passkeys = list["passkeys"].as_array().unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0]["name"], "Soft key");
    assert!(passkeys[0].get("credential").is_none(), "the credential itself is not shown");
    let id = passkeys[0]["id"].as_str().unwrap().to_owned();
    let url = srv.url(&format!("/api/v1/mfa/passkeys/{id}"));
    let resp = http.patch(&url).json(&json!({"name": "  Laptop\u{7}  "})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let one: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(one["name"], "Laptop");

    // A second passkey from the profile (fresh MFA: the enrolment just now).
    let mut key2 = SoftPasskey::new(true);
    let (status, begin) = api_post(&http, &srv.url("/api/v1/mfa/passkey/register/begin"), json!({})).await;
    assert_eq!(status, 200, "{begin}");
    assert_eq!(begin["publicKey"]["excludeCredentials"].as_array().unwrap().len(), 1, "the first key is excluded");
    let credential = register(&mut key2, &origin(&srv), &begin);
    let finish =
        srv.url(&format!("/api/v1/mfa/passkey/register/finish?session={}", begin["session"].as_str().unwrap()));
    let (status, second) = api_post(&http, &finish, json!({"credential": credential, "name": "Phone"})).await;
    assert_eq!(status, 201, "{second}");
    // Without the ceremony id the finish is refused in JSON.
    let (status, body) =
        api_post(&http, &srv.url("/api/v1/mfa/passkey/register/finish"), json!({"credential": credential})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));

    // Later logins: either passkey is a second factor; the tokens say hwk.
    let http2 = cookie_client();
    let body = passkey_login(&srv, &http2, "alice", &mut key2).await;
    assert_eq!(body["authenticated"], true);
    assert_eq!(body["session"]["mfa_factor"], "passkey");
    let list: Value = http2.get(srv.url("/api/v1/mfa/passkeys")).send().await.unwrap().json().await.unwrap();
    let used: Vec<&Value> =
        list["passkeys"].as_array().unwrap().iter().filter(|p| !p["last_used_at"].is_null()).collect();
    assert_eq!(used.len(), 1, "last use recorded on the key that signed: {list}");
    assert_eq!(used[0]["name"], "Phone");

    // Removing needs a fresh verification.
    srv.advance(601);
    let resp = http2.delete(&url).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let (status, step) = api_post(&http2, &srv.url("/api/v1/auth/step-up"), json!({})).await;
    assert_eq!(status, 200, "{step}");
    let token = step["mfa_token"].as_str().unwrap();
    let (_, options) = api_post(&http2, &srv.url("/api/v1/auth/mfa/passkey/begin"), json!({"mfa_token": token})).await;
    let credential = assert_with(&mut key, &origin(&srv), &options);
    let (status, body) = api_post(
        &http2,
        &srv.url("/api/v1/auth/mfa/passkey/finish"),
        json!({"mfa_token": token, "credential": credential}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(http2.delete(&url).send().await.unwrap().status(), 204);
    let second_id = second["id"].as_str().unwrap();
    let resp = http2.delete(srv.url(&format!("/api/v1/mfa/passkeys/{second_id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(http2.get(&url).send().await.unwrap().status(), 404);

    // No factor left under `any`: the next login asks for one of the backup codes that came
    // with the first passkey, then leads to enrolment — never a free pass.
    let (_, body) = api_login(&srv, &cookie_client(), "alice").await;
    assert_eq!((&body["factors"], &body["enrollment_follows"]), (&json!(["backup_code"]), &json!(true)), "{body}");

    let audit = srv.audit(None, "mfa.factor_removed", 10).await;
    assert_eq!(audit.len(), 2);
    srv.stop().await;
}

async fn passkey_in_oidc_browser_flow(b: Backend) {
    let Some(srv) = TestServer::start_with(b, localhost()).await else { return };
    srv.add_user("bob").await;
    let app = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "any"})).await;
    let mut key = SoftPasskey::new(true);
    enrol_in_login(&srv, &cookie_client(), "bob", &mut key).await;

    // OIDC with a phishing-resistant step-up: only the passkey qualifies.
    let browser = browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &srv,
        &app.client_id,
        &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("acr_values", "urn:portcullis:acr:phr")],
    );
    assert_eq!(sign_in(&srv, &browser, &url, "bob", PASSWORD).await, "/login/mfa");
    let html = browser.get(srv.url("/login/mfa")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-webauthn=\"get\""), "{html}");
    assert!(!html.contains("/login/mfa/totp"), "no code form under a passkey step-up");
    let csrf = hidden_input(&html, "csrf").unwrap();

    // What the page script does: options from the page endpoint, then the form post.
    let resp = browser.post(srv.url("/login/mfa/passkey/begin")).json(&json!({"csrf": "wrong"})).send().await.unwrap();
    assert_eq!(resp.status(), 403, "the page endpoint checks the CSRF token");
    let resp = browser.post(srv.url("/login/mfa/passkey/begin")).json(&json!({"csrf": csrf})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let options: Value = resp.json().await.unwrap();
    let credential = assert_with(&mut key, &origin(&srv), &options);
    let resp = browser
        .post(srv.url("/login/mfa/passkey"))
        .form(&[("csrf", csrf.as_str()), ("credential", &credential.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "trust-device prompt");
    let html = resp.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf").unwrap();
    let resp = browser
        .post(srv.url("/login/trust"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("trust_token", &hidden_input(&html, "trust_token").unwrap()),
            ("request", &hidden_input(&html, "request").unwrap()),
            ("trust", "no"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let code = query_param(&location(&resp), "code").expect("a code after the passkey");
    let tokens = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], json!(["pwd", "hwk", "user", "mfa"]));
    assert_eq!(id["acr"], "urn:portcullis:acr:phr");
    srv.stop().await;
}

async fn passkey_assertions_that_must_fail(b: Backend) {
    let Some(srv) = TestServer::start_with(b, localhost()).await else { return };
    srv.add_user("carol").await;
    srv.add_user("dave").await;
    srv.set_settings(json!({"mfa_policy": "any"})).await;
    let mut carol_key = SoftPasskey::new(true);
    let mut dave_key = SoftPasskey::new(true);
    enrol_in_login(&srv, &cookie_client(), "carol", &mut carol_key).await;
    enrol_in_login(&srv, &cookie_client(), "dave", &mut dave_key).await;
    let http = cookie_client();
    let begin = srv.url("/api/v1/auth/mfa/passkey/begin");
    let finish = srv.url("/api/v1/auth/mfa/passkey/finish");

    // An assertion made for another origin (a phishing page relaying the challenge, signed
    // by a client that skips the browser's origin checks) is refused and counted.
    let (_, body) = api_login(&srv, &http, "carol").await;
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    let (_, options) = api_post(&http, &begin, json!({"mfa_token": token})).await;
    let evil = Url::parse("https://portcullis-login.example").unwrap();
    let request: RequestChallengeResponse = serde_json::from_value(options.clone()).unwrap();
    let phished = json!(AuthenticatorBackend::perform_auth(&mut carol_key, evil, request.public_key, 60_000).unwrap());
    let (status, body) = api_post(&http, &finish, json!({"mfa_token": token, "credential": phished})).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_factor")), "{body}");
    // The challenge was used up by that attempt.
    let good = assert_with(&mut carol_key, &origin(&srv), &options);
    let (status, _) = api_post(&http, &finish, json!({"mfa_token": token, "credential": good})).await;
    assert_eq!(status, 400, "a ceremony answers once");

    // A fresh challenge; the old (valid-looking) assertion replayed against it fails.
    let _ = api_post(&http, &begin, json!({"mfa_token": token})).await;
    let (status, _) = api_post(&http, &finish, json!({"mfa_token": token, "credential": good})).await;
    assert_eq!(status, 401, "an assertion over an old challenge is a replay");

    // Dave's assertion for Dave's challenge does nothing for Carol's transaction.
    let (_, dave_body) = api_login(&srv, &cookie_client(), "dave").await;
    let dave_token = dave_body["mfa_token"].as_str().unwrap().to_owned();
    let (_, dave_options) = api_post(&http, &begin, json!({"mfa_token": dave_token})).await;
    let dave_assertion = assert_with(&mut dave_key, &origin(&srv), &dave_options);
    let (_, _) = api_post(&http, &begin, json!({"mfa_token": token})).await;
    let (status, _) = api_post(&http, &finish, json!({"mfa_token": token, "credential": dave_assertion})).await;
    assert_eq!(status, 401, "another user's key is not Carol's second factor");

    // Garbage is a clear JSON error.
    let (_, _) = api_post(&http, &begin, json!({"mfa_token": token})).await;
    let (status, body) = api_post(&http, &finish, json!({"mfa_token": token, "credential": {"id": 1}})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");

    // Finally the real thing still works (fresh challenge, right origin).
    let (_, options) = api_post(&http, &begin, json!({"mfa_token": token})).await;
    let credential = assert_with(&mut carol_key, &origin(&srv), &options);
    let (status, body) = api_post(&http, &finish, json!({"mfa_token": token, "credential": credential})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authenticated"], true);
    let failed = srv.audit(None, "mfa.failed", 10).await;
    assert_eq!(failed.len(), 3, "phished, replayed and foreign assertions are audited failures");
    srv.stop().await;
}
