//! Backup codes: a set shown once, single use, regenerating invalidates the old set, the
//! remaining count (and a low warning) is reported, and each use is audited. A user with
//! only backup codes left is led to enrol again.

use crate::both_databases;
use crate::common::*;
use serde_json::json;

both_databases!(backup_codes_are_single_use);

async fn backup_codes_are_single_use(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    srv.set_settings(json!({"mfa_policy": "any", "backup_codes_count": 4, "trusted_device_duration_days": 0})).await;
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (_, body) = api_login(&srv, &http, "alice").await;
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    let (_, body) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": token, "code": srv.code(&secret)}))
            .await;
    assert!(body["trust_device_token"].is_null(), "trusted devices are off");
    let (status, body) = api_post(&http, &srv.url("/api/v1/mfa/backup-codes"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let old: Vec<String> = serde_json::from_value(body["codes"].clone()).unwrap();
    assert_eq!(old.len(), 4);
    let (status, body) = api_post(&http, &srv.url("/api/v1/mfa/backup-codes"), json!({})).await;
    assert_eq!(status, 200);
    let codes: Vec<String> = serde_json::from_value(body["codes"].clone()).unwrap();

    let login = |client: reqwest::Client| {
        let srv = &srv;
        async move {
            let (_, body) = api_login(srv, &client, "alice").await;
            assert_eq!(body["factors"], json!(["totp", "backup_code"]));
            body["mfa_token"].as_str().unwrap().to_owned()
        }
    };
    let url = srv.url("/api/v1/auth/mfa/backup-code");
    let c = reqwest::Client::new();
    let t = login(c.clone()).await;
    let (status, _) = api_post(&c, &url, json!({"mfa_token": t, "code": old[0]})).await;
    assert_eq!(status, 401, "regenerating invalidated the old set");
    // Codes are accepted in any case and with or without the dash.
    let sloppy = codes[0].replace('-', "").to_uppercase();
    let (status, body) = api_post(&c, &url, json!({"mfa_token": t, "code": sloppy})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session"]["mfa_factor"], "backup_code");
    let t = login(c.clone()).await;
    let (status, _) = api_post(&c, &url, json!({"mfa_token": t, "code": codes[0]})).await;
    assert_eq!(status, 401, "a used code is refused");
    let (status, _) = api_post(&c, &url, json!({"mfa_token": t, "code": codes[1]})).await;
    assert_eq!(status, 200);
    let status: serde_json::Value =
        http.get(srv.url("/api/v1/mfa/backup-codes")).send().await.unwrap().json().await.unwrap();
    assert_eq!((status["remaining"].as_i64(), status["low"].as_bool()), (Some(2), Some(true)), "{status}");
    let used = srv.audit(Some(&alice.id), "mfa.backup_code_used", 5).await;
    assert_eq!(used.len(), 2);

    // Without the authenticator (removed by an admin reset of TOTP only), backup codes let the
    // user in only to enrol again.
    portcullis::store::factors::delete_totp(&srv.state.db, &alice.id).await.unwrap();
    let (_, body) = api_login(&srv, &c, "alice").await;
    assert_eq!(body["mfa_required"], true);
    assert_eq!(body["factors"], json!(["backup_code"]));
    assert_eq!(body["enrollment_follows"], true);
    let t = body["mfa_token"].as_str().unwrap().to_owned();
    let (status, body) = api_post(&c, &url, json!({"mfa_token": t, "code": codes[2]})).await;
    assert_eq!(status, 200);
    assert_eq!(body["mfa_enrollment_required"], true, "recovery leads to re-enrolment: {body}");
    srv.stop().await;
}
