//! Admin work through the JSON API: only an administrator whose session meets the policy
//! gets in (one gate for the whole `/api/v1/admin` tree), and every change — accounts,
//! group membership, apps — leaves one audit record naming the administrator who made it
//! and the user it concerns, even when many identical requests race.

use crate::both_databases;
use crate::common::*;
use serde_json::{Value, json};

both_databases!(
    every_admin_change_is_audited_with_its_actor,
    the_admin_tree_has_one_gate,
    racing_membership_changes_audit_once,
    racing_creations_make_one_account
);

async fn admin_session(srv: &TestServer, name: &str) -> (reqwest::Client, String) {
    let root = srv.add_admin(name).await;
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (status, body) = api_login(srv, &http, name).await;
    assert_eq!((status, &body["authenticated"]), (200, &json!(true)), "{body}");
    (http, root.id)
}

async fn audit(srv: &TestServer, http: &reqwest::Client, query: &str) -> Vec<Value> {
    let resp = http.get(srv.url(&format!("/api/v1/admin/audit?{query}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    body["entries"].as_array().unwrap().clone()
}

async fn every_admin_change_is_audited_with_its_actor(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (http, root_id) = admin_session(&srv, "root").await;

    // An account, with a generated password answered once.
    let (status, created) =
        api_post(&http, &srv.url("/api/v1/admin/users"), json!({"username": "dora", "groups": ["ops"]})).await;
    assert_eq!(status, 201, "{created}");
    let dora_id = created["id"].as_str().unwrap().to_owned();
    let password = created["password"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 20);
    let dora = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let resp = dora
        .post(srv.url("/api/v1/auth/login"))
        .json(&json!({"username": "dora", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the generated password works");
    let (status, dup) = api_post(&http, &srv.url("/api/v1/admin/users"), json!({"username": "dora"})).await;
    assert_eq!((status, dup["error"].as_str()), (409, Some("conflict")), "{dup}");

    // Group membership, both ways; a second identical change is no change.
    let member = srv.url("/api/v1/admin/groups/auditors/members/dora");
    assert_eq!(http.put(&member).send().await.unwrap().status(), 204);
    assert_eq!(http.put(&member).send().await.unwrap().status(), 204);
    assert_eq!(http.delete(&member).send().await.unwrap().status(), 204);
    assert_eq!(http.delete(&member).send().await.unwrap().status(), 404);
    let groups = portcullis::store::users::find_groups(&srv.state.db, &dora_id).await.unwrap();
    assert_eq!(groups, ["ops"]);

    // An OIDC app created and removed; a SAML app created.
    let (status, app) = api_post(
        &http,
        &srv.url("/api/v1/admin/apps/oidc"),
        json!({"name": "Wiki", "redirect_uris": ["https://wiki.example/cb"]}),
    )
    .await;
    assert_eq!(status, 201, "{app}");
    assert_eq!(app["client_secret"].as_str().unwrap().len(), 43);
    let app_id = app["app_id"].as_str().unwrap().to_owned();
    let (status, bad) = api_post(
        &http,
        &srv.url("/api/v1/admin/apps/oidc"),
        json!({"name": "Evil", "redirect_uris": ["https://evil.example/cb#fragment"]}),
    )
    .await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_request")), "{bad}");
    // What an app registration stores is bounded.
    let long_uri = format!("https://wiki.example/{}", "a".repeat(3000));
    let many: Vec<String> = (0..40).map(|i| format!("https://wiki.example/cb{i}")).collect();
    for body in [
        json!({"name": "x".repeat(200), "redirect_uris": ["https://wiki.example/cb"]}),
        json!({"name": "Long", "redirect_uris": [long_uri]}),
        json!({"name": "Many", "redirect_uris": many}),
        // A public client needs a redirect URI, and cannot have the client credentials grant.
        json!({"name": "Nowhere", "public": true}),
        json!({"name": "Public service", "public": true, "client_credentials": true}),
    ] {
        let (status, bad) = api_post(&http, &srv.url("/api/v1/admin/apps/oidc"), body).await;
        assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_request")), "{bad}");
    }
    let (status, bad) = api_post(
        &http,
        &srv.url("/api/v1/admin/users"),
        json!({"username": "eve", "email": format!("{}@example.test", "e".repeat(300))}),
    )
    .await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_request")), "{bad}");
    // A service: the client credentials grant, no redirect URI; it gets a token at once.
    let (status, service) = api_post(
        &http,
        &srv.url("/api/v1/admin/apps/oidc"),
        json!({"name": "Inventory", "client_credentials": true, "scopes": ["stock:read"]}),
    )
    .await;
    assert_eq!((status, &service["client_credentials"]), (201, &json!(true)), "{service}");
    let resp = reqwest::Client::new()
        .post(srv.url("/oauth2/token"))
        .basic_auth(service["client_id"].as_str().unwrap(), service["client_secret"].as_str())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["scope"], "stock:read");
    assert_eq!(http.delete(srv.url(&format!("/api/v1/admin/apps/{app_id}"))).send().await.unwrap().status(), 204);
    assert_eq!(http.delete(srv.url(&format!("/api/v1/admin/apps/{app_id}"))).send().await.unwrap().status(), 404);
    assert!(
        portcullis::store::apps::find_client(&srv.state.db, app["client_id"].as_str().unwrap())
            .await
            .unwrap()
            .is_none()
    );

    // Disabling ends the user's session; enabling lets them back in.
    let disable = srv.url("/api/v1/admin/users/dora/disable");
    assert_eq!(http.post(&disable).send().await.unwrap().status(), 204);
    assert_eq!(dora.get(srv.url("/api/v1/me/devices")).send().await.unwrap().status(), 401);
    assert_eq!(http.post(srv.url("/api/v1/admin/users/dora/enable")).send().await.unwrap().status(), 204);

    // Each change once, by root, about dora where it concerns her.
    let mine = audit(&srv, &http, &format!("actor_id={root_id}&limit=100")).await;
    let count = |event: &str| mine.iter().filter(|e| e["event"] == event).count();
    for (event, n) in [
        ("user.created", 1),
        ("group.member_added", 1),
        ("group.member_removed", 1),
        ("app.created", 2),
        ("app.removed", 1),
        ("user.disabled", 1),
        ("user.enabled", 1),
        ("security.event", 1),
    ] {
        assert_eq!(count(event), n, "{event}: {mine:#?}");
    }
    for e in &mine {
        assert_eq!(e["actor_id"], root_id.as_str(), "{e}");
        let about_dora = e["event"].as_str().unwrap().starts_with("user.")
            || e["event"].as_str().unwrap().starts_with("group.")
            || e["event"] == "security.event";
        let expected = if about_dora { dora_id.as_str() } else { root_id.as_str() };
        assert_eq!(e["user_id"], expected, "{e}");
    }
    // Filtering by the user shows what was done to them.
    let about = audit(&srv, &http, &format!("user_id={dora_id}&event=group.member_added")).await;
    assert_eq!(about.len(), 1);
    let detail: Value = serde_json::from_str(about[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail, json!({"username": "dora", "group": "auditors"}));
    // A user's own actions name no administrator.
    let own = audit(&srv, &http, &format!("user_id={dora_id}&event=login.success")).await;
    assert!(!own.is_empty() && own.iter().all(|e| e["actor_id"].is_null()), "{own:?}");
    srv.stop().await;
}

async fn the_admin_tree_has_one_gate(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice_user = srv.add_user("alice").await;
    let alice = reqwest::Client::builder().cookie_store(true).build().unwrap();
    assert_eq!(api_login(&srv, &alice, "alice").await.0, 200);
    let anonymous = reqwest::Client::new();
    let routes: [(&str, &str, Option<Value>); 9] = [
        ("GET", "/api/v1/admin/users", None),
        ("POST", "/api/v1/admin/users", Some(json!({"username": "mallory", "is_admin": true}))),
        ("POST", "/api/v1/admin/users/alice/disable", None),
        ("PUT", "/api/v1/admin/groups/admins/members/alice", None),
        ("DELETE", "/api/v1/admin/groups/staff/members/alice", None),
        ("GET", "/api/v1/admin/apps", None),
        ("POST", "/api/v1/admin/apps/oidc", Some(json!({"name": "X", "redirect_uris": ["https://x.example/cb"]}))),
        ("GET", "/api/v1/admin/audit", None),
        ("GET", "/api/v1/admin/plugins", None),
    ];
    for (who, http, want) in [("anonymous", &anonymous, 401), ("alice", &alice, 403)] {
        for (method, path, body) in &routes {
            let mut req = http.request(method.parse().unwrap(), srv.url(path));
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status().as_u16(), want, "{who} {method} {path}");
            let body: Value = resp.json().await.unwrap();
            assert!(body["error"].is_string(), "{who} {method} {path}: {body}");
        }
    }
    // Nothing happened.
    assert!(portcullis::store::users::find_by_username(&srv.state.db, "mallory").await.unwrap().is_none());
    assert!(!portcullis::store::users::find_by_username(&srv.state.db, "alice").await.unwrap().unwrap().disabled);
    let groups = portcullis::store::users::find_groups(&srv.state.db, &alice_user.id).await.unwrap();
    assert_eq!(groups, ["staff"]);
    assert!(portcullis::store::apps::list(&srv.state.db).await.unwrap().is_empty());
    srv.stop().await;
}

async fn racing_membership_changes_audit_once(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (http, _) = admin_session(&srv, "root").await;
    let alice = srv.add_user("alice").await;
    let member = srv.url("/api/v1/admin/groups/racers/members/alice");
    let race = |method: reqwest::Method| {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let req = http.request(method.clone(), &member);
            set.spawn(async move { req.send().await.unwrap().status().as_u16() });
        }
        set.join_all()
    };
    let statuses = race(reqwest::Method::PUT).await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    let statuses = race(reqwest::Method::DELETE).await;
    assert_eq!(statuses.iter().filter(|s| **s == 204).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 204 || *s == 404), "{statuses:?}");
    let entries = audit(&srv, &http, &format!("user_id={}", alice.id)).await;
    let count = |event: &str| entries.iter().filter(|e| e["event"] == event).count();
    assert_eq!((count("group.member_added"), count("group.member_removed")), (1, 1), "{entries:#?}");
    srv.stop().await;
}

/// The same account asked for by many simultaneous requests: one is created (and audited
/// once), the others are told it exists.
async fn racing_creations_make_one_account(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (http, root_id) = admin_session(&srv, "root").await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (http, url) = (http.clone(), srv.url("/api/v1/admin/users"));
        set.spawn(async move { api_post(&http, &url, json!({"username": "twin"})).await.0 });
    }
    let statuses = set.join_all().await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    let created = audit(&srv, &http, &format!("actor_id={root_id}&event=user.created")).await;
    assert_eq!(created.len(), 1, "{created:?}");
    srv.stop().await;
}
