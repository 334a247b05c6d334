//! Client authentication at the token endpoint (RFC 6749 §2.3.1, §5.2).

use crate::both_databases;
use crate::common::*;

both_databases!(
    client_authentication_failures,
    client_secret_post_works,
    refresh_token_bound_to_its_client,
    changes_made_here_apply_at_once
);

/// The token endpoint keeps the clients it has read; a change made through this node (an
/// administrator rotating the secret, removing the app) applies to the very next request.
async fn changes_made_here_apply_at_once(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let app = srv.add_client(false).await;
    let old = app.client_secret.as_ref().unwrap().expose().to_owned();
    let http = reqwest::Client::new();
    let check = |secret: String| {
        let req = http
            .post(srv.url("/oauth2/token"))
            .basic_auth(&app.client_id, Some(secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "made-up")]);
        async move { req.send().await.unwrap().json::<serde_json::Value>().await.unwrap()["error"].clone() }
    };
    for _ in 0..3 {
        assert_eq!(check(old.clone()).await, "invalid_grant", "the client authenticates");
    }
    let admin = portcullis::admin::Admin::operator();
    let registered = portcullis::admin::apps::find(&srv.state, &app.client_id).await.unwrap();
    let new = portcullis::admin::apps::rotate_secret(&srv.state, &admin, &registered).await.unwrap();
    assert_eq!(check(old.clone()).await, "invalid_client", "the old secret stops at once");
    assert_eq!(check(new.expose().to_owned()).await, "invalid_grant");
    portcullis::admin::apps::remove(&srv.state, &admin, &registered).await.unwrap();
    assert_eq!(check(new.expose().to_owned()).await, "invalid_client", "a removed client stops at once");
    srv.stop().await;
}

async fn client_authentication_failures(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let public = srv.add_client(true).await;
    let browser = browser();
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let http = reqwest::Client::new();
    let token = srv.url("/oauth2/token");

    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("wrong secret", http.post(&token).basic_auth(&app.client_id, Some("wrong")).form(&form)),
        ("unknown client", http.post(&token).basic_auth("nobody", Some("x")).form(&form)),
        ("no authentication", http.post(&token).form(&form)),
        ("confidential client without secret", {
            let mut f = form.to_vec();
            f.push(("client_id", &app.client_id));
            http.post(&token).form(&f)
        }),
        ("public client presenting a secret", http.post(&token).basic_auth(&public.client_id, Some("x")).form(&form)),
        ("malformed basic header", http.post(&token).header("authorization", "Basic %%%").form(&form)),
    ];
    for (what, req) in cases {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{what}");
        assert!(resp.headers().get("www-authenticate").is_some(), "{what}: WWW-Authenticate");
        assert_eq!(resp.headers()["cache-control"], "no-store");
        assert_eq!(json(resp).await["error"], "invalid_client", "{what}");
    }
    // Two methods at once is a malformed request.
    let mut f = form.to_vec();
    let secret = app.client_secret.clone().unwrap().into_inner();
    f.push(("client_secret", &secret));
    let resp = http.post(&token).basic_auth(&app.client_id, Some(&secret)).form(&f).send().await.unwrap();
    assert_eq!(json(resp).await["error"], "invalid_request");
    // A code redeemed by another (authenticated) client is refused.
    let other = srv.add_client(false).await;
    let resp = token_request(&srv, &other, &form).await;
    assert_eq!(json(resp).await["error"], "invalid_grant");
}

async fn client_secret_post_works(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let secret = app.client_secret.clone().unwrap().into_inner();
    let resp = reqwest::Client::new()
        .post(srv.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", &app.client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = json(resp).await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["id_token"].is_string());
}

/// A refresh token is bound to the client it was issued to: another (authenticated) client
/// is refused, and the token is left untouched for its owner — no consumption, no revocation.
async fn refresh_token_bound_to_its_client(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let other = srv.add_client(false).await;
    let browser = browser();
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let tokens = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let resp = token_request(&srv, &other, &form).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_grant");
    let resp = token_request(&srv, &app, &form).await;
    assert_eq!(resp.status(), 200, "the owner can still use its token");
    let rotated = json(resp).await;
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
}
