//! The profile page and the admin settings page, driven as a browser without JavaScript
//! would: TOTP set-up with the QR code, backup codes shown once, "verify it's you" before
//! changes (second factor, or the password for a user without one), device revocation,
//! CSRF on every form; the admin page changes settings, groups and apps, and only for an
//! administrator who passed the step the policy asks.

use crate::both_databases;
use crate::common::*;

both_databases!(profile_totp_backup_codes_and_verify, profile_password_verify_and_devices, admin_settings_page);

fn secret_on_page(html: &str) -> String {
    let start = html.find("<code class=\"secret\">").expect("secret on the page") + 21;
    let end = html[start..].find('<').unwrap() + start;
    html[start..end].to_owned()
}

async fn signed_in_browser(srv: &TestServer, user: &str) -> reqwest::Client {
    let browser = browser();
    assert_eq!(submit_login(srv, &browser, "/login", user, PASSWORD).await, "/");
    let resp = browser.get(srv.url("/")).send().await.unwrap();
    assert_eq!(location(&resp), "/profile", "the start page is the profile when signed in");
    browser
}

async fn profile_totp_backup_codes_and_verify(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    srv.add_user("alice").await;
    assert_eq!(location(&browser().get(srv.url("/profile")).send().await.unwrap()), "/login");
    let browser = signed_in_browser(&srv, "alice").await;
    let html = get_page(&browser, &srv, "/profile").await;
    assert!(html.contains("Signed in as <strong>alice</strong>"));
    assert!(html.contains("/profile/totp/setup"), "fresh after the password: set-up offered");
    assert!(!html.contains("Verify it&#x27;s you") && !html.contains("Verify it's you"));

    // Forms without the CSRF token are refused.
    let resp = browser.post(srv.url("/profile/totp/setup")).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);

    // Authenticator app: QR code, manual key, a wrong code keeps the set-up, the right one
    // turns it on.
    let resp = post_form(&browser, &srv, "/profile", "/profile/totp/setup", &[]).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("data:image/svg+xml;base64,"));
    let secret = secret_on_page(&html);
    let wrong = if srv.code(&secret) == "000000" { "111111" } else { "000000" };
    let resp = post_form(&browser, &srv, "/profile", "/profile/totp/confirm", &[("code", wrong)]).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(secret_on_page(&resp.text().await.unwrap()), secret, "same pending secret after a typo");
    let resp = post_form(&browser, &srv, "/profile", "/profile/totp/confirm", &[("code", &srv.code(&secret))]).await;
    assert_eq!(resp.status(), 200, "the first method comes with backup codes, shown this once");
    let html = resp.text().await.unwrap();
    assert!(html.contains("Your authenticator app is set up.") && html.contains("Save these codes now"), "{html}");
    assert!(html.contains("download=\"backup-codes.txt\""), "{html}");
    let html = get_page(&browser, &srv, "/profile").await;
    assert!(html.contains("/profile/totp/remove"));
    assert!(html.contains("10 of 10 codes left"), "{html}");

    // Backup codes: shown once, then only the count.
    let resp = post_form(&browser, &srv, "/profile", "/profile/backup-codes", &[]).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let codes: Vec<&str> = html.match_indices("<li><code>").map(|(i, _)| &html[i + 10..i + 21]).collect();
    assert_eq!(codes.len(), 10, "{html}");
    assert!(html.contains("data-print") && html.contains("data-copy=\"backup-codes\""));
    let html = get_page(&browser, &srv, "/profile").await;
    assert!(html.contains("10 of 10 codes left"));
    assert!(!html.contains(codes[0]), "codes are not shown again");

    // Ten minutes later the page asks to verify first; removal is refused until then.
    srv.advance(601);
    let html = get_page(&browser, &srv, "/profile").await;
    assert!(html.contains("id=\"verify-button\""), "{html}");
    assert!(!html.contains("/profile/totp/remove"));
    let csrf = hidden_input(&html, "csrf").unwrap();
    let resp = browser.post(srv.url("/profile/totp/remove")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(resp.status(), 403, "stale verification");
    let resp = post_form(&browser, &srv, "/profile", "/profile/verify", &[]).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/login/mfa");
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", &srv.code(&secret))]).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/", "back to the start page, which is the profile");
    let resp = post_form(&browser, &srv, "/profile", "/profile/totp/remove", &[]).await;
    assert_eq!(location(&resp), "/profile?done=totp-removed");
    let html = get_page(&browser, &srv, "/profile").await;
    assert!(html.contains("/profile/totp/setup"));
    srv.stop().await;
}

async fn profile_password_verify_and_devices(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let bob = srv.add_user("bob").await;
    srv.advance(601);
    let browser = signed_in_browser(&srv, "bob").await;
    srv.advance(601);
    // No factor: verification is the password again.
    let html = get_page(&browser, &srv, "/profile").await;
    assert!(html.contains("name=\"password\""), "{html}");
    let resp = post_form(&browser, &srv, "/profile", "/profile/verify", &[("password", "not it")]).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("That password is not right."));
    let resp = post_form(&browser, &srv, "/profile", "/profile/verify", &[("password", PASSWORD)]).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/profile?done=verified");
    let html = get_page(&browser, &srv, "/profile?done=verified").await;
    assert!(html.contains("/profile/totp/setup"), "fresh again");

    // A trusted device shows on the page, marked as this browser, and can be revoked.
    let secret = srv.enrol_totp(&bob).await;
    let other = crate::common::browser();
    assert_eq!(submit_login(&srv, &other, "/login", "bob", PASSWORD).await, "/login/mfa");
    let resp = post_mfa_form(&srv, &other, "/login/mfa/totp", &[("code", &srv.code(&secret))]).await;
    let html = resp.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf").unwrap();
    let trust_token = hidden_input(&html, "trust_token").unwrap();
    let resp = other
        .post(srv.url("/login/trust"))
        .form(&[("csrf", csrf.as_str()), ("trust_token", &trust_token), ("name", "Work laptop"), ("trust", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let html = get_page(&other, &srv, "/profile").await;
    assert!(html.contains("Work laptop") && html.contains("This browser"), "{html}");
    let html = get_page(&browser, &srv, "/profile").await;
    assert!(html.contains("Work laptop") && !html.contains("This browser"));
    let start = html.find("/profile/devices/").unwrap();
    let action = &html[start..start + html[start..].find('"').unwrap()];
    let resp = post_form(&browser, &srv, "/profile", action, &[]).await;
    assert_eq!(location(&resp), "/profile?done=device-revoked");
    assert!(!get_page(&other, &srv, "/profile").await.contains("Work laptop"));
    srv.stop().await;
}

async fn admin_settings_page(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let root = srv.add_admin("root").await;
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;

    // Not an administrator.
    let alice = signed_in_browser(&srv, "alice").await;
    let resp = alice.get(srv.url("/admin/settings")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let resp = alice.post(srv.url("/admin/settings")).form(&[("mfa_policy", "disabled")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);

    let admin = signed_in_browser(&srv, "root").await;
    let html = get_page(&admin, &srv, "/admin/settings").await;
    assert!(html.contains("Test RP") && html.contains("staff"), "apps and groups listed");
    let fields = [
        ("mfa_policy", "any"),
        ("factor_totp", "on"),
        ("factor_passkey", "on"),
        ("mfa_enrollment_grace_period", "3"),
        ("mfa_reauth_interval_minutes", "60"),
        ("trusted_device_duration_days", "14"),
        ("backup_codes_count", "8"),
    ];
    // Bad values come back on the page, naming the setting; nothing is saved.
    let mut bad = fields;
    bad[6] = ("backup_codes_count", "500");
    let resp = post_form(&admin, &srv, "/admin/settings", "/admin/settings", &bad).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("backup_codes_count"));
    assert_eq!(portcullis::store::settings::load(&srv.state.db).await.unwrap().backup_codes_count, 10);

    // Group minimum and app policy.
    let resp =
        post_form(&admin, &srv, "/admin/settings", "/admin/groups", &[("name", "staff"), ("mfa_policy", "otp")]).await;
    assert_eq!(location(&resp), "/admin/settings?done=group");
    let resp = post_form(
        &admin,
        &srv,
        "/admin/settings",
        &format!("/admin/apps/{}", app.app_id),
        &[("mfa_policy", "any"), ("reauth_interval_minutes", "5")],
    )
    .await;
    assert_eq!(location(&resp), "/admin/settings?done=app");
    let p = portcullis::store::settings::find_app_policy(&srv.state.db, &app.app_id).await.unwrap().unwrap();
    assert_eq!((p.reauth_interval_minutes, p.allow_trusted_devices), (5, false));
    let html = get_page(&admin, &srv, "/admin/settings").await;
    assert!(html.contains("<option value=\"otp\" selected>"), "the group minimum shows");
    let audit = srv.audit(Some(&root.id), "settings.changed", 10).await;
    assert_eq!(audit.len(), 2);

    // The global settings, last: they tighten what the administrator must have passed.
    // The administrator has no factor: the save answers "saved" with a warning, not a 403.
    let resp = post_form(&admin, &srv, "/admin/settings", "/admin/settings", &fields).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Settings saved.") && html.contains("Your own account has no"), "{html}");
    let s = portcullis::store::settings::load(&srv.state.db).await.unwrap();
    assert_eq!(serde_json::to_value(&s).unwrap()["mfa_policy"], "any");
    assert_eq!((s.mfa_reauth_interval_minutes, s.trusted_device_duration_days, s.backup_codes_count), (60, 14, 8));
    assert!(!s.mfa_enforce_enrollment);
    let audit = srv.audit(Some(&root.id), "settings.changed", 10).await;
    assert_eq!(audit.len(), 3);
    // Policy `any` now applies to the administrator too: the old session no longer satisfies
    // it, so the page sends them to verify first.
    let resp = admin.get(srv.url("/admin/settings")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("Verify it"));
    srv.stop().await;
}
