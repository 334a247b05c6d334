//! Removing the last factor under policy `any` leads to enrolment at the next login, never
//! to a free pass; removing needs a fresh second factor.

use crate::both_databases;
use crate::common::*;
use serde_json::json;

both_databases!(removed_last_factor_leads_to_enrolment);

async fn removed_last_factor_leads_to_enrolment(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    srv.set_settings(json!({"mfa_policy": "any"})).await;
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (_, body) = api_login(&srv, &http, "alice").await;
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": token, "code": srv.code(&secret)}))
            .await;
    assert_eq!(status, 200);

    // Ten minutes later the verification is no longer fresh enough to remove a factor.
    srv.advance(601);
    let resp = http.delete(srv.url("/api/v1/mfa/totp")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    // Step up, then remove.
    let (status, body) = api_post(&http, &srv.url("/api/v1/auth/step-up"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": token, "code": srv.code(&secret)}))
            .await;
    assert_eq!(status, 200);
    assert_eq!(http.delete(srv.url("/api/v1/mfa/totp")).send().await.unwrap().status(), 204);

    // Next login: enrolment, not a session.
    let fresh = reqwest::Client::new();
    let (status, body) = api_login(&srv, &fresh, "alice").await;
    assert_eq!(status, 200);
    assert_eq!(body["mfa_enrollment_required"], true, "{body}");
    assert!(body.get("session").is_none());
    let removed = srv.audit(Some(&alice.id), "mfa.factor_removed", 5).await;
    assert_eq!(removed.len(), 1);
    srv.stop().await;
}
