//! PKCE (RFC 7636, RFC 9700 §2.1.1): missing verifier, wrong verifier, verifier without a
//! challenge (downgrade), `plain` refused, public clients must use it.

use crate::both_databases;
use crate::common::*;

both_databases!(missing_and_wrong_verifier, downgrade_is_refused, plain_and_missing_challenge_refused);

async fn missing_and_wrong_verifier(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(true).await;
    let browser = browser();

    let (code, _) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let resp =
        token_request(&srv, &app, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)])
            .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_grant");

    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let (other, _) = pkce();
    assert_ne!(other, verifier);
    let resp = exchange_code(&srv, &app, &code, &other).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_grant");
    // The code was consumed by the failed attempt: the right verifier no longer helps.
    let resp = exchange_code(&srv, &app, &code, &verifier).await;
    assert_eq!(json(resp).await["error"], "invalid_grant");

    // And the happy path, to show the failures were about PKCE.
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let resp = exchange_code(&srv, &app, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
}

async fn downgrade_is_refused(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    // Confidential clients may skip PKCE; then a verifier at the token endpoint is a downgrade.
    let app = srv.add_client(false).await;
    let browser = browser();
    let redirect = sign_in(&srv, &browser, &authorize_url(&srv, &app.client_id, &[]), "alice", PASSWORD).await;
    let code = query_param(&redirect, "code").unwrap();
    let (verifier, _) = pkce();
    let resp = exchange_code(&srv, &app, &code, &verifier).await;
    assert_eq!(resp.status(), 400);
    let body = json(resp).await;
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].as_str().unwrap().contains("code_challenge"));
}

async fn plain_and_missing_challenge_refused(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let public = srv.add_client(true).await;
    let browser = browser();
    // A public client without PKCE.
    let resp = browser.get(authorize_url(&srv, &public.client_id, &[])).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(query_param(&loc, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-123"));
    // `plain`, explicit or implied.
    let (verifier, challenge) = pkce();
    for extra in [
        vec![("code_challenge", verifier.as_str()), ("code_challenge_method", "plain")],
        vec![("code_challenge", challenge.as_str())],
        vec![("code_challenge", "tooshort"), ("code_challenge_method", "S256")],
    ] {
        let resp = browser.get(authorize_url(&srv, &public.client_id, &extra)).send().await.unwrap();
        assert_eq!(query_param(&location(&resp), "error").as_deref(), Some("invalid_request"), "{extra:?}");
    }
}
