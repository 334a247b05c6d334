//! Trusted-device tokens are bound to their user, expire, and are revoked by the user or by
//! a password change; they never replace the password.

use crate::both_databases;
use crate::common::*;
use serde_json::json;

both_databases!(device_tokens_are_bound_and_revocable, a_trust_token_trusts_one_device);

fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

/// Signs in with password and TOTP over the API and trusts the device; returns the client.
async fn trusted_client(srv: &TestServer, username: &str, secret: &str) -> reqwest::Client {
    let http = cookie_client();
    let (_, body) = api_login(srv, &http, username).await;
    let token = body["mfa_token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let (status, body) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": token, "code": srv.code(secret)})).await;
    assert_eq!(status, 200);
    let trust = body["trust_device_token"].as_str().unwrap().to_owned();
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/me/devices"), json!({"trust_device_token": trust, "name": "d"})).await;
    assert_eq!(status, 201);
    http
}

async fn device_tokens_are_bound_and_revocable(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let bob = srv.add_user("bob").await;
    let a_secret = srv.enrol_totp(&alice).await;
    let b_secret = srv.enrol_totp(&bob).await;
    let carol = srv.add_user("carol").await;
    let c_secret = srv.enrol_totp(&carol).await;
    srv.set_settings(json!({"mfa_policy": "any", "trusted_device_duration_days": 7})).await;

    let http = trusted_client(&srv, "alice", &a_secret).await;
    let (_, body) = api_login(&srv, &http, "alice").await;
    assert_eq!(body["authenticated"], true, "alice's device skips her challenge");
    // The same browser (same device cookie) does nothing for bob.
    let (_, body) = api_login(&srv, &http, "bob").await;
    assert_eq!(body["mfa_required"], true, "a device token is bound to its user");
    // Nor does it replace the password.
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/auth/login"), json!({"username": "alice", "password": "wrong password"}))
            .await;
    assert_eq!(status, 401);

    // Expiry.
    srv.advance(7 * 86_400 + 1);
    let (_, body) = api_login(&srv, &http, "alice").await;
    assert_eq!(body["mfa_required"], true, "an expired device is not trusted");

    // A password change revokes every device.
    srv.advance(30);
    let http = trusted_client(&srv, "alice", &a_secret).await;
    assert_eq!(api_login(&srv, &http, "alice").await.1["authenticated"], true);
    portcullis::admin::users::set_password(
        &srv.state,
        &portcullis::admin::Admin::operator(),
        "alice",
        "a brand new passphrase",
    )
    .await
    .unwrap();
    let (_, body) = api_post(
        &http,
        &srv.url("/api/v1/auth/login"),
        json!({"username": "alice", "password": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(body["mfa_required"], true, "devices are revoked on password change");

    // Revoked by the user: refused afterwards.
    srv.advance(30);
    let http = trusted_client(&srv, "bob", &b_secret).await;
    let list: serde_json::Value = http.get(srv.url("/api/v1/me/devices")).send().await.unwrap().json().await.unwrap();
    let id = list["devices"][0]["id"].as_str().unwrap();
    // Another user cannot revoke it.
    srv.advance(30);
    let other = trusted_client(&srv, "carol", &c_secret).await;
    let resp = other.delete(srv.url(&format!("/api/v1/me/devices/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(http.delete(srv.url(&format!("/api/v1/me/devices/{id}"))).send().await.unwrap().status(), 204);
    let (_, body) = api_login(&srv, &http, "bob").await;
    assert_eq!(body["mfa_required"], true, "a revoked device is refused");

    // An admin's factor reset revokes the devices too: carol's trusted client gets no skip,
    // and with no factor left she is sent to enrolment.
    assert_eq!(api_login(&srv, &other, "carol").await.1["authenticated"], true);
    portcullis::admin::users::reset_mfa(&srv.state, &portcullis::admin::Admin::operator(), "carol").await.unwrap();
    let (_, body) = api_login(&srv, &other, "carol").await;
    assert_eq!(body["mfa_enrollment_required"], true, "devices are revoked on factor reset: {body}");
    assert!(portcullis::store::devices::list(&srv.state.db, &carol.id, srv.now()).await.unwrap().is_empty());
    srv.stop().await;
}

/// A trust-device token is single use: many simultaneous attempts with it (the same session
/// racing itself, as a double-submitted form or a replayed request would) trust one device.
async fn a_trust_token_trusts_one_device(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    srv.set_settings(json!({"mfa_policy": "any"})).await;
    let http = cookie_client();
    let (_, body) = api_login(&srv, &http, "alice").await;
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    let (status, body) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": token, "code": srv.code(&secret)}))
            .await;
    assert_eq!(status, 200);
    let trust = body["trust_device_token"].as_str().unwrap().to_owned();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (http, url, trust) = (http.clone(), srv.url("/api/v1/me/devices"), trust.clone());
        set.spawn(async move {
            api_post(&http, &url, json!({"trust_device_token": trust, "name": format!("d{i}")})).await.0
        });
    }
    let statuses = set.join_all().await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 400), "{statuses:?}");
    let devices = portcullis::store::devices::list(&srv.state.db, &alice.id, srv.now()).await.unwrap();
    assert_eq!(devices.len(), 1);
    srv.stop().await;
}
