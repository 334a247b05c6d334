//! `mfa_allowed_factors` holds on every enrolment path (DESIGN §2): the JSON API, the profile
//! page and the enrolment stage of a login all refuse a factor the admin does not allow, in the
//! domain, not only by hiding a form.

use serde_json::json;

use crate::both_databases;
use crate::common::*;

both_databases!(refused_on_every_path);

async fn refused_on_every_path(b: Backend) {
    let opts = Options { localhost_issuer: true, ..manual_clock() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    assert!(srv.state.passkeys.available(), "passkeys work on a localhost issuer");
    srv.add_user("alice").await;
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    assert_eq!(api_login(&srv, &http, "alice").await.0, 200);
    let refused = |status: u16, body: &serde_json::Value, what: &str| {
        assert_eq!(status, 403, "{what}: {body}");
        assert!(body["error_description"].as_str().unwrap().contains("factor_not_allowed"), "{what}: {body}");
    };

    // Only TOTP allowed: no passkey through the API, nor through the profile page.
    srv.set_settings(json!({"mfa_allowed_factors": ["totp"]})).await;
    let (status, body) = api_post(&http, &srv.url("/api/v1/mfa/passkey/register/begin"), json!({})).await;
    refused(status, &body, "passkey register begin");
    let page = browser();
    submit_login(&srv, &page, "/login", "alice", PASSWORD).await;
    let html = get_page(&page, &srv, "/profile").await;
    assert!(!html.contains("id=\"passkeys-h\""), "the page does not offer it");
    let csrf = hidden_input(&html, "csrf").unwrap();
    let resp = page.post(srv.url("/profile/passkeys/begin")).json(&json!({"csrf": csrf})).send().await.unwrap();
    assert_eq!(resp.status(), 403, "profile page script: passkey");
    assert!(resp.text().await.unwrap().contains("factor_not_allowed"));

    // Only passkeys allowed: no TOTP through the API, nor through the profile page.
    srv.set_settings(json!({"mfa_allowed_factors": ["passkey"]})).await;
    let (status, body) = api_post(&http, &srv.url("/api/v1/mfa/totp/enroll"), json!({})).await;
    refused(status, &body, "totp enroll");
    let (status, body) = api_post(&http, &srv.url("/api/v1/mfa/totp/confirm"), json!({"code": "123456"})).await;
    refused(status, &body, "totp confirm");
    let resp = post_form(&page, &srv, "/profile", "/profile/totp/setup", &[]).await;
    assert_eq!(resp.status(), 403, "profile page: totp");
    let alice = portcullis::store::users::find_by_username(&srv.state.db, "alice").await.unwrap().unwrap();
    let enrolled = portcullis::store::factors::enrolled(&srv.state.db, &alice.id).await.unwrap();
    assert!(!enrolled.totp && enrolled.passkeys == 0, "nothing was enrolled");

    // The enrolment stage of a login offers only what is allowed, and refuses the rest even
    // when the settings change while the step waits.
    srv.set_settings(json!({"mfa_policy": "any", "mfa_allowed_factors": ["totp"]})).await;
    let fresh = reqwest::Client::new();
    let (_, body) = api_login(&srv, &fresh, "alice").await;
    assert_eq!(body["factors"], json!(["totp"]), "{body}");
    let token = body["enrollment_token"].as_str().unwrap().to_owned();
    let (status, body) =
        api_post(&fresh, &srv.url("/api/v1/mfa/passkey/register/begin"), json!({"enrollment_token": token})).await;
    assert_eq!(status, 403, "{body}");
    srv.set_settings(json!({"mfa_allowed_factors": ["passkey", "totp"]})).await;
    srv.set_settings(json!({"mfa_allowed_factors": ["passkey"]})).await;
    let (status, body) =
        api_post(&fresh, &srv.url("/api/v1/mfa/totp/enroll"), json!({"enrollment_token": token})).await;
    refused(status, &body, "totp in a login's enrolment after the settings changed");
    srv.stop().await;
}
