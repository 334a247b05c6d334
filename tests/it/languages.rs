//! The pages speak the visitor's language: German when the browser prefers it, English
//! otherwise, and the visitor's own choice (the language menu, kept in a cookie) over both;
//! error pages and the second step too. The language menu only ever sends people back to a
//! page of this site.

use crate::both_databases;
use crate::common::*;

both_databases!(pages_follow_the_browser_and_the_visitors_choice, the_admin_console_speaks_german);

async fn pages_follow_the_browser_and_the_visitors_choice(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    srv.enrol_totp_now(&alice).await;
    let german = |b: reqwest::RequestBuilder| b.header("accept-language", "de-DE,de;q=0.9,en;q=0.5");

    // The browser's preference.
    let http = browser();
    let html = german(http.get(srv.url("/login"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<html lang=\"de\">") && html.contains("<h1>Anmelden</h1>"), "{html}");
    assert!(html.contains("Passwort vergessen?"), "{html}");
    let html = get_page(&http, &srv, "/login").await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("<h1>Sign in</h1>"), "{html}");
    let html = http
        .get(srv.url("/login"))
        .header("accept-language", "fr-FR, en;q=0.3, de;q=0.8")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<h1>Anmelden</h1>"), "the best language we have: {html}");

    // Errors: the title, the message and the reference.
    let resp = german(http.get(srv.url("/no/such/page"))).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Nicht gefunden") && html.contains("Referenz: <code>"), "{html}");
    let login = get_page(&http, &srv, "/login").await;
    let form =
        [("csrf", hidden_input(&login, "csrf").unwrap()), ("username", "alice".into()), ("password", "wrong".into())];
    let html = german(http.post(srv.url("/login")).form(&form)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Benutzername oder Passwort ist falsch."), "{html}");

    // The second step, in German, with its attempts left.
    let b = browser();
    assert_eq!(submit_login(&srv, &b, "/login", "alice", PASSWORD).await, "/login/mfa");
    let html = german(b.get(srv.url("/login/mfa"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<h1>Bestätigung in zwei Schritten</h1>") && html.contains("Nicht Sie?"), "{html}");

    // The visitor's choice wins over the browser's, and is kept.
    let chooser = browser();
    let resp = chooser
        .post(srv.url("/language"))
        .form(&[("lang", "de"), ("back", "/login?request=abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&resp), "/login?request=abc");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("portcullis_lang=de") && cookie.contains("HttpOnly"), "{cookie}");
    let html =
        chooser.get(srv.url("/login")).header("accept-language", "en").send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("<h1>Anmelden</h1>") && html.contains("<option value=\"de\" lang=\"de\" selected>"),
        "{html}"
    );
    // Only back to this site, and only to languages we have.
    for back in ["https://evil.example/", "//evil.example/x", "/\\evil.example"] {
        let resp = chooser.post(srv.url("/language")).form(&[("lang", "en"), ("back", back)]).send().await.unwrap();
        assert_eq!(location(&resp), "/", "{back}");
    }
    let resp = chooser.post(srv.url("/language")).form(&[("lang", "xx"), ("back", "/login")]).send().await.unwrap();
    assert!(resp.headers().get("set-cookie").is_none());
    // Another site cannot switch a visitor's language.
    let resp = browser()
        .post(srv.url("/language"))
        .header("origin", "https://evil.example")
        .form(&[("lang", "de"), ("back", "/login")])
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("set-cookie").is_none(), "a cross-site post sets nothing");
    // The JSON API keeps its protocol's words.
    let resp = german(http.post(srv.url("/api/v1/auth/login")))
        .json(&serde_json::json!({"username": "alice", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_credentials");
    srv.stop().await;
}

both_databases!(the_brand_is_the_operators);

async fn the_brand_is_the_operators(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.svg");
    std::fs::write(
        &logo,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle r="20" cx="20" cy="20"/></svg>"#,
    )
    .unwrap();
    let logo_path = logo.display().to_string();
    let opts = Options {
        tweak: Box::new(move |c| {
            c.branding.name = "Acme ID".into();
            c.branding.logo_file = logo_path;
            c.branding.primary_color = "#0b5394".into();
        }),
        ..Default::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let http = browser();
    let html = get_page(&http, &srv, "/login").await;
    assert!(html.contains("<title>Sign in · Acme ID</title>"), "{html}");
    assert!(html.contains("<img class=\"logo\" src=\"/static/logo\" alt=\"\" height=\"40\"> Acme ID"), "{html}");
    let resp = http.get(srv.url("/static/logo")).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "image/svg+xml");
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"), "an SVG runs nothing");
    let css = http.get(srv.url("/static/portcullis.css")).send().await.unwrap().text().await.unwrap();
    assert!(css.contains("--accent: #0b5394; --on-accent: #ffffff;"), "{css}");
    srv.stop().await;

    // A colour people could not read is refused at start, naming the key.
    let mut cfg = portcullis::config::Config::default();
    cfg.branding.primary_color = "#ffdd00".into();
    let err = cfg.validate().unwrap_err();
    assert!(err.contains("branding.primary_color") && err.contains("4.5:1"), "{err}");
}

both_databases!(mail_follows_the_page_that_asked);

/// A reset asked for from a German page is mailed in German; from an English one, in English.
async fn mail_follows_the_page_that_asked(b: Backend) {
    let Some(mut smtp) = crate::delivery::Receiver::start("smtp", &[]) else { return };
    let port = smtp.port;
    let opts = Options { tweak: Box::new(move |c| mail_to(c, port)), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let spec = portcullis::admin::users::UserSpec {
        username: "greta",
        password: PASSWORD,
        email: Some("greta@example.test"),
        email_verified: true,
        display_name: None,
        is_admin: false,
        groups: &[],
    };
    portcullis::admin::users::add(&srv.state, &portcullis::admin::Admin::operator(), &spec).await.unwrap();
    let spec = portcullis::admin::users::UserSpec { username: "gareth", email: Some("gareth@example.test"), ..spec };
    portcullis::admin::users::add(&srv.state, &portcullis::admin::Admin::operator(), &spec).await.unwrap();
    for (accept, address, subject, body) in [
        (
            "de-DE,de;q=0.9",
            "greta@example.test",
            "Passwort für",
            "Öffnen Sie diesen Link, um ein neues Passwort zu wählen",
        ),
        ("en-GB", "gareth@example.test", "Reset your", "Open this link to choose a new password"),
    ] {
        let http = browser();
        let page = http.get(srv.url("/reset-password")).header("accept-language", accept).send().await.unwrap();
        let csrf = hidden_input(&page.text().await.unwrap(), "csrf").unwrap();
        let resp = http
            .post(srv.url("/reset-password/ask"))
            .header("accept-language", accept)
            .form(&[("csrf", csrf.as_str()), ("email", address)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let mail = smtp.next(30).await.expect("the link was mailed");
        assert!(mail["subject"].as_str().unwrap().starts_with(subject), "{accept}: {mail}");
        assert!(mail["text"].as_str().unwrap().contains(body), "{accept}: {mail}");
    }
    srv.stop().await;
}

/// Text a page would show only if a key were missing from the catalogues (the key itself).
fn leaked_key(html: &str) -> Option<&str> {
    ["adm-", "chart-", "refuse-", "notice-", "limit-"].into_iter().find(|k| {
        html.match_indices(k).any(|(at, _)| {
            let before = html[..at].chars().last().unwrap_or(' ');
            let word: String = html[at..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '-').collect();
            !before.is_ascii_alphanumeric() && before != '-' && before != '"' && word.len() > k.len() + 2
        })
    })
}

/// An administrator who chose German sees the whole console in German, refusals included,
/// while the JSON API keeps its English words for programs.
async fn the_admin_console_speaks_german(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = admin_browser(&srv).await;
    let resp = admin.post(srv.url("/language")).form(&[("lang", "de"), ("back", "/admin")]).send().await.unwrap();
    assert_eq!(location(&resp), "/admin");
    let vera = srv.add_user("vera").await;
    srv.enrol_totp_now(&vera).await;
    let app = srv.add_client(false).await;

    let english = [
        ">Overview<",
        ">Users<",
        ">Applications<",
        "Audit log",
        "Sign-in settings",
        "Second step",
        ">Save<",
        ">Remove<",
        "Sign-in methods",
        "Figures",
        "No entries",
        "Register",
        "Subscribers",
        "Uploaded",
        "Invite",
        "Redirect URIs",
        "Client secret",
        "As for everyone",
        "Required:",
        "never",
        "since ",
        "Trusted devices",
    ];
    let pages = [
        "/admin".to_owned(),
        "/admin/users".to_owned(),
        format!("/admin/users/{}", vera.id),
        "/admin/apps".to_owned(),
        "/admin/apps/new".to_owned(),
        format!("/admin/apps/{}", app.app_id),
        "/admin/audit".to_owned(),
        "/admin/stats".to_owned(),
        "/admin/settings".to_owned(),
        "/admin/plugins".to_owned(),
        "/admin/webhooks".to_owned(),
    ];
    for path in &pages {
        let html = get_page(&admin, &srv, path).await;
        assert!(html.contains("<html lang=\"de\">") && html.contains(">Anmeldeeinstellungen<"), "{path}: {html}");
        for e in english {
            assert!(!html.contains(e), "{path} still says {e:?}: {html}");
        }
        assert_eq!(leaked_key(&html), None, "{path} shows a catalogue key: {html}");
    }
    let users = get_page(&admin, &srv, "/admin/users").await;
    assert!(users.contains("2 Benutzer.") && users.contains("Benutzer einladen"), "{users}");
    let settings = get_page(&admin, &srv, "/admin/settings").await;
    assert!(settings.contains("Pflicht: ein Passkey (phishing-resistent)"), "{settings}");

    // Refusals come back in German on the page...
    let resp =
        post_form(&admin, &srv, "/admin/users", "/admin/users", &[("username", " "), ("expires_days", "7")]).await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Benutzernamen haben 1 bis 64 Zeichen"), "{html}");
    let page = format!("/admin/users/{}", vera.id);
    let resp = post_form(&admin, &srv, &page, &format!("/admin/users/{}/reset-mfa", vera.id), &[]).await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Kreuzen Sie das Kästchen zur Bestätigung an"), "{html}");
    let resp = post_form(
        &admin,
        &srv,
        "/admin/apps/new",
        "/admin/apps/new/oidc",
        &[("name", "X"), ("redirect_uris", "ftp://rp.example/cb"), ("client_type", "confidential")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(html.contains("`ftp://rp.example/cb` muss https sein."), "{html}");
    // ... and the confirmations after a change.
    let resp =
        post_form(&admin, &srv, "/admin/settings", "/admin/groups", &[("name", "staff"), ("mfa_policy", "")]).await;
    let to = location(&resp);
    let html = get_page(&admin, &srv, &to).await;
    assert!(html.contains("Gruppe gespeichert."), "{html}");

    // A person's refusal too: the account page in German.
    srv.add_user("walt").await;
    let user = signed_in(&srv, "walt").await;
    let resp = user.post(srv.url("/language")).form(&[("lang", "de"), ("back", "/profile")]).send().await.unwrap();
    assert_eq!(location(&resp), "/profile");
    let bad =
        [("password", PASSWORD), ("new_password", "a new password 123"), ("confirm_password", "another one 12345")];
    let resp = post_form(&user, &srv, "/profile", "/profile/password", &bad).await;
    let html = resp.text().await.unwrap();
    assert!(html.contains("Die beiden neuen Passwörter stimmen nicht überein."), "{html}");

    // The API answers programs in English whatever the language.
    let http = reqwest::Client::new();
    let resp = http
        .post(srv.url("/api/v1/auth/login"))
        .header("accept-language", "de")
        .json(&serde_json::json!({"username": "walt", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error_description"], "Incorrect username or password.", "{body}");
    srv.stop().await;
}
