//! A half-authenticated login (password done, second factor pending) gets no session, code
//! or token by any path: the JSON API, re-entering the flow, going back, or reusing tokens.

use crate::both_databases;
use crate::common::*;
use serde_json::json;

both_databases!(pending_mfa_yields_nothing);

async fn pending_mfa_yields_nothing(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let app = srv.add_client(false).await;
    srv.set_settings(json!({"mfa_policy": "any"})).await;

    let browser = browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&srv, &app.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let resp = browser.get(&url).send().await.unwrap();
    let login_path = shown_login_form(resp).await;
    let request_id = query_param(&srv.url(&login_path), "request").unwrap();
    assert_eq!(submit_login(&srv, &browser, &login_path, "alice", PASSWORD).await, "/login/mfa");

    // Re-entering the flow: authorize again sends the user to sign in, not to the client.
    let resp = browser.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "no session was created by the password alone: the form again");
    shown_login_form(resp).await;
    // prompt=none says login_required, not a code.
    let none = authorize_url(
        &srv,
        &app.client_id,
        &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("prompt", "none")],
    );
    let resp = browser.get(&none).send().await.unwrap();
    assert_eq!(query_param(&location(&resp), "error").as_deref(), Some("login_required"));
    // The home page and the profile API see no session.
    assert_eq!(location(&browser.get(srv.url("/profile")).send().await.unwrap()), "/login");
    assert_eq!(browser.get(srv.url("/api/v1/me/devices")).send().await.unwrap().status(), 401);
    // The JSON login with the waiting request answers mfa_required, never a redirect with a code.
    let http = reqwest::Client::new();
    let (status, body) = api_post(
        &http,
        &srv.url("/api/v1/auth/login"),
        json!({"username": "alice", "password": PASSWORD, "request_id": request_id}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["mfa_required"], true);
    assert!(body.get("redirect_to").is_none());
    let api_token = body["mfa_token"].as_str().unwrap().to_owned();
    // The trust endpoint wants a finished step and a session.
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/me/devices"), json!({"trust_device_token": api_token, "name": "x"})).await;
    assert_eq!(status, 401);
    // An MFA token is not a trust token, nor an enrolment token for a user who has factors.
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/mfa/totp/enroll"), json!({"enrollment_token": api_token})).await;
    assert_eq!(status, 403, "adding a factor while MFA is pending is refused");
    // A made-up MFA token does nothing.
    let (status, _) = api_post(
        &http,
        &srv.url("/api/v1/auth/mfa/totp"),
        json!({"mfa_token": "A".repeat(43), "code": srv.code(&secret)}),
    )
    .await;
    assert_eq!(status, 400);

    // The browser finishes properly; going back and replaying the same step fails.
    let code = srv.code(&secret);
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", &code)]).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf").unwrap();
    let replay = browser
        .post(srv.url("/login/mfa/totp"))
        .form(&[("csrf", csrf.as_str()), ("code", &code)])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400, "the finished step cannot be replayed");
    let form = [
        ("csrf", csrf.clone()),
        ("trust_token", hidden_input(&html, "trust_token").unwrap()),
        ("request", hidden_input(&html, "request").unwrap()),
        ("trust", "no".to_owned()),
    ];
    let resp = browser.post(srv.url("/login/trust")).form(&form).send().await.unwrap();
    let code = query_param(&location(&resp), "code").unwrap();
    assert_eq!(exchange_code(&srv, &app, &code, &verifier).await.status(), 200);
    // The API client's half-finished login for the same request got nothing: the request is used.
    srv.advance(30);
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": api_token, "code": srv.code(&secret)}))
            .await;
    assert_eq!(status, 400, "the request was consumed by the browser's login");
    srv.stop().await;
}
