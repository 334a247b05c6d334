//! Malformed token, revocation and introspection requests get RFC 6749 JSON errors with the
//! right status, and change nothing.

use crate::both_databases;
use crate::common::*;

both_databases!(bad_token_requests, revocation_and_introspection);

async fn bad_token_requests(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let app = srv.add_client(false).await;
    let secret = app.client_secret.clone().unwrap().into_inner();
    let http = reqwest::Client::new();
    let token = srv.url("/oauth2/token");
    let post = |body: &'static str| {
        http.post(&token)
            .basic_auth(&app.client_id, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    for (body, status, code) in [
        ("grant_type=password&username=a&password=b", 400, "unsupported_grant_type"),
        ("grant_type=client_credentials", 400, "unauthorized_client"),
        ("grant_type=urn:ietf:params:oauth:grant-type:device_code", 400, "unsupported_grant_type"),
        ("", 400, "invalid_request"),
        ("grant_type=authorization_code", 400, "invalid_request"),
        ("grant_type=authorization_code&code=nope&redirect_uri=x", 400, "invalid_grant"),
        ("grant_type=refresh_token", 400, "invalid_request"),
        ("grant_type=refresh_token&refresh_token=nope", 400, "invalid_grant"),
        ("grant_type=refresh_token&grant_type=refresh_token&refresh_token=x", 400, "invalid_request"),
        ("%zz=1", 400, "invalid_request"),
    ] {
        let resp = post(body).send().await.unwrap();
        assert_eq!(resp.status(), status, "{body}");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        assert_eq!(json(resp).await["error"], code, "{body}");
    }
    let resp = http
        .post(&token)
        .basic_auth(&app.client_id, Some(&secret))
        .json(&serde_json::json!({"grant_type": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_request");
    let resp = http
        .post(&token)
        .header("content-type", "application/x-www-form-urlencoded")
        // Just over the 64 KiB limit: small enough to fit the socket buffer, so the client has
        // finished writing when the server answers early (a bigger body races a reset).
        .body("a".repeat(64 * 1024 + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413, "oversized bodies are refused");
    // Userinfo without or with a junk token.
    let resp = http.get(srv.url("/oauth2/userinfo")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http.get(srv.url("/oauth2/userinfo")).bearer_auth("junk.token.here").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(json(resp).await["error"], "invalid_token");
}

async fn revocation_and_introspection(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let other = srv.add_client(false).await;
    let browser = browser();
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let tokens = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let introspect = |c: &portcullis::admin::apps::CreatedOidcApp, t: &str| {
        http.post(srv.url("/oauth2/introspect"))
            .basic_auth(&c.client_id, c.client_secret.as_deref())
            .form(&[("token", t.to_owned())])
            .send()
    };
    let v = json(introspect(&app, access).await.unwrap()).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["client_id"], app.client_id.as_str());
    assert_eq!(v["username"], "alice");
    let v = json(introspect(&app, refresh).await.unwrap()).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["token_type"], "refresh_token");
    // Another client learns nothing about these tokens.
    assert_eq!(json(introspect(&other, access).await.unwrap()).await["active"], false);
    assert_eq!(json(introspect(&app, "garbage").await.unwrap()).await["active"], false);
    // Another client cannot revoke them (200, but nothing happens).
    let resp = http
        .post(srv.url("/oauth2/revoke"))
        .basic_auth(&other.client_id, other.client_secret.as_deref())
        .form(&[("token", refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(introspect(&app, refresh).await.unwrap()).await["active"], true);
    // The owner revokes the refresh token: the whole grant goes, access token included.
    let resp = http
        .post(srv.url("/oauth2/revoke"))
        .basic_auth(&app.client_id, app.client_secret.as_deref())
        .form(&[("token", refresh), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(introspect(&app, refresh).await.unwrap()).await["active"], false);
    assert_eq!(json(introspect(&app, access).await.unwrap()).await["active"], false);
    let resp = http.get(srv.url("/oauth2/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    // Unknown tokens: still 200 (RFC 7009 §2.2).
    let resp = http
        .post(srv.url("/oauth2/revoke"))
        .basic_auth(&app.client_id, app.client_secret.as_deref())
        .form(&[("token", "unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
