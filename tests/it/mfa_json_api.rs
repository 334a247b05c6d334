//! The MFA step through the JSON API: `mfa_required` with a token, the TOTP and backup-code
//! endpoints, enrolment with an `enrollment_token`, trusting a device, and the request
//! continuing to a code only once the step is complete.

use crate::both_databases;
use crate::common::*;
use serde_json::json;

both_databases!(challenge_and_trust_over_json, enrolment_over_json);

fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn challenge_and_trust_over_json(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let http = cookie_client();

    // Policy `optional` (the default) and a TOTP credential: the password is not enough.
    let (status, body) = api_login(&srv, &http, "alice").await;
    assert_eq!(status, 200);
    assert_eq!(body["mfa_required"], true);
    assert_eq!(body["factors"], json!(["totp"]));
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    // No session yet: the profile endpoints refuse.
    assert_eq!(http.get(srv.url("/api/v1/me/devices")).send().await.unwrap().status(), 401);

    let url = srv.url("/api/v1/auth/mfa/totp");
    let wrong = if srv.code(&secret) == "123456" { "654321" } else { "123456" };
    let (status, body) = api_post(&http, &url, json!({"mfa_token": token, "code": wrong})).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_factor")));
    let (status, body) = api_post(&http, &url, json!({"mfa_token": token, "code": srv.code(&secret)})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authenticated"], true);
    assert_eq!(body["session"]["mfa_factor"], "totp");
    let trust = body["trust_device_token"].as_str().expect("trust_device_token").to_owned();
    // The transaction is finished: its token does nothing more.
    srv.advance(30);
    let (status, _) = api_post(&http, &url, json!({"mfa_token": token, "code": srv.code(&secret)})).await;
    assert_eq!(status, 400);

    // Trust this device: the cookie comes back, and the device is listed.
    let (status, device) =
        api_post(&http, &srv.url("/api/v1/me/devices"), json!({"trust_device_token": trust, "name": "CLI"})).await;
    assert_eq!(status, 201, "{device}");
    assert_eq!(device["name"], "CLI");
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/me/devices"), json!({"trust_device_token": trust, "name": "again"})).await;
    assert_eq!(status, 400, "a trust token is single-use");
    let list: serde_json::Value = http.get(srv.url("/api/v1/me/devices")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["devices"].as_array().unwrap().len(), 1);

    // The next password login from this client skips the challenge.
    let (status, body) = api_login(&srv, &http, "alice").await;
    assert_eq!((status, body["authenticated"].as_bool()), (200, Some(true)), "{body}");

    // Revoked: the challenge is back.
    let id = list["devices"][0]["id"].as_str().unwrap();
    let resp = http.delete(srv.url(&format!("/api/v1/me/devices/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let (_, body) = api_login(&srv, &http, "alice").await;
    assert_eq!(body["mfa_required"], true);
    srv.stop().await;
}

async fn enrolment_over_json(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    srv.add_user("bob").await;
    srv.set_settings(json!({"mfa_policy": "otp", "mfa_enrollment_grace_period": 7})).await;
    let http = cookie_client();
    let (status, body) = api_login(&srv, &http, "bob").await;
    assert_eq!(status, 200);
    assert_eq!(body["mfa_enrollment_required"], true, "{body}");
    assert_eq!(body["can_postpone"], true);
    let token = body["enrollment_token"].as_str().unwrap().to_owned();
    // The enrolment token cannot be used as a challenge token.
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": token, "code": "123456"})).await;
    assert_eq!(status, 400);

    let (status, e) = api_post(&http, &srv.url("/api/v1/mfa/totp/enroll"), json!({"enrollment_token": token})).await;
    assert_eq!(status, 200, "{e}");
    let uri = e["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/") && uri.contains("secret="), "{uri}");
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = e["secret"].as_str().unwrap();
    let (status, body) = api_post(
        &http,
        &srv.url("/api/v1/mfa/totp/confirm"),
        json!({"enrollment_token": token, "code": srv.code(secret)}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authenticated"], true);
    assert_eq!(body["session"]["mfa_factor"], "totp");

    // Postponing inside the grace period: another user signs in without a factor, and is
    // asked again next time.
    srv.add_user("carol").await;
    let http = cookie_client();
    let (_, body) = api_login(&srv, &http, "carol").await;
    let token = body["enrollment_token"].as_str().unwrap().to_owned();
    let (status, body) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/enrollment/postpone"), json!({"enrollment_token": token})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authenticated"], true);
    assert!(body["session"]["mfa_factor"].is_null());
    let (_, body) = api_login(&srv, &http, "carol").await;
    assert_eq!(body["mfa_enrollment_required"], true);
    // After the deadline there is no more postponing.
    srv.advance(8 * 86_400);
    let (_, body) = api_login(&srv, &http, "carol").await;
    assert_eq!(body["can_postpone"], false, "{body}");
    let token = body["enrollment_token"].as_str().unwrap().to_owned();
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/enrollment/postpone"), json!({"enrollment_token": token})).await;
    assert_eq!(status, 403);
    srv.stop().await;
}
