//! RP-initiated logout: confirmation without a matching hint, CSRF on the confirmation,
//! exact post-logout redirect URIs, and the session ends on every node (database row gone).

use crate::both_databases;
use crate::common::*;

both_databases!(logout_confirmation_and_redirects);

async fn logout_confirmation_and_redirects(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    sign_in(&srv, &browser, &authorize_url(&srv, &app.client_id, &[]), "alice", PASSWORD).await;

    // An unregistered post-logout URI: error page, no redirect, still signed in.
    let resp = browser
        .get(srv.url("/oauth2/logout"))
        .query(&[("client_id", app.client_id.as_str()), ("post_logout_redirect_uri", "http://127.0.0.1:9/elsewhere")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    // A forged hint is refused too.
    let resp = browser.get(srv.url("/oauth2/logout")).query(&[("id_token_hint", "a.b.c")]).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(browser.get(srv.url("/profile")).send().await.unwrap().status(), 200, "still signed in");

    // No hint: the user is asked to confirm.
    let resp = browser
        .get(srv.url("/oauth2/logout"))
        .query(&[
            ("client_id", app.client_id.as_str()),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/bye"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Sign out?"));
    let csrf = hidden_input(&html, "csrf").unwrap();
    let form = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("confirm", "yes".to_owned()),
            ("client_id", app.client_id.clone()),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/bye".to_owned()),
            ("state", "s1".to_owned()),
        ]
    };
    let resp = browser.post(srv.url("/oauth2/logout")).form(&form("forged")).send().await.unwrap();
    assert_eq!(resp.status(), 403, "confirmation needs the CSRF token");
    assert_eq!(browser.get(srv.url("/profile")).send().await.unwrap().status(), 200);
    let resp = browser.post(srv.url("/oauth2/logout")).form(&form(&csrf)).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "http://127.0.0.1:9/bye?state=s1");
    assert_eq!(browser.get(srv.url("/profile")).send().await.unwrap().status(), 303, "signed out");
    let rows: i64 = match &srv.state.db {
        portcullis::store::Db::Sqlite(s) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&s.pool).await.unwrap()
        }
        portcullis::store::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&p.pool).await.unwrap()
        }
    };
    assert_eq!(rows, 0, "the session row is gone, so every node sees the logout");
}
