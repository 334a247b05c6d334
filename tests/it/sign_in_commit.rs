//! A password sign-in that answers a waiting OIDC request writes its session, its audit
//! record, where the user came from, the request's consumption and the grant with its code in
//! one commit: a request answered once yields one session, one grant and one `login.success`,
//! however many right passwords race for it, and a new session ends the one the browser came with.

use crate::both_databases;
use crate::common::*;
use portcullis::store::Db;

both_databases!(racing_sign_ins_of_one_request_leave_one_session, a_new_session_ends_the_browsers_previous_one);

/// Rows of `table` whose `user_id` is `user_id`, read on the server's own pool.
async fn rows_of(srv: &TestServer, table: &str, user_id: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1"));
    match &srv.state.db {
        Db::Sqlite(s) => sqlx::query_scalar(sql).bind(user_id).fetch_one(&s.pool).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(user_id).fetch_one(&p.pool).await.unwrap(),
    }
}

async fn racing_sign_ins_of_one_request_leave_one_session(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let (verifier, challenge) = pkce();
    let browser = browser();
    let authorize =
        authorize_url(&srv, &app.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let page = browser.get(&authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let form = vec![
        ("csrf", hidden_input(&html, "csrf").unwrap()),
        ("request", hidden_input(&html, "request").unwrap()),
        ("username", "alice".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    const RACERS: usize = 6;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..RACERS {
        let (browser, url, form) = (browser.clone(), srv.url("/login"), form.clone());
        set.spawn(async move {
            let resp = browser.post(url).form(&form).send().await.unwrap();
            let to = resp.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
            (resp.status().as_u16(), to)
        });
    }
    let answers = set.join_all().await;
    let codes: Vec<String> = answers
        .iter()
        .filter_map(|(_, to)| to.as_deref().filter(|u| u.starts_with(REDIRECT)).and_then(|u| query_param(u, "code")))
        .collect();
    assert_eq!(codes.len(), 1, "one request is answered once: {answers:?}");
    assert_eq!(answers.iter().filter(|(s, _)| *s == 400).count(), RACERS - 1, "the others find it used: {answers:?}");
    assert_eq!(rows_of(&srv, "sessions", &alice.id).await, 1, "only the sign-in that answered keeps a session");
    assert_eq!(rows_of(&srv, "grants", &alice.id).await, 1);
    assert_eq!(rows_of(&srv, "user_sightings", &alice.id).await, 1, "the test client sends no User-Agent");
    // The answered one is on record, and only it: the others signed no one in.
    let successes = srv.audit(Some(&alice.id), "login.success", 50).await.len();
    assert_eq!(successes, 1, "one sign-in, one record");
    // Every right password was settled, the winner's in its sign-in's commit and the losers'
    // in theirs (which wrote nothing else): no attempt stays counted against the account or
    // the address.
    assert_eq!(counted_attempts(&srv).await, 0, "every right password gave its attempts back");
    let tokens = exchange_code(&srv, &app, &codes[0], &verifier).await;
    assert_eq!(tokens.status(), 200);
}

/// Attempts still counted on any budget (accounts and addresses).
async fn counted_attempts(srv: &TestServer) -> i64 {
    let sql = "SELECT CAST(COALESCE(SUM(failures), 0) AS BIGINT) FROM rate_limits";
    match &srv.state.db {
        Db::Sqlite(s) => sqlx::query_scalar(sql).fetch_one(&s.pool).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&p.pool).await.unwrap(),
    }
}

async fn a_new_session_ends_the_browsers_previous_one(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let (here, elsewhere) = (browser(), browser());
    let _ = get_code(&srv, &here, &app.client_id, "alice").await;
    let _ = get_code(&srv, &elsewhere, &app.client_id, "alice").await;
    let before = portcullis::store::sessions::list_for_user(&srv.state.db, &alice.id, srv.now()).await.unwrap();
    assert_eq!(before.len(), 2);
    // The same browser signs in again (`prompt=login`: the session cannot answer).
    let (_, challenge) = pkce();
    let again = authorize_url(
        &srv,
        &app.client_id,
        &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("prompt", "login")],
    );
    let to = sign_in(&srv, &here, &again, "alice", PASSWORD).await;
    assert!(query_param(&to, "code").is_some(), "{to}");
    let after = portcullis::store::sessions::list_for_user(&srv.state.db, &alice.id, srv.now()).await.unwrap();
    assert_eq!(after.len(), 2, "the browser's previous session ended, the other browser's stayed");
    let ids = |s: &[portcullis::store::sessions::Session]| s.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    let kept: Vec<String> = ids(&before).into_iter().filter(|id| ids(&after).contains(id)).collect();
    assert_eq!(kept.len(), 1, "one of the two earlier sessions is gone, the new one replaces it");
}

/// A waiting request is stored without waiting for PostgreSQL's WAL flush, and only it: the
/// setting holds for that statement's own transaction. Had it stayed on the connection, the
/// sessions, grants and limits written next on it would be lost with a crash of the database.
/// Every connection the pool holds after racing authorization requests commits as the server
/// is set, and every request is stored and can be signed in with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_requests_leave_commits_as_the_server_sets_them() {
    let Some(srv) = TestServer::start(Backend::Postgres).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let (verifier, challenge) = pkce();
    let authorize =
        authorize_url(&srv, &app.client_id, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    const REQUESTS: usize = 40;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..REQUESTS {
        let (browser, url) = (browser(), authorize.clone());
        set.spawn(async move {
            let page = browser.get(url).send().await.unwrap();
            assert_eq!(page.status(), 200);
            (browser, page.text().await.unwrap())
        });
    }
    let pages = set.join_all().await;
    let Db::Postgres(pg) = &srv.state.db else { unreachable!() };
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM auth_requests").fetch_one(&pg.pool).await.unwrap();
    assert_eq!(stored, REQUESTS as i64);
    // All of the pool's connections at once, each asked how its next commit will go.
    let mut held = Vec::new();
    for _ in 0..pg.pool.size() {
        held.push(pg.pool.acquire().await.unwrap());
    }
    assert!(held.len() > 1, "the racing requests used several connections");
    for conn in &mut held {
        let as_set: bool =
            sqlx::query_scalar("SELECT setting = reset_val FROM pg_settings WHERE name = 'synchronous_commit'")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
        assert!(as_set, "a connection came back from storing a request with its commits made asynchronous");
    }
    drop(held);
    // The last request stored is signed in with, and its code exchanged.
    let (browser, html) = pages.last().unwrap();
    let form = [
        ("csrf", hidden_input(html, "csrf").unwrap()),
        ("request", hidden_input(html, "request").unwrap()),
        ("username", "alice".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let resp = browser.post(srv.url("/login")).form(&form).send().await.unwrap();
    let to = resp.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned();
    let code = query_param(&to, "code").unwrap_or_else(|| panic!("signed in to the app: {to}"));
    let tokens = exchange_code(&srv, &app, &code, &verifier).await;
    assert_eq!(tokens.status(), 200);
    let tokens: serde_json::Value = tokens.json().await.unwrap();
    assert!(tokens.get("id_token").is_some(), "{tokens}");
}
