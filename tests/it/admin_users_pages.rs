//! The admin console's users (`/admin`, `/admin/users`, `/admin/users/{id}`), through the pages
//! as an administrator's browser uses them: the list finds and pages; every action is a form
//! that needs its CSRF token (and, when destructive, its confirmation box) and leaves an audit
//! record; another user's items are not reachable through a user's page; non-admins get nothing.

use serde_json::json;

use crate::both_databases;
use crate::common::*;

both_databases!(
    the_console_lists_finds_and_pages_users,
    each_action_is_a_confirmed_audited_form,
    the_audit_log_filters_pages_and_exports,
    the_settings_page_keeps_code_factors_and_sets_recovery_and_alerts,
    a_demo_callback_without_its_state_is_the_browsers_error,
    the_dashboard_draws_what_happened,
    invitations_make_accounts_people_finish
);

fn user_links(html: &str) -> usize {
    html.matches("<th scope=\"row\"><a href=\"/admin/users/").count()
}

async fn the_console_lists_finds_and_pages_users(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_browser(&srv).await;
    for i in 0..30 {
        srv.add_user(&format!("u{i:02}")).await;
    }
    let home = get_page(&admin, &srv, "/admin").await;
    assert!(home.contains("<h1>Administration</h1>") && home.contains("href=\"/admin/users\""), "{home}");
    assert!(home.contains("of 31 active users"), "{home}");

    let first = get_page(&admin, &srv, "/admin/users").await;
    assert_eq!(user_links(&first), 25, "{first}");
    assert!(first.contains("Page 1 of 2") && first.contains("31 users"), "{first}");
    let second = get_page(&admin, &srv, "/admin/users?page=1").await;
    assert_eq!(user_links(&second), 6);
    let found = get_page(&admin, &srv, "/admin/users?q=U1").await;
    assert_eq!(user_links(&found), 10, "u10..u19, without case: {found}");
    // Wildcards are searched for as characters, and markup comes back escaped.
    let none = get_page(&admin, &srv, "/admin/users?q=%25_").await;
    assert_eq!(user_links(&none), 0);
    let escaped = get_page(&admin, &srv, "/admin/users?q=%3Cscript%3E").await;
    assert!(!escaped.contains("<script>") && escaped.contains("&#60;script&#62;"), "{escaped}");
    let junk = get_page(&admin, &srv, "/admin/users?page=-5&q=").await;
    assert_eq!(user_links(&junk), 25);

    // Not for users.
    srv.add_user("mallory").await;
    let user = signed_in(&srv, "mallory").await;
    for path in ["/admin", "/admin/users", "/admin/users/root"] {
        let resp = user.get(srv.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 403, "{path}");
    }
    srv.stop().await;
}

async fn each_action_is_a_confirmed_audited_form(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let admin = admin_browser(&srv).await;
    let vera = srv.add_user("vera").await;
    let secret = srv.enrol_totp(&vera).await;
    let other = srv.add_user("walt").await;
    let page = format!("/admin/users/{}", vera.id);
    let act = |a: &str| format!("/admin/users/{}/{a}", vera.id);

    // Vera signed in over the API (a session to end).
    let vera_http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (_, step) = api_login(&srv, &vera_http, "vera").await;
    let (status, _) = api_post(
        &vera_http,
        &srv.url("/api/v1/auth/mfa/totp"),
        json!({"mfa_token": step["mfa_token"], "code": totp_code(&secret, srv.now())}),
    )
    .await;
    assert_eq!(status, 200);
    srv.advance(30);
    let html = get_page(&admin, &srv, &page).await;
    assert!(
        html.contains("Authenticator app") && html.contains("<strong>Unknown device</strong> from 127.0.0.1, since "),
        "{html}"
    );

    // Without its CSRF token a form does nothing.
    let resp = admin.post(srv.url(&act("reset-mfa"))).form(&[("confirm", "yes")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(portcullis::store::factors::enrolled(&srv.state.db, &vera.id).await.unwrap().totp);

    // Destructive without the box ticked: refused, nothing changed.
    let resp =
        post_form(&admin, &srv, &page, &act("remove-factor"), &[("item", "totp"), ("reason", "phone lost")]).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("Tick the box"));
    assert!(portcullis::store::factors::enrolled(&srv.state.db, &vera.id).await.unwrap().totp);
    let resp = post_form(
        &admin,
        &srv,
        &page,
        &act("remove-factor"),
        &[("item", "totp"), ("reason", "phone lost"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(location(&resp), format!("{page}?done=user"));
    assert!(!portcullis::store::factors::enrolled(&srv.state.db, &vera.id).await.unwrap().totp);
    let removed = srv.audit(Some(&vera.id), "mfa.factor_removed_by_admin", 1).await;
    assert!(removed[0].detail.as_deref().unwrap().contains("phone lost") && removed[0].actor_id.is_some());
    assert_eq!(vera_http.get(srv.url("/api/v1/me/mfa")).send().await.unwrap().status(), 401, "her session ended");

    // Shown once: backup codes and a recovery link.
    let resp = post_form(&admin, &srv, &page, &act("backup-codes"), &[]).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert_eq!(html.matches("<li><code>").count(), 10, "{html}");
    let resp = post_form(&admin, &srv, &page, &act("recovery-link"), &[("reason", ""), ("expires_hours", "4")]).await;
    assert_eq!(resp.status(), 400);
    let resp =
        post_form(&admin, &srv, &page, &act("recovery-link"), &[("reason", "checked ID"), ("expires_hours", "25")])
            .await;
    assert_eq!(resp.status(), 400);
    let resp =
        post_form(&admin, &srv, &page, &act("recovery-link"), &[("reason", "checked ID"), ("expires_hours", "2")])
            .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("/recover?token="), "{html}");
    assert!(!get_page(&admin, &srv, &page).await.contains("/recover?token="), "not shown again");

    // Groups, disable and enable, each audited.
    let resp = post_form(&admin, &srv, &page, &act("add-group"), &[("group", "ops")]).await;
    assert!(resp.status().is_redirection());
    assert!(get_page(&admin, &srv, &page).await.contains("<li>ops"));
    post_form(&admin, &srv, &page, &act("remove-group"), &[("group", "ops")]).await;
    let resp = post_form(&admin, &srv, &page, &act("disable"), &[("confirm", "yes")]).await;
    assert!(resp.status().is_redirection());
    assert!(portcullis::store::users::find_by_id(&srv.state.db, &vera.id).await.unwrap().unwrap().disabled);
    post_form(&admin, &srv, &page, &act("enable"), &[]).await;
    assert!(!portcullis::store::users::find_by_id(&srv.state.db, &vera.id).await.unwrap().unwrap().disabled);
    for e in
        ["group.member_added", "group.member_removed", "user.disabled", "user.enabled", "mfa.backup_codes_generated"]
    {
        assert_eq!(srv.audit(Some(&vera.id), e, 5).await.len(), 1, "{e}");
    }

    // A lockout, and the unlock.
    for _ in 0..10 {
        api_post(
            &reqwest::Client::new(),
            &srv.url("/api/v1/auth/login"),
            json!({"username": "vera", "password": "wrong"}),
        )
        .await;
    }
    let html = get_page(&admin, &srv, &page).await;
    assert!(html.contains("Locked after failed attempts"), "{html}");
    post_form(&admin, &srv, &page, &act("unlock"), &[]).await;
    let (status, _) = api_login(&srv, &reqwest::Client::new(), "vera").await;
    assert_eq!(status, 200, "unlocked");
    assert_eq!(srv.audit(Some(&vera.id), "user.unlocked", 5).await.len(), 1);

    // Another user's session is not reachable through Vera's page.
    let walt_http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    api_login(&srv, &walt_http, "walt").await;
    let walts = portcullis::store::sessions::list_for_user(&srv.state.db, &other.id, srv.now()).await.unwrap();
    let resp = post_form(&admin, &srv, &page, &act("end-session"), &[("item", &walts[0].id)]).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(walt_http.get(srv.url("/api/v1/me/mfa")).send().await.unwrap().status(), 200, "Walt is still in");
    let resp = post_form(&admin, &srv, &page, &act("no-such-action"), &[]).await;
    assert_eq!(resp.status(), 404);
    let resp = admin.get(srv.url("/admin/users/nobody-at-all")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    srv.stop().await;
}

async fn the_audit_log_filters_pages_and_exports(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_browser(&srv).await;
    let yara = srv.add_user("yara").await;
    let origin = portcullis::audit::Origin::default();
    // 1,100 entries of one event (more than two export chunks), a few about Yara, one with a
    // detail a spreadsheet would take for a formula.
    for i in 0..1100 {
        let user = (i % 100 == 0).then_some(yara.id.as_str());
        portcullis::audit::record(&srv.state, "test.bulk", user, None, &origin, Some(&format!("n={i}"))).await.unwrap();
    }
    portcullis::audit::record(&srv.state, "test.odd", None, None, &origin, Some("=1+1, \"quoted\"")).await.unwrap();

    let html = get_page(&admin, &srv, "/admin/audit?event=test.bulk").await;
    assert_eq!(html.matches("<td>test.bulk</td>").count(), 50, "a page of 50");
    assert!(html.contains("Older entries"), "{html}");
    let html = get_page(&admin, &srv, "/admin/audit?event=test.bulk&user=yara").await;
    assert_eq!(html.matches("<td>test.bulk</td>").count(), 11, "{html}");
    let resp = admin.get(srv.url("/admin/audit?from=yesterday")).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("a date like"));
    let today = cookie_date(srv.now());
    let html = get_page(&admin, &srv, &format!("/admin/audit?event=test.odd&from={today}&to={today}")).await;
    assert_eq!(html.matches("<td>test.odd</td>").count(), 1);
    let html = get_page(&admin, &srv, "/admin/audit?event=test.odd&to=2000-01-01").await;
    assert_eq!(html.matches("<td>test.odd</td>").count(), 0);

    // Exports: every matching entry, streamed in chunks.
    let resp = admin.get(srv.url("/admin/audit/export?format=csv&event=test.bulk")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-disposition"].to_str().unwrap().contains("audit.csv"));
    let csv = resp.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1101, "a header and 1,100 rows");
    assert!(csv.starts_with("id,at,event,user_id,actor_id,app_id,ip,detail\n"));
    let odd = admin.get(srv.url("/admin/audit/export?event=test.odd")).send().await.unwrap().text().await.unwrap();
    assert!(odd.contains("\"'=1+1, \"\"quoted\"\"\""), "quoted, and no formula: {odd}");
    let resp = admin.get(srv.url("/admin/audit/export?format=json&event=test.bulk")).send().await.unwrap();
    let all: Vec<serde_json::Value> = resp.json().await.unwrap();
    assert_eq!(all.len(), 1100);
    assert!(all.windows(2).all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()), "newest first, no repeats");
    let resp = admin.get(srv.url("/admin/audit/export?format=xml")).send().await.unwrap();
    assert_eq!(resp.status(), 400);

    // Not for users.
    let user = browser();
    let login = get_page(&user, &srv, "/login").await;
    let form =
        [("csrf", hidden_input(&login, "csrf").unwrap()), ("username", "yara".into()), ("password", PASSWORD.into())];
    user.post(srv.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(user.get(srv.url("/admin/audit/export")).send().await.unwrap().status(), 403);
    srv.stop().await;
}

/// `YYYY-MM-DD` of a Unix time (UTC).
fn cookie_date(unix: i64) -> String {
    let t = chrono::DateTime::from_timestamp(unix, 0).unwrap();
    t.format("%Y-%m-%d").to_string()
}

async fn the_settings_page_keeps_code_factors_and_sets_recovery_and_alerts(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_browser(&srv).await;
    srv.set_settings(json!({"mfa_allowed_factors": ["totp", "passkey", "sms", "email"]})).await;
    let html = get_page(&admin, &srv, "/admin/settings").await;
    assert!(html.contains("name=\"factor_sms\" value=\"on\" checked"), "{html}");
    // Saving the page as it stands keeps text and email codes allowed.
    let fields = [
        ("mfa_policy", "optional"),
        ("factor_totp", "on"),
        ("factor_passkey", "on"),
        ("factor_sms", "on"),
        ("factor_email", "on"),
        ("mfa_enrollment_grace_period", "0"),
        ("mfa_reauth_interval_minutes", "0"),
        ("trusted_device_duration_days", "30"),
        ("backup_codes_count", "10"),
    ];
    let resp = post_form(&admin, &srv, "/admin/settings", "/admin/settings", &fields).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let s = portcullis::store::settings::load(&srv.state.db).await.unwrap();
    assert_eq!(s.mfa_allowed_factors.len(), 4, "{:?}", s.mfa_allowed_factors);

    // Recovery by email off, one alert left on.
    let resp = post_form(&admin, &srv, "/admin/settings", "/admin/settings/recovery", &[("alert_lockout", "on")]).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let s = portcullis::store::settings::load(&srv.state.db).await.unwrap();
    assert!(!s.self_service_recovery && !s.self_service_password_reset);
    assert!(s.alert_lockout && !s.alert_factor_changes && !s.alert_recovery_used);
    assert!(get_page(&browser(), &srv, "/recover").await.contains("Contact your administrator"));
    assert!(!srv.audit(None, "settings.changed", 5).await.is_empty());
    srv.stop().await;
}

/// `/demo/callback` reached without the demo's state (another host name, a stale tab): a
/// client error that says to start again, not a 502 (issue 21).
async fn a_demo_callback_without_its_state_is_the_browsers_error(b: Backend) {
    let opts = Options { demo: true, ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let resp = browser().get(srv.url("/demo/callback?code=x&state=y")).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let page = resp.text().await.unwrap();
    assert!(page.contains("start again") && page.contains("href=\"/demo\""), "{page}");
    srv.stop().await;
}

async fn the_dashboard_draws_what_happened(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let admin = admin_browser(&srv).await;
    let vera = srv.add_user("vera").await;
    let secret = srv.enrol_totp(&vera).await;
    // One failed second step (a code from none of the accepted time steps).
    let near: Vec<String> = [-30, 0, 30].iter().map(|d| totp_code(&secret, srv.now() + d)).collect();
    let wrong = ["000000", "111111", "222222", "333333"].into_iter().find(|c| !near.iter().any(|n| n == c)).unwrap();
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (_, step) = api_login(&srv, &http, "vera").await;
    let (status, _) =
        api_post(&http, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": step["mfa_token"], "code": wrong}))
            .await;
    assert_eq!(status, 401);

    let html = get_page(&admin, &srv, "/admin/stats").await;
    let today = portcullis::web::charts::day_label(srv.now().div_euclid(86_400));
    assert!(html.contains("1 of 2 active users have a second step set up."), "{html}");
    for (id, summary) in [
        ("sign-ins", format!("1 in 30 days; most on {today} (1).")),
        ("failures", format!("1 in 30 days; most on {today} (1).")),
    ] {
        assert!(html.contains(&format!("role=\"img\" aria-labelledby=\"{id}-t {id}-d\"")), "{id}: {html}");
        assert!(html.contains(&format!("<desc id=\"{id}-d\">{summary}</desc>")), "{id}: {html}");
    }
    assert!(html.contains("<desc id=\"lockouts-d\">None in 30 days.</desc>"), "{html}");
    assert!(html.contains(&format!("<tr><th scope=\"row\">{today}</th><td>50 %</td></tr>")), "the rate today: {html}");
    assert!(html.contains("Authenticator app (TOTP): 1 (50 %)"), "{html}");
    assert!(html.contains("No plugin ran"), "{html}");
    assert!(!html.contains("<script"), "drawn without a script");

    srv.add_user("walt").await;
    let user = signed_in(&srv, "walt").await;
    assert_eq!(user.get(srv.url("/admin/stats")).send().await.unwrap().status(), 403);
    srv.stop().await;
}

/// The path (`/invite?token=…`) of the invitation link a page shows once.
fn invitation_path(srv: &TestServer, html: &str) -> String {
    let marker = "<code class=\"secret\" id=\"invitation-url\">";
    let start = html.find(marker).unwrap_or_else(|| panic!("an invitation link: {html}")) + marker.len();
    let url = &html[start..start + html[start..].find('<').unwrap()];
    url.replace("&#38;", "&").replace("&amp;", "&").strip_prefix(srv.issuer()).unwrap().to_owned()
}

/// Posts the invitation form for the link at `path` (whether or not its page still offers it).
async fn accept(srv: &TestServer, path: &str, password: &str, again: &str) -> reqwest::Response {
    let b = browser();
    let html = get_page(&b, srv, "/login").await;
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let form = [
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("token", token),
        ("new_password", password.into()),
        ("confirm_password", again.into()),
    ];
    b.post(srv.url("/invite")).form(&form).send().await.unwrap()
}

async fn invitations_make_accounts_people_finish(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let admin = admin_browser(&srv).await;
    let find = |name: &'static str| portcullis::store::users::find_by_username(&srv.state.db, name);
    let form = |days: &'static str| {
        [("username", "nina"), ("email", "nina@example.test"), ("groups", "staff, ops"), ("expires_days", days)]
    };

    // Refused: a validity out of range, a taken name, no CSRF token. Nothing is made.
    let resp = post_form(&admin, &srv, "/admin/users", "/admin/users", &form("30")).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("value=\"nina@example.test\""), "the form keeps what was typed");
    let resp =
        post_form(&admin, &srv, "/admin/users", "/admin/users", &[("username", "root"), ("expires_days", "3")]).await;
    assert_eq!(resp.status(), 409);
    let resp = admin.post(srv.url("/admin/users")).form(&form("3")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(find("nina").await.unwrap().is_none());

    // Made: no password, in its groups, the link shown once.
    let resp = post_form(&admin, &srv, "/admin/users", "/admin/users", &form("3")).await;
    assert_eq!(resp.status(), 201);
    let path = invitation_path(&srv, &resp.text().await.unwrap());
    let nina = find("nina").await.unwrap().unwrap();
    assert!(nina.password_hash.is_none());
    let groups = portcullis::store::users::find_groups(&srv.state.db, &nina.id).await.unwrap();
    assert_eq!(groups.len(), 2);
    assert!(get_page(&admin, &srv, "/admin/users").await.contains("<span class=\"badge\">invited</span>"));
    assert_eq!(srv.audit(Some(&nina.id), "user.invited", 5).await.len(), 1);
    let (status, _) =
        api_post(&reqwest::Client::new(), &srv.url("/api/v1/auth/login"), json!({"username": "nina", "password": ""}))
            .await;
    assert_eq!(status, 401, "no way in before the invitation is accepted");

    // The link's page names the account; the password must be acceptable and typed twice.
    assert!(get_page(&browser(), &srv, &path).await.contains("An account was made for you: nina."));
    assert_eq!(accept(&srv, &path, "a long enough password", "another one entirely").await.status(), 400);
    assert_eq!(accept(&srv, &path, "short", "short").await.status(), 400);
    let resp = accept(&srv, &path, "nina's own passphrase", "nina's own passphrase").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Your password is set"));
    assert_eq!(srv.audit(Some(&nina.id), "user.invitation_accepted", 5).await.len(), 1);
    assert!(get_page(&browser(), &srv, &path).await.contains("This link is not valid"), "used once");
    assert_eq!(submit_login(&srv, &browser(), "/login", "nina", "nina's own passphrase").await, "/");
    let page = format!("/admin/users/{}", nina.id);
    let resp = post_form(&admin, &srv, &page, &format!("{page}/invite"), &[("expires_days", "3")]).await;
    assert_eq!(resp.status(), 400, "she has a password now: no new invitation");

    // A new invitation replaces the old one; an expired one does nothing.
    let resp =
        post_form(&admin, &srv, "/admin/users", "/admin/users", &[("username", "pia"), ("expires_days", "1")]).await;
    let first = invitation_path(&srv, &resp.text().await.unwrap());
    let pia = find("pia").await.unwrap().unwrap();
    let page = format!("/admin/users/{}", pia.id);
    let resp = post_form(&admin, &srv, &page, &format!("{page}/invite"), &[("expires_days", "1")]).await;
    let second = invitation_path(&srv, &resp.text().await.unwrap());
    assert_eq!(accept(&srv, &first, "pia's passphrase here", "pia's passphrase here").await.status(), 400);
    srv.advance(86_400 + 1);
    assert_eq!(accept(&srv, &second, "pia's passphrase here", "pia's passphrase here").await.status(), 400);
    assert!(find("pia").await.unwrap().unwrap().password_hash.is_none());
    let admin = signed_in(&srv, "root").await;
    let resp = post_form(&admin, &srv, &page, &format!("{page}/invite"), &[("expires_days", "2")]).await;
    let third = invitation_path(&srv, &resp.text().await.unwrap());

    // Used once, however many try at the same moment: one password wins, and it is the one set.
    let b = browser();
    let html = get_page(&b, &srv, &third).await;
    let (csrf, token) = (hidden_input(&html, "csrf").unwrap(), hidden_input(&html, "token").unwrap());
    let tries = (0..8).map(|i| {
        let (b, csrf, token, url) = (b.clone(), csrf.clone(), token.clone(), srv.url("/invite"));
        async move {
            let pw = format!("racing passphrase {i}");
            let form =
                [("csrf", csrf), ("token", token), ("new_password", pw.clone()), ("confirm_password", pw.clone())];
            (b.post(url).form(&form).send().await.unwrap().status().as_u16(), pw)
        }
    });
    let results = futures_util::future::join_all(tries).await;
    let winners: Vec<&String> = results.iter().filter(|(s, _)| *s == 200).map(|(_, pw)| pw).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    // The others: the link is used (400), or the password hasher's queue was full (503).
    assert!(results.iter().all(|(s, _)| [200, 400, 503].contains(s)), "{results:?}");
    assert_eq!(submit_login(&srv, &browser(), "/login", "pia", winners[0]).await, "/");
    srv.stop().await;
}
