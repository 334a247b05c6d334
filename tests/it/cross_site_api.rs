//! Cross-site protection for every state-changing JSON API call (DESIGN §5): with the
//! victim's cookie, a request from another origin (by `Origin`, or by `Sec-Fetch-Site` when a
//! browser sends no `Origin`) is refused before anything happens, and so is a body that is
//! not JSON, which is what a cross-site form or a `no-cors` fetch can send. Same-origin calls
//! and clients that are not browsers keep working.

use reqwest::Method;
use serde_json::json;

use crate::both_databases;
use crate::common::*;

both_databases!(foreign_origins_and_non_json_bodies_are_refused);

/// Every state-changing route under /api/v1 (the router's list), with ids filled in.
fn routes() -> Vec<(Method, &'static str)> {
    use Method as M;
    vec![
        (M::POST, "/api/v1/auth/login"),
        (M::POST, "/api/v1/auth/mfa/totp"),
        (M::POST, "/api/v1/auth/mfa/backup-code"),
        (M::POST, "/api/v1/auth/mfa/passkey/begin"),
        (M::POST, "/api/v1/auth/mfa/passkey/finish"),
        (M::POST, "/api/v1/auth/mfa/enrollment/postpone"),
        (M::POST, "/api/v1/auth/step-up"),
        (M::DELETE, "/api/v1/mfa/totp"),
        (M::POST, "/api/v1/mfa/totp/enroll"),
        (M::POST, "/api/v1/mfa/totp/confirm"),
        (M::POST, "/api/v1/mfa/passkey/register/begin"),
        (M::POST, "/api/v1/mfa/passkey/register/finish"),
        (M::PATCH, "/api/v1/mfa/passkeys/p1"),
        (M::DELETE, "/api/v1/mfa/passkeys/p1"),
        (M::POST, "/api/v1/mfa/backup-codes"),
        (M::POST, "/api/v1/me/devices"),
        (M::DELETE, "/api/v1/me/devices/d1"),
        (M::PATCH, "/api/v1/admin/settings"),
        (M::POST, "/api/v1/admin/apps/saml"),
        (M::PATCH, "/api/v1/admin/apps/a1"),
        (M::PUT, "/api/v1/admin/groups/staff"),
        (M::PUT, "/api/v1/admin/groups/staff/members/alice"),
        (M::POST, "/api/v1/admin/users/alice/reset-mfa"),
        (M::POST, "/api/v1/admin/plugins"),
        (M::DELETE, "/api/v1/admin/plugins/x"),
        (M::PUT, "/api/v1/admin/plugins/x/assignments/global"),
        (M::DELETE, "/api/v1/admin/plugins/x/assignments/global"),
        (M::POST, "/api/v1/admin/plugins/x/test"),
        (M::POST, "/api/v1/admin/plugins/x/replay"),
        (M::POST, "/api/v1/no/such/route"),
    ]
}

async fn foreign_origins_and_non_json_bodies_are_refused(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    srv.enrol_totp(&alice).await;
    srv.add_admin("root").await;
    let admin = reqwest::Client::builder().cookie_store(true).build().unwrap();
    assert_eq!(api_login(&srv, &admin, "root").await.0, 200);
    let origin = srv.issuer().to_owned();

    for (method, path) in routes() {
        let url = srv.url(path);
        let send = |headers: &[(&str, &str)], ct: Option<&str>, body: &str| {
            let mut req = admin.request(method.clone(), &url);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            req.body(body.to_owned()).send()
        };
        // Another site, with and without a body, whatever the content type.
        for (headers, ct, body) in [
            (vec![("origin", "http://evil.example")], Some("text/plain"), ""),
            (vec![("origin", "http://evil.example")], Some("application/json"), "{}"),
            (vec![("origin", "null")], Some("text/plain"), "{}"),
            (vec![("sec-fetch-site", "cross-site")], Some("text/plain"), ""),
            (vec![("sec-fetch-site", "same-site")], Some("application/json"), "{}"),
            (vec![("origin", &format!("{origin}.evil.example"))], None, ""),
        ] {
            let resp = send(&headers, ct, body).await.unwrap();
            assert_eq!(resp.status(), 403, "{method} {path} {headers:?}");
            let v: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(v["error"], "forbidden", "{method} {path}");
            assert!(v["error_description"].as_str().unwrap().contains("cross_site"), "{v}");
        }
        // Same origin, but a body a form could send: refused as the wrong media type.
        for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            let resp = send(&[("origin", &origin)], Some(ct), "{}").await.unwrap();
            assert_eq!(resp.status(), 415, "{method} {path} {ct}");
            let v: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(v["error"], "invalid_request");
        }
    }
    // Nothing happened: alice keeps her factor, root has no backup codes.
    let enrolled = portcullis::store::factors::enrolled(&srv.state.db, &alice.id).await.unwrap();
    assert!(enrolled.totp, "reset-mfa was refused");
    let root = portcullis::store::users::find_by_username(&srv.state.db, "root").await.unwrap().unwrap();
    assert_eq!(portcullis::store::factors::backup_code_status(&srv.state.db, &root.id).await.unwrap().remaining, 0);

    // Same-origin fetches, bodiless or JSON, and reads from anywhere, still work.
    let resp = admin
        .post(srv.url("/api/v1/mfa/backup-codes"))
        .header("origin", &origin)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = admin
        .patch(srv.url("/api/v1/admin/settings"))
        .header("origin", &origin)
        .json(&json!({"backup_codes_count": 12}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp =
        admin.get(srv.url("/api/v1/admin/settings")).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(resp.status(), 200, "a read changes nothing (and CORS keeps its answer from the other site)");
    let resp =
        admin.post(srv.url("/api/v1/admin/users/alice/reset-mfa")).header("origin", &origin).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert!(!portcullis::store::factors::enrolled(&srv.state.db, &alice.id).await.unwrap().totp);

    // Unknown API paths answer JSON, not the HTML page.
    let resp = admin.get(srv.url("/api/v1/nothing-here")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["error"], "not_found");
    srv.stop().await;
}
