//! The client credentials grant (RFC 6749 §4.4): a confidential client registered for it gets
//! an access token in its own name (RFC 9068 §2.2: `sub` is the client), with its own scopes
//! only, no ID token and no refresh token. Every other client is refused. The token is in force
//! while its client is registered for the grant: turning the grant off, replacing the secret or
//! removing the app ends it at once, on every node, and turning the grant on again does not
//! bring it back. Revoking one (RFC 7009) ends that one only, and only its own client can.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis::admin::Admin;
use portcullis::admin::apps::{self, CreatedOidcApp, OidcAppEdit, OidcAppSpec};
use serde_json::Value;

use crate::both_databases;
use crate::common::*;

both_databases!(
    issued_in_the_clients_name,
    refused_unless_registered_for_it,
    ends_with_its_registration,
    revoked_alone_by_its_own_client,
    many_at_once_on_two_nodes,
    a_replaced_secret_ends_its_tokens_on_every_node
);

/// A confidential client registered for the grant only (no redirect URI), with `scopes`.
async fn service(srv: &TestServer, scopes: &[&str]) -> CreatedOidcApp {
    service_of(&srv.state, scopes).await
}

/// `service`, registered through `state` (another process's, say).
async fn service_of(state: &portcullis::state::AppState, scopes: &[&str]) -> CreatedOidcApp {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let spec = OidcAppSpec {
        name: "Inventory service",
        client_id: None,
        redirect_uris: &[],
        post_logout_redirect_uris: &[],
        public: false,
        extra_scopes: &scopes,
        client_credentials: true,
    };
    apps::add_oidc(state, &Admin::operator(), &spec).await.unwrap()
}

/// A client credentials grant at the node `base`, with the secret `secret`.
async fn grant_at(http: &reqwest::Client, base: &str, client_id: &str, secret: &str) -> reqwest::Response {
    let form = [("grant_type", "client_credentials")];
    http.post(format!("{base}/oauth2/token")).basic_auth(client_id, Some(secret)).form(&form).send().await.unwrap()
}

async fn grant(srv: &TestServer, app: &CreatedOidcApp, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let resp = token_request(srv, app, &form).await;
    let status = resp.status().as_u16();
    (status, json(resp).await)
}

async fn introspect_at(base: &str, app: &CreatedOidcApp, token: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{base}/oauth2/introspect"))
        .basic_auth(&app.client_id, app.client_secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    json(resp).await
}

async fn active(srv: &TestServer, app: &CreatedOidcApp, token: &str) -> bool {
    introspect_at(&srv.url(""), app, token).await["active"] == true
}

fn header_of(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap()
}

async fn issued_in_the_clients_name(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let app = service(&srv, &["api:read", "api:write"]).await;
    let d = json(reqwest::get(srv.url("/.well-known/openid-configuration")).await.unwrap()).await;
    assert!(d["grant_types_supported"].as_array().unwrap().iter().any(|g| g == "client_credentials"), "{d}");

    // No scope asked: all of the client's own scopes.
    let resp = token_request(&srv, &app, &[("grant_type", "client_credentials")]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = json(resp).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "api:read api:write");
    assert_eq!(body["expires_in"], srv.state.config.tokens.access_token_ttl_seconds);
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none(), "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(header_of(&token)["typ"], "at+jwt");
    let c = jwt_claims(&token);
    assert_eq!(c["sub"], app.client_id.as_str(), "the client is the subject");
    assert_eq!(c["client_id"], app.client_id.as_str());
    assert_eq!((c["iss"].as_str(), c["aud"].as_str()), (Some(srv.issuer()), Some(srv.issuer())));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), body["expires_in"].as_i64().unwrap());
    for user_claim in ["gid", "sid", "auth_time", "acr", "amr"] {
        assert!(c.get(user_claim).is_none(), "no user, so no `{user_claim}`: {c}");
    }

    // A narrower scope, repeated words once; client_secret_post works as basic does.
    let (status, body) = grant(&srv, &app, Some("api:read api:read")).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("api:read")), "{body}");
    let resp = reqwest::Client::new()
        .post(srv.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_deref().unwrap()),
            ("scope", "api:write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Introspection: active for its client, with nothing about a user; nothing for another.
    let v = introspect_at(&srv.url(""), &app, &token).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(
        (v["client_id"].as_str(), v["sub"].as_str()),
        (Some(app.client_id.as_str()), Some(app.client_id.as_str()))
    );
    assert_eq!(v["scope"], "api:read api:write");
    for absent in ["username", "auth_time", "acr", "amr"] {
        assert!(v.get(absent).is_none(), "{absent}: {v}");
    }
    let other = service(&srv, &["api:read"]).await;
    assert_eq!(introspect_at(&srv.url(""), &other, &token).await["active"], false);

    // Userinfo is about a user: the token names none.
    let resp = reqwest::Client::new().get(srv.url("/oauth2/userinfo")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    assert_eq!(json(resp).await["error"], "invalid_token");

    // The claims cannot be widened: a changed payload breaks the signature.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = jwt_claims(&token);
    claims["scope"] = "api:read api:write api:admin".into();
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert!(!active(&srv, &app, &forged).await);
    let resp = reqwest::Client::new().get(srv.url("/oauth2/userinfo")).bearer_auth(&forged).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(active(&srv, &app, &token).await, "the real one still is");
    srv.stop().await;
}

async fn refused_unless_registered_for_it(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let app = service(&srv, &["api:read"]).await;
    let plain = srv.add_client(false).await;
    let public = srv.add_client(true).await;
    for (who, client) in [("a client not registered for it", &plain), ("a public client", &public)] {
        let (status, body) = grant(&srv, client, None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "{who}: {body}");
    }
    let long = format!("api:{}", "x".repeat(500));
    for (scope, shown) in [
        ("openid", "`openid` is about a user"),
        ("api:read offline_access", "`offline_access` is about a user"),
        ("profile", "`profile` is about a user"),
        ("api:admin", "`api:admin` is not allowed"),
        (long.as_str(), "(not shown)"),
        ("api:\"read\"", "(not shown)"),
    ] {
        let (status, body) = grant(&srv, &app, Some(scope)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{scope}: {body}");
        assert!(body["error_description"].as_str().unwrap().contains(shown), "{scope}: {body}");
    }
    let resp = reqwest::Client::new()
        .post(srv.url("/oauth2/token"))
        .basic_auth(&app.client_id, Some("not-the-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(json(resp).await["error"], "invalid_client");

    // Registration: the grant is for confidential clients; a public client needs a redirect URI.
    let admin = Admin::operator();
    let spec = |public: bool, cc: bool, redirects: &'static [String]| OidcAppSpec {
        name: "X",
        client_id: None,
        redirect_uris: redirects,
        post_logout_redirect_uris: &[],
        public,
        extra_scopes: &[],
        client_credentials: cc,
    };
    let err = apps::add_oidc(&srv.state, &admin, &spec(true, true, &[])).await.unwrap_err();
    assert_eq!(err.http_status(), 400, "{err:?}");
    let err = apps::add_oidc(&srv.state, &admin, &spec(true, false, &[])).await.unwrap_err();
    assert_eq!(err.http_status(), 400, "{err:?}");
    let registered = apps::find(&srv.state, &public.client_id).await.unwrap();
    let edit = OidcAppEdit {
        name: "Test RP",
        redirect_uris: &[REDIRECT.to_owned()],
        post_logout_redirect_uris: &[],
        extra_scopes: &[],
        client_credentials: true,
    };
    let err = apps::update_oidc(&srv.state, &admin, &registered, &edit).await.unwrap_err();
    assert_eq!(err.http_status(), 400, "a public client cannot be given the grant: {err:?}");
    assert_eq!(grant(&srv, &public, None).await.1["error"], "unauthorized_client");

    // A client whose id has the form of a user's id cannot have the grant: its tokens have the
    // client id as `sub`, and a resource server would take them for that user's. Such an id
    // (kept from another provider) is fine for the code flow.
    let user = srv.add_user("cc-namesake").await;
    for id in [user.id.clone(), user.id.to_uppercase()] {
        let s = OidcAppSpec { client_id: Some(&id), ..spec(false, true, &[]) };
        let err = apps::add_oidc(&srv.state, &admin, &s).await.unwrap_err();
        assert_eq!(err.http_status(), 400, "{id}: {err:?}");
        assert!(format!("{err}").contains("form of a user id"), "{err}");
    }
    let migrated = OidcAppSpec { client_id: Some(&user.id), ..spec(false, false, &[]) };
    let migrated = apps::add_oidc(&srv.state, &admin, &migrated).await.unwrap();
    let registered = apps::find(&srv.state, &migrated.client_id).await.unwrap();
    let edit = OidcAppEdit { client_credentials: true, ..edit };
    let err = apps::update_oidc(&srv.state, &admin, &registered, &edit).await.unwrap_err();
    assert!(err.http_status() == 400 && format!("{err}").contains("form of a user id"), "{err:?}");
    assert_eq!(grant(&srv, &migrated, None).await.1["error"], "unauthorized_client");
    apps::remove(&srv.state, &admin, &registered).await.unwrap();
    // One given the grant before that was refused gets no token.
    let legacy = service(&srv, &["api:read"]).await;
    let sql = "UPDATE oidc_clients SET client_id = $1 WHERE client_id = $2";
    let n = match &srv.state.db {
        portcullis::store::Db::Sqlite(s) => {
            sqlx::query(sql).bind(&user.id).bind(&legacy.client_id).execute(&s.writer).await.map(|r| r.rows_affected())
        }
        portcullis::store::Db::Postgres(p) => {
            sqlx::query(sql).bind(&user.id).bind(&legacy.client_id).execute(&p.pool).await.map(|r| r.rows_affected())
        }
    };
    assert_eq!(n.unwrap(), 1);
    let renamed = CreatedOidcApp { client_id: user.id.clone(), ..legacy };
    let (status, body) = grant(&srv, &renamed, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "{body}");
    srv.stop().await;
}

async fn set_grant(srv: &TestServer, app: &CreatedOidcApp, on: bool) {
    let registered = apps::find(&srv.state, &app.client_id).await.unwrap();
    let edit = OidcAppEdit {
        name: "Inventory service",
        redirect_uris: &[],
        post_logout_redirect_uris: &[],
        extra_scopes: &["api:read".to_owned()],
        client_credentials: on,
    };
    apps::update_oidc(&srv.state, &Admin::operator(), &registered, &edit).await.unwrap();
}

async fn in_force(srv: &TestServer, token: &str) -> bool {
    portcullis::oidc::token::verify_access_token(&srv.state, token).await.unwrap().is_some()
}

async fn ends_with_its_registration(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let mut app = service(&srv, &["api:read"]).await;
    let (_, body) = grant(&srv, &app, None).await;
    let first = body["access_token"].as_str().unwrap().to_owned();
    assert!(active(&srv, &app, &first).await);

    // The grant turned off: its tokens end, and no new one is issued.
    srv.advance(5);
    set_grant(&srv, &app, false).await;
    assert!(!active(&srv, &app, &first).await);
    assert_eq!(grant(&srv, &app, None).await.1["error"], "unauthorized_client");
    // On again: new tokens are issued, the earlier ones stay ended.
    srv.advance(5);
    set_grant(&srv, &app, true).await;
    let (_, body) = grant(&srv, &app, None).await;
    let second = body["access_token"].as_str().unwrap().to_owned();
    assert!(active(&srv, &app, &second).await);
    assert!(!active(&srv, &app, &first).await, "turning the grant on again brought an old token back");
    // Saving the registration with the grant left on changes nothing for its tokens.
    srv.advance(5);
    set_grant(&srv, &app, true).await;
    assert!(active(&srv, &app, &second).await);
    // Off and on again within one second (a script, say): a token issued in that second before
    // the grant went off stays ended, though its issue time is not before the grant's `since`.
    srv.advance(5);
    let (_, body) = grant(&srv, &app, None).await;
    let same_second = body["access_token"].as_str().unwrap().to_owned();
    set_grant(&srv, &app, false).await;
    set_grant(&srv, &app, true).await;
    assert!(!active(&srv, &app, &same_second).await, "off and on within a second brought its token back");
    let (_, body) = grant(&srv, &app, None).await;
    assert!(active(&srv, &app, body["access_token"].as_str().unwrap()).await);

    // The secret replaced (it leaked, say): what the old one got ends with it, even a token
    // issued in the same second just before; one issued in that second just after counts.
    srv.advance(5);
    let (_, body) = grant(&srv, &app, None).await;
    let just_before = body["access_token"].as_str().unwrap().to_owned();
    let registered = apps::find(&srv.state, &app.client_id).await.unwrap();
    let secret = apps::rotate_secret(&srv.state, &Admin::operator(), &registered).await.unwrap();
    app.client_secret = Some(secret);
    assert!(!active(&srv, &app, &second).await, "a token of the replaced secret");
    assert!(!active(&srv, &app, &just_before).await, "a token of the replaced secret, from its last second");
    let (_, body) = grant(&srv, &app, None).await;
    let third = body["access_token"].as_str().unwrap().to_owned();
    assert!(active(&srv, &app, &third).await);

    // The app removed: its tokens end.
    apps::remove(&srv.state, &Admin::operator(), &registered).await.unwrap();
    assert!(!in_force(&srv, &third).await);
    srv.stop().await;
}

async fn revoke(srv: &TestServer, by: &CreatedOidcApp, token: &str) {
    revoke_at(&srv.url(""), by, token).await
}

async fn revocations_stored(srv: &TestServer) -> i64 {
    let sql = "SELECT COUNT(*) FROM revoked_access_tokens";
    match &srv.state.db {
        portcullis::store::Db::Sqlite(s) => sqlx::query_scalar(sql).fetch_one(&s.pool).await.unwrap(),
        portcullis::store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(&p.pool).await.unwrap(),
    }
}

async fn revoked_alone_by_its_own_client(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let app = service(&srv, &["api:read"]).await;
    let other = service(&srv, &["api:read"]).await;
    let tokens: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..2 {
            v.push(grant(&srv, &app, None).await.1["access_token"].as_str().unwrap().to_owned());
        }
        v
    };
    // Another client's revocation changes nothing.
    revoke(&srv, &other, &tokens[0]).await;
    assert!(active(&srv, &app, &tokens[0]).await);
    assert_eq!(revocations_stored(&srv).await, 0);
    // Its own client's ends that token, and only that one; again is harmless.
    revoke(&srv, &app, &tokens[0]).await;
    assert!(!active(&srv, &app, &tokens[0]).await);
    assert!(active(&srv, &app, &tokens[1]).await);
    revoke(&srv, &app, &tokens[0]).await;
    assert_eq!(revocations_stored(&srv).await, 1);
    // A forged token revokes nothing and stores nothing.
    revoke(&srv, &app, &format!("{}x", tokens[1])).await;
    assert!(active(&srv, &app, &tokens[1]).await);
    assert_eq!(revocations_stored(&srv).await, 1);
    // The record is kept while the token could be shown, and goes when it has expired.
    srv.advance(srv.state.config.tokens.access_token_ttl_seconds - 1);
    portcullis::store::grants::purge_expired(&srv.state.db, srv.now()).await.unwrap();
    assert_eq!(revocations_stored(&srv).await, 1);
    assert!(!in_force(&srv, &tokens[0]).await);
    srv.advance(2);
    portcullis::store::grants::purge_expired(&srv.state.db, srv.now()).await.unwrap();
    assert_eq!(revocations_stored(&srv).await, 0);
    assert!(!in_force(&srv, &tokens[0]).await, "expired");
    srv.stop().await;
}

/// Until every node introspects `token` as `want` (a change made elsewhere reaches each within
/// the client cache's recheck); how long it took.
async fn until_every_node(nodes: &Nodes, app: &CreatedOidcApp, token: &str, want: bool) -> Duration {
    let start = Instant::now();
    for base in &nodes.bases {
        loop {
            if (introspect_at(base, app, token).await["active"] == true) == want {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{base} never saw it");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    start.elapsed()
}

/// Many clients' requests at once on two nodes (the grant is read-only: each gets its own
/// token), each token in force at the other node; then the grant turned off by another process
/// ends them on both within the cache's recheck, and a revocation at one node holds at the other.
async fn many_at_once_on_two_nodes(b: Backend) {
    let Some(nodes) = Nodes::start(b, 2).await else { return };
    let out = nodes
        .cli(&[
            "app",
            "add-oidc",
            "--name",
            "Inventory service",
            "--client-credentials",
            "--scope",
            "api:read",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["client_credentials"], true, "{created}");
    let app = CreatedOidcApp {
        app_id: created["app_id"].as_str().unwrap().to_owned(),
        name: created["name"].as_str().unwrap().to_owned(),
        client_id: created["client_id"].as_str().unwrap().to_owned(),
        client_secret: Some(created["client_secret"].as_str().unwrap().to_owned().into()),
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        client_credentials: true,
    };
    let http = reqwest::Client::new();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..64 {
        let req = http
            .post(format!("{}/oauth2/token", nodes.bases[i % 2]))
            .basic_auth(&app.client_id, app.client_secret.as_deref())
            .form(&[("grant_type", "client_credentials"), ("scope", "api:read")]);
        set.spawn(async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            (i, resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned())
        });
    }
    let tokens: Vec<(usize, String)> = set.join_all().await;
    let jtis: HashSet<String> = tokens.iter().map(|(_, t)| jwt_claims(t)["jti"].as_str().unwrap().to_owned()).collect();
    assert_eq!(jtis.len(), 64, "each request its own token");
    for (i, t) in &tokens {
        let v = introspect_at(&nodes.bases[(i + 1) % 2], &app, t).await;
        assert_eq!(v["active"], true, "{v}");
    }

    // Revoked at one node: ended at the other at once (it is in the database, not a cache).
    revoke_at(&nodes.bases[0], &app, &tokens[0].1).await;
    assert_eq!(introspect_at(&nodes.bases[1], &app, &tokens[0].1).await["active"], false);

    // Another process turns the grant off: every node ends the tokens within the recheck.
    let state = nodes.state(|_| {}).await;
    let registered = apps::find(&state, &app.client_id).await.unwrap();
    let edit = OidcAppEdit {
        name: "Inventory service",
        redirect_uris: &[],
        post_logout_redirect_uris: &[],
        extra_scopes: &["api:read".to_owned()],
        client_credentials: false,
    };
    apps::update_oidc(&state, &Admin::operator(), &registered, &edit).await.unwrap();
    state.db.close().await;
    let took = until_every_node(&nodes, &app, &tokens[1].1, false).await;
    assert!(took < Duration::from_secs(2), "a token outlived its grant for {took:?}");
    for base in &nodes.bases {
        let resp = grant_at(&http, base, &app.client_id, app.client_secret.as_deref().unwrap()).await;
        assert_eq!(json(resp).await["error"], "unauthorized_client");
    }
}

/// Many grants with one secret on two nodes, while another process replaces it: every token
/// the old secret got, before the replacement, in its second or from a node whose cache still
/// held it, ends on both nodes; the new secret's tokens count on both.
async fn a_replaced_secret_ends_its_tokens_on_every_node(b: Backend) {
    let Some(nodes) = Nodes::start(b, 2).await else { return };
    let state = nodes.state(|_| {}).await;
    let mut app = service_of(&state, &["api:read"]).await;
    let http = reqwest::Client::new();
    let replaced = std::sync::Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut set = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (http, base, replaced) = (http.clone(), nodes.bases[i % 2].clone(), replaced.clone());
        let (id, secret) = (app.client_id.clone(), app.client_secret.as_deref().unwrap().to_owned());
        set.spawn(async move {
            let mut got = Vec::new();
            // Until a second after the replacement: a node may take the old secret for as long
            // as its cache goes unchecked.
            while replaced.get().is_none_or(|at| at.elapsed() < Duration::from_secs(1)) {
                let resp = grant_at(&http, &base, &id, &secret).await;
                match resp.status().as_u16() {
                    200 => got.push(json(resp).await["access_token"].as_str().unwrap().to_owned()),
                    401 => assert_eq!(json(resp).await["error"], "invalid_client"),
                    s => panic!("{s}"),
                }
            }
            got
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let registered = apps::find(&state, &app.client_id).await.unwrap();
    app.client_secret = Some(apps::rotate_secret(&state, &Admin::operator(), &registered).await.unwrap());
    replaced.set(Instant::now()).unwrap();
    let old: Vec<String> = set.join_all().await.into_iter().flatten().collect();
    state.db.close().await;
    assert!(old.len() >= 16, "only {} grants with the old secret", old.len());
    for (i, t) in old.iter().enumerate() {
        let v = introspect_at(&nodes.bases[i % 2], &app, t).await;
        assert_eq!(v["active"], false, "token {i} of {} from the replaced secret: {v}", old.len());
    }
    for base in &nodes.bases {
        let resp = grant_at(&http, base, &app.client_id, app.client_secret.as_deref().unwrap()).await;
        let token = json(resp).await["access_token"].as_str().unwrap().to_owned();
        for other in &nodes.bases {
            assert_eq!(introspect_at(other, &app, &token).await["active"], true);
        }
    }
}

async fn revoke_at(base: &str, app: &CreatedOidcApp, token: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/oauth2/revoke"))
        .basic_auth(&app.client_id, app.client_secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "RFC 7009 §2.2: 200 whether or not there was anything to revoke");
}
