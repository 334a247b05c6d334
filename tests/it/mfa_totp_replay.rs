//! RFC 6238 §5.2: a TOTP time step accepted once is refused afterwards, even in another
//! login, and codes outside ±1 step are refused.

use crate::both_databases;
use crate::common::*;
use serde_json::json;

both_databases!(accepted_step_is_refused_again);

async fn accepted_step_is_refused_again(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let http = reqwest::Client::new();
    let start = |http: reqwest::Client| {
        let srv = &srv;
        async move { api_login(srv, &http, "alice").await.1["mfa_token"].as_str().unwrap().to_owned() }
    };
    let url = srv.url("/api/v1/auth/mfa/totp");
    let code = srv.code(&secret);
    let t1 = start(http.clone()).await;
    let (status, _) = api_post(&http, &url, json!({"mfa_token": t1, "code": code})).await;
    assert_eq!(status, 200);
    let t2 = start(http.clone()).await;
    let (status, body) = api_post(&http, &url, json!({"mfa_token": t2, "code": code})).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_factor")), "same step replayed");
    // The previous step's code is refused too once a later step was accepted.
    let previous = totp_code(&secret, srv.now() - 30);
    let (status, _) = api_post(&http, &url, json!({"mfa_token": t2, "code": previous})).await;
    assert_eq!(status, 401);
    // Two steps ahead or behind is outside the window.
    srv.advance(30);
    let far = totp_code(&secret, srv.now() + 60);
    let (status, _) = api_post(&http, &url, json!({"mfa_token": t2, "code": far})).await;
    assert_eq!(status, 401);
    // The next step works (the transaction survived the failures).
    let (status, _) = api_post(&http, &url, json!({"mfa_token": t2, "code": srv.code(&secret)})).await;
    assert_eq!(status, 200);
    srv.stop().await;
}
