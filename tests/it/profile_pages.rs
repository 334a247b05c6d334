//! The profile page and the admin settings page, driven as a browser without JavaScript
//! would: TOTP set-up with the QR code, backup codes shown once, "verify it's you" before
//! changes (second factor, or the password for a user without one), device revocation,
//! CSRF on every form; the admin page changes settings, groups and apps, and only for an
//! administrator who passed the step the policy asks.

use crate::both_databases;
use crate::common::*;

both_databases!(
    profile_totp_backup_codes_and_verify,
    profile_password_verify_and_devices,
    admin_settings_page,
    account_sessions_and_history
);

fn secret_on_page(html: &str) -> String {
    totp_key_on_page(html)
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
    let app_page = format!("/admin/apps/{}", app.app_id);
    assert!(get_page(&admin, &srv, "/admin/settings").await.contains(&format!("href=\"{app_page}\"")));
    let resp = post_form(
        &admin,
        &srv,
        &app_page,
        &format!("{app_page}/policy"),
        &[("mfa_policy", "any"), ("reauth_interval_minutes", "5")],
    )
    .await;
    assert_eq!(location(&resp), format!("{app_page}?done=app"));
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

/// A browser with its own User-Agent, as the account page names devices by it.
fn browser_as(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .build()
        .unwrap()
}

async fn account_sessions_and_history(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let bob = srv.add_user("bob").await;
    let client = srv.add_client(false).await;
    let mac = browser_as("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0");
    let windows = || {
        browser_as(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        )
    };
    // A wrong password first, then the sign-ins: one on the Mac, one through an app on Windows.
    let login = get_page(&mac, &srv, "/login").await;
    let wrong =
        [("csrf", hidden_input(&login, "csrf").unwrap()), ("username", "alice".into()), ("password", "wrong".into())];
    mac.post(srv.url("/login")).form(&wrong).send().await.unwrap();
    assert_eq!(submit_login(&srv, &mac, "/login", "alice", PASSWORD).await, "/");
    let win = windows();
    let (code, verifier) = get_code(&srv, &win, &client.client_id, "alice").await;
    let tokens = json(exchange_code(&srv, &client, &code, &verifier).await).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let bobs = browser();
    submit_login(&srv, &bobs, "/login", "bob", PASSWORD).await;

    let html = get_page(&mac, &srv, "/profile").await;
    assert!(html.contains("<strong>Firefox on macOS</strong> <span class=\"badge on\">This session</span>"), "{html}");
    assert!(html.contains("<strong>Chrome on Windows</strong>") && html.contains("127.0.0.1 · signed in"), "{html}");
    assert!(html.contains("Wrong password") && html.contains("Signed in</span> to Test RP"), "{html}");
    let sessions = portcullis::store::sessions::list_for_user(&srv.state.db, &alice.id, srv.now()).await.unwrap();
    let current = sessions.iter().find(|s| s.user_agent.as_deref().is_some_and(|u| u.contains("Firefox"))).unwrap();
    let other = sessions.iter().find(|s| s.user_agent.as_deref().is_some_and(|u| u.contains("Windows"))).unwrap();
    let end = |id: &str| format!("/profile/sessions/{id}/end");

    // Not the one in use, not Bob's, and not without the CSRF token.
    let resp = post_form(&mac, &srv, "/profile", &end(&current.id), &[]).await;
    assert_eq!(resp.status(), 400);
    let bob_session = portcullis::store::sessions::list_for_user(&srv.state.db, &bob.id, srv.now()).await.unwrap();
    let resp = post_form(&mac, &srv, "/profile", &end(&bob_session[0].id), &[]).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(bobs.get(srv.url("/profile")).send().await.unwrap().status(), 200, "Bob is still signed in");
    let resp = mac.post(srv.url(&end(&other.id))).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);

    // The Windows session ends, and the app's refresh token with it.
    let resp = post_form(&mac, &srv, "/profile", &end(&other.id), &[]).await;
    assert_eq!(location(&resp), "/profile?done=session-ended");
    assert_eq!(location(&win.get(srv.url("/profile")).send().await.unwrap()), "/login");
    let resp = token_request(&srv, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(resp.status(), 400, "the grant made in that session is revoked");
    assert_eq!(get_page(&mac, &srv, "/profile").await.matches("<strong>Chrome on Windows</strong>").count(), 0);

    // Everywhere else, at once: two more sessions end, this one stays.
    for _ in 0..2 {
        submit_login(&srv, &windows(), "/login", "alice", PASSWORD).await;
    }
    let resp = post_form(&mac, &srv, "/profile", "/profile/sessions/end-others", &[]).await;
    assert_eq!(location(&resp), "/profile?done=sessions-ended");
    let left = portcullis::store::sessions::list_for_user(&srv.state.db, &alice.id, srv.now()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, current.id);
    assert_eq!(srv.audit(Some(&alice.id), "user.sessions_ended", 5).await.len(), 2);
    srv.stop().await;
}
