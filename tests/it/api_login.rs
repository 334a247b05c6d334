//! `POST /api/v1/auth/login`: JSON in, JSON out; unknown users and wrong passwords look the
//! same; malformed bodies get JSON errors.

use crate::both_databases;
use crate::common::*;

both_databases!(json_login);

async fn json_login(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let http = reqwest::Client::new();
    let url = srv.url("/api/v1/auth/login");
    let ok =
        http.post(&url).json(&serde_json::json!({"username": "alice", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers()["set-cookie"].to_str().unwrap().starts_with("portcullis_session="));
    let body = json(ok).await;
    assert_eq!(body["mfa_required"], false);
    assert_eq!(body["user"]["id"], alice.id.as_str());

    let wrong = http
        .post(&url)
        .json(&serde_json::json!({"username": "alice", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    let unknown = http
        .post(&url)
        .json(&serde_json::json!({"username": "mallory", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert_eq!(json(wrong).await, json(unknown).await, "no user enumeration through the answer");

    for (ct, body, status) in [
        ("application/json", "{not json", 400),
        ("text/plain", "{}", 415),
        ("application/json", "{\"username\": 1}", 400),
    ] {
        let resp = http.post(&url).header("content-type", ct).body(body).send().await.unwrap();
        assert_eq!(resp.status(), status, "{ct} {body}");
        assert_eq!(json(resp).await["error"], "invalid_request");
    }
    // Disabled users cannot sign in.
    portcullis::admin::users::set_disabled(&srv.state, &portcullis::admin::Admin::operator(), "alice", true)
        .await
        .unwrap();
    let resp =
        http.post(&url).json(&serde_json::json!({"username": "alice", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}
