//! Refresh-token rotation (RFC 6749 §6, RFC 9700 §4.14.2): every use stores a successor and
//! keeps the presented token as used, so any earlier token of the chain, replayed, revokes the
//! family; refreshed ID tokens carry the user's current claims; expired tokens and disabled
//! users get nothing; a refresh that fails leaves the presented token as it was.

use std::str::FromStr;

use crate::both_databases;
use crate::common::*;

both_databases!(
    rotation_chain,
    refresh_token_expiry,
    refresh_refused_for_disabled_user,
    refused_refresh_keeps_the_grant,
    failed_refresh_keeps_the_token,
    concurrent_rotations_and_replays,
    group_rotation_of_a_client_id_json_escapes,
    group_work_follows_the_group,
    tokens_of_the_earlier_form_survive_the_upgrade,
    altered_tokens_name_nothing_and_spend_nothing
);

/// Many chains rotating at once (their rotations are queued together and written in group
/// statements), and one token presented by many requests at once (in group statements too):
/// every chain advances with fresh tokens of its own, and the replayed token has
/// exactly one winner, after which its family is revoked while the other chains carry on.
async fn concurrent_rotations_and_replays(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let mut chains = Vec::new();
    for _ in 0..24 {
        chains.push(first_tokens(&srv, &app).await["refresh_token"].as_str().unwrap().to_owned());
    }
    let mut seen = std::collections::HashSet::new();
    for round in 0..5 {
        let requests = futures_util::future::join_all(chains.iter().map(|t| refresh(&srv, &app, t)));
        let answers = queued_together(&srv, 24, requests).await;
        for (i, (status, body)) in answers.into_iter().enumerate() {
            assert_eq!(status, 200, "round {round}, chain {i}: {body}");
            let next = body["refresh_token"].as_str().unwrap().to_owned();
            assert!(seen.insert(next.clone()), "a token handed out twice");
            chains[i] = next;
        }
    }
    let replayed = chains[0].clone();
    let requests = futures_util::future::join_all((0..16).map(|_| refresh(&srv, &app, &replayed)));
    let answers = queued_together(&srv, 16, requests).await;
    let winners: Vec<&serde_json::Value> = answers.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }
    let (status, body) = refresh(&srv, &app, winners[0]["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "the family is revoked: {body}");
    let answers = futures_util::future::join_all(chains[1..].iter().map(|t| refresh(&srv, &app, t))).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "the other chains carry on: {answers:?}");
    use std::sync::atomic::Ordering::Relaxed;
    let stats = srv.state.db.group_stats();
    // Every answer was counted before it was sent.
    let (statements, commits, writes) =
        (stats.statements.load(Relaxed), stats.commits.load(Relaxed), stats.writes.load(Relaxed));
    assert!(statements >= 6, "the queued rotations were written as group statements ({statements})");
    assert!(writes >= 2 * commits, "groups carried many rotations each ({writes} in {commits} commits)");
    srv.stop().await;
}

/// A group statement carries each rotation's client id inside JSON (SQLite) or an array
/// (PostgreSQL); an id with a quote, a backslash and a slash, which JSON escapes, must come
/// out as the same id that the grant holds, or every rotation of that client would be
/// refused.
async fn group_rotation_of_a_client_id_json_escapes(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let spec = portcullis::admin::apps::OidcAppSpec {
        name: "Escaped",
        client_id: Some(r#"we"ird\id/1"#),
        redirect_uris: &[REDIRECT.to_string()],
        post_logout_redirect_uris: &[],
        public: false,
        extra_scopes: &[],
        client_credentials: false,
    };
    let app =
        portcullis::admin::apps::add_oidc(&srv.state, &portcullis::admin::Admin::operator(), &spec).await.unwrap();
    let mut chains = Vec::new();
    for _ in 0..4 {
        chains.push(first_tokens(&srv, &app).await["refresh_token"].as_str().unwrap().to_owned());
    }
    let statements = || srv.state.db.group_stats().statements.load(std::sync::atomic::Ordering::Relaxed);
    let before = statements();
    let requests = futures_util::future::join_all(chains.iter().map(|t| refresh(&srv, &app, t)));
    for (status, body) in queued_together(&srv, 4, requests).await {
        assert_eq!(status, 200, "{body}");
        assert_eq!(jwt_claims(body["id_token"].as_str().unwrap())["aud"], app.client_id.as_str());
    }
    assert!(statements() > before, "the rotations were written as a group statement");
    srv.stop().await;
}

/// Holds the writes back until `n` rotations are waiting, so that `requests` reach the
/// database in groups: on SQLite by holding the writer's gate, on PostgreSQL by locking every
/// grant from another connection (a successor's insert checks its grant's key, so the groups
/// already sent wait on the lock, and the rest queue behind them).
async fn queued_together<F: std::future::Future>(srv: &TestServer, n: i64, requests: F) -> F::Output {
    use std::sync::atomic::Ordering::Relaxed;
    match &srv.state.db {
        portcullis::store::Db::Sqlite(s) => {
            let gate = s.write_gate.lock().await;
            let release = async {
                while s.writers_waiting.load(Relaxed) < n {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                drop(gate);
            };
            tokio::join!(requests, release).0
        }
        portcullis::store::Db::Postgres(p) => {
            let mut lock = p.pool.begin().await.unwrap();
            sqlx::query("SELECT id FROM grants FOR UPDATE").fetch_all(&mut *lock).await.unwrap();
            let release = async {
                while p.rotations.pending() < n {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                lock.rollback().await.unwrap();
            };
            tokio::join!(requests, release).0
        }
    }
}

async fn refresh(
    srv: &TestServer,
    app: &portcullis::admin::apps::CreatedOidcApp,
    token: &str,
) -> (u16, serde_json::Value) {
    let resp = token_request(srv, app, &[("grant_type", "refresh_token"), ("refresh_token", token)]).await;
    (resp.status().as_u16(), json(resp).await)
}

/// The row and hash a refresh token names.
async fn located(srv: &TestServer, token: &str) -> portcullis::crypto::Located {
    portcullis::oidc::token::locate_refresh_token(&srv.state, token).await.unwrap().expect("the token names a row")
}

async fn first_tokens(srv: &TestServer, app: &portcullis::admin::apps::CreatedOidcApp) -> serde_json::Value {
    let (code, verifier) = get_code(srv, &browser(), &app.client_id, "alice").await;
    json(exchange_code(srv, app, &code, &verifier).await).await
}

async fn rotation_chain(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let tokens = first_tokens(&srv, &app).await;
    let first = jwt_claims(tokens["id_token"].as_str().unwrap());

    let mut chain = vec![tokens["refresh_token"].as_str().unwrap().to_owned()];
    for _ in 0..3 {
        let (status, body) = refresh(&srv, &app, chain.last().unwrap()).await;
        assert_eq!(status, 200, "{body}");
        let claims = jwt_claims(body["id_token"].as_str().unwrap());
        assert_eq!(claims["sub"], alice.id.as_str());
        assert_eq!(claims["preferred_username"], "alice");
        assert_eq!(claims["email"], "alice@example.test");
        assert_eq!(claims["groups"], serde_json::json!(["staff"]));
        assert_eq!(claims["auth_time"], first["auth_time"]);
        assert_eq!(claims["sid"], first["sid"]);
        let access = jwt_claims(body["access_token"].as_str().unwrap());
        assert_eq!(access["gid"], jwt_claims(tokens["access_token"].as_str().unwrap())["gid"], "same grant");
        let next = body["refresh_token"].as_str().unwrap().to_owned();
        assert!(!chain.contains(&next), "a fresh token each time");
        chain.push(next);
    }
    // A used token is refused however far back in the chain it is, and its use revokes the
    // family: the newest token, unused until now, dies with it.
    let (status, body) = refresh(&srv, &app, &chain[1]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let (status, body) = refresh(&srv, &app, chain.last().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

async fn refresh_token_expiry(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let ttl = srv.state.config.tokens.refresh_token_ttl_seconds;
    let tokens = first_tokens(&srv, &app).await;
    srv.advance(ttl - 10);
    let (status, body) = refresh(&srv, &app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "still valid ten seconds before it expires: {body}");
    // The successor lives a full lifetime from its own issue.
    srv.advance(ttl - 10);
    let (status, body) = refresh(&srv, &app, body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "the successor's lifetime starts at the rotation: {body}");
    let last = body["refresh_token"].as_str().unwrap().to_owned();
    srv.advance(ttl);
    let (status, body) = refresh(&srv, &app, &last).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "expired: {body}");
}

async fn refresh_refused_for_disabled_user(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    // Even with its grant still in force (the account flag changed by itself), a disabled
    // account gets no tokens.
    let tokens = first_tokens(&srv, &app).await;
    portcullis::store::users::update_disabled(&srv.state.db, &alice.id, true, srv.state.now()).await.unwrap();
    let (status, body) = refresh(&srv, &app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("no longer active"), "{body}");
    // Disabling through the admin path revokes the grants as well.
    portcullis::store::users::update_disabled(&srv.state.db, &alice.id, false, srv.state.now()).await.unwrap();
    let tokens = first_tokens(&srv, &app).await;
    portcullis::admin::users::set_disabled(&srv.state, &portcullis::admin::Admin::operator(), "alice", true)
        .await
        .unwrap();
    let (status, body) = refresh(&srv, &app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

/// RFC 6749 §6: a refresh asking for a wider scope is refused *before* the token is consumed,
/// so the grant survives it; a narrower scope is granted.
async fn refused_refresh_keeps_the_grant(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let tokens = first_tokens(&srv, &app).await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let resp = token_request(
        &srv,
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("scope", "openid profile api:admin")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    let body = json(resp).await;
    assert_eq!(body["error"], "invalid_scope", "{body}");
    // The same token still works, and a narrower scope is fine.
    let resp =
        token_request(&srv, &app, &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("scope", "openid")])
            .await;
    assert_eq!(resp.status(), 200);
    let body = json(resp).await;
    assert_eq!(body["scope"], "openid");
    let (status, body) = refresh(&srv, &app, body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "the family lives on: {body}");
    // Narrowed below `openid`: the access token is no key to userinfo (RFC 6750 §3.1).
    let rt = body["refresh_token"].as_str().unwrap();
    let resp =
        token_request(&srv, &app, &[("grant_type", "refresh_token"), ("refresh_token", rt), ("scope", "profile")])
            .await;
    assert_eq!(resp.status(), 200);
    let at = json(resp).await["access_token"].as_str().unwrap().to_owned();
    let resp = reqwest::Client::new().get(srv.url("/oauth2/userinfo")).bearer_auth(at).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer error=\"insufficient_scope\"");
    assert_eq!(json(resp).await["error"], "insufficient_scope");
    srv.stop().await;
}

/// Runs a schema change on the server's database (behind SQLite's write gate).
async fn alter(srv: &TestServer, sql: &'static str) {
    match &srv.state.db {
        portcullis::store::Db::Sqlite(s) => {
            let _gate = s.write_gate.lock().await;
            sqlx::query(sql).execute(&s.writer).await.unwrap();
        }
        portcullis::store::Db::Postgres(p) => {
            sqlx::query(sql).execute(&p.pool).await.unwrap();
        }
    }
}

/// A refresh that fails for any reason — here the user's groups cannot be read, as when the
/// database goes away mid-request — must fail before its token is consumed: the client's retry
/// with the same token then succeeds instead of counting as reuse and revoking the family.
async fn failed_refresh_keeps_the_token(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let tokens = first_tokens(&srv, &app).await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();

    alter(&srv, "ALTER TABLE user_groups RENAME TO user_groups_away").await;
    let (status, body) = refresh(&srv, &app, &rt).await;
    assert!(status >= 500, "the refresh fails while the groups cannot be read: {status} {body}");
    assert!(body["error"].is_string(), "an OAuth error body: {body}");
    alter(&srv, "ALTER TABLE user_groups_away RENAME TO user_groups").await;

    let (status, body) = refresh(&srv, &app, &rt).await;
    assert_eq!(status, 200, "the retry with the same token succeeds: {body}");
    assert_eq!(jwt_claims(body["id_token"].as_str().unwrap())["groups"], serde_json::json!(["staff"]));
    let (status, body) = refresh(&srv, &app, body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "and the family lives on: {body}");
    srv.stop().await;
}

/// A group statement's work follows the group, not the client or the table: with 400 other
/// grants of the same client and 5,000 used tokens (never analysed, as in a new database under a
/// flood), rotating three tokens reads each token and its grant by key. The plan is read from the database itself: on
/// PostgreSQL the rows each scan of `refresh_tokens` and `grants` produced over all its loops
/// (`EXPLAIN ANALYZE`, rolled back); on SQLite that both are searched by key, never scanned.
async fn group_work_follows_the_group(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let mut old = Vec::new();
    for _ in 0..3 {
        let rt = first_tokens(&srv, &app).await["refresh_token"].as_str().unwrap().to_owned();
        old.push(located(&srv, &rt).await);
    }
    let new: Vec<String> = (0..3).map(|i| format!("successor-{i}")).collect();
    // The same insert on either database, after the rows `n` it numbers.
    macro_rules! bulk {
        ($numbers:literal) => {
            concat!(
                $numbers,
                " INSERT INTO grants (id, client_id, user_id, session_id, scope, nonce, auth_time, amr, acr, \
                 created_at, revoked_at) SELECT 'bulk-' || n.i, $1, $2, NULL, 'openid', NULL, 0, 'pwd', '', 0, NULL FROM n"
            )
        };
    }
    match &srv.state.db {
        portcullis::store::Db::Postgres(p) => {
            let sql = bulk!("WITH n(i) AS (SELECT generate_series(1, 400))");
            sqlx::query(sql).bind(&app.client_id).bind(&alice.id).execute(&p.pool).await.unwrap();
            let used = "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at) \
                        SELECT 'used-' || i, 'bulk-' || (i % 400 + 1), 0, 2000000000, 1 FROM generate_series(1, 5000) i";
            sqlx::query(used).execute(&p.pool).await.unwrap();
            // Planned as the server runs it (`generic_group_plan`); the arrays hold hex hashes,
            // the generated client id and fixed names, nothing to quote.
            let array = |items: &[String]| format!("ARRAY['{}']", items.join("','"));
            let ids: Vec<String> = old.iter().map(|t| t.id.to_string()).collect();
            let hashes: Vec<String> = old.iter().map(|t| t.hash.clone()).collect();
            let arguments = format!(
                "ARRAY[{}]::bigint[], {}, {}, {}, ARRAY[1000, 1000, 1000], ARRAY[2000000000, 2000000000, 2000000000]",
                ids.join(", "),
                array(&hashes),
                array(&new),
                array(&vec![app.client_id.clone(); 3])
            );
            let plan = generic_group_plan(&mut p.pool.acquire().await.unwrap(), "ANALYZE, ", &arguments).await;
            let mut read = Vec::new();
            rows_read(&plan[0]["Plan"], &mut read);
            let total: f64 = read.iter().map(|(_, rows)| rows).sum();
            // Per entry: its token, its grant twice (rule, answer), the successor's grant check.
            assert!(total <= 3.0 * 6.0, "the group read {total} rows for 3 rotations: {read:?}\n{plan:#}");
            assert_eq!(plan[0]["Plan"]["Actual Rows"], 3, "the three tokens were rotated: {plan:#}");
        }
        portcullis::store::Db::Sqlite(s) => {
            let sql = bulk!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)");
            {
                let _gate = s.write_gate.lock().await;
                sqlx::query(sql).bind(&app.client_id).bind(&alice.id).execute(&s.writer).await.unwrap();
            }
            let explain = format!("EXPLAIN QUERY PLAN {}", portcullis::store::grants::SQLITE_ROTATE_GROUP);
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(explain)).bind("[]").fetch_all(&s.pool).await.unwrap();
            let steps: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
            let on = |table: &str| {
                let name = format!(" {table} ");
                steps.iter().filter(move |d| format!("{d} ").contains(&name)).copied().collect::<Vec<_>>()
            };
            // `p`: the presented tokens.
            assert!(!on("p").is_empty(), "{steps:#?}");
            for table in ["p", "refresh_tokens", "grants", "g", "u"] {
                for step in on(table) {
                    assert!(step.starts_with("SEARCH") && step.contains("=?"), "{table} read by key: {steps:#?}");
                }
            }
        }
    }
    srv.stop().await;
}

/// PostgreSQL keeps a prepared statement's generic plan until the tables' statistics change, so
/// the plan a rotation connection makes on a new database, while the tables are a page each,
/// is the one every group runs with under the flood that follows (until autovacuum analyses
/// the tables). Made that way here, on a connection of the server's rotation pool: no table is
/// read whole, every token, grant and user is found by key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_plan_made_on_a_new_database_reads_by_key() {
    let Some(srv) = TestServer::start(Backend::Postgres).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let rt = first_tokens(&srv, &app).await["refresh_token"].as_str().unwrap().to_owned();
    let portcullis::store::Db::Postgres(p) = &srv.state.db else { unreachable!() };
    let row = located(&srv, &rt).await;
    let arguments = format!(
        "ARRAY[{}]::bigint[], ARRAY['{}'], ARRAY['successor'], ARRAY['{}'], ARRAY[1000], ARRAY[2000000000]",
        row.id, row.hash, app.client_id
    );
    let plan = generic_group_plan(&mut p.rotation_pool.acquire().await.unwrap(), "", &arguments).await;
    let mut scans = Vec::new();
    table_scans(&plan[0]["Plan"], &mut scans);
    assert!(scans.iter().any(|(table, _)| table == "refresh_tokens"), "{scans:?}\n{plan:#}");
    for (table, how) in &scans {
        // A bitmap heap scan reads the rows its bitmap index scan found.
        assert!(how.contains("Index") || how == "Bitmap Heap Scan", "{table} read by {how}, not by key:\n{plan:#}");
    }
    srv.stop().await;
}

/// The plan of `PG_ROTATE_GROUP` for `arguments` (written out: EXECUTE takes no bound
/// parameters) as the server runs it: prepared once on the connection and planned generically,
/// without the arrays' lengths. `options` go before `FORMAT JSON` (`"ANALYZE, "` runs it, in a
/// transaction that is rolled back).
async fn generic_group_plan(conn: &mut sqlx::PgConnection, options: &str, arguments: &str) -> serde_json::Value {
    let prepare = format!("PREPARE rotate_group AS {}", portcullis::store::grants::PG_ROTATE_GROUP);
    sqlx::raw_sql(sqlx::AssertSqlSafe(prepare)).execute(&mut *conn).await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan").execute(&mut *tx).await.unwrap();
    let explain = format!("EXPLAIN ({options}FORMAT JSON) EXECUTE rotate_group({arguments})");
    let row = sqlx::query(sqlx::AssertSqlSafe(explain)).fetch_one(&mut *tx).await.unwrap();
    // The plan comes back as `json`, whose wire form is its text.
    let plan = serde_json::from_str(&sqlx::Row::try_get_unchecked::<String, _>(&row, 0).unwrap()).unwrap();
    tx.rollback().await.unwrap();
    sqlx::query("DEALLOCATE rotate_group").execute(&mut *conn).await.unwrap();
    plan
}

/// Each table a plan reads, with the node that reads it.
fn table_scans(node: &serde_json::Value, out: &mut Vec<(String, String)>) {
    if let Some(rel) = node["Relation Name"].as_str()
        && node["Node Type"].as_str().is_some_and(|t| t.contains("Scan"))
    {
        out.push((rel.to_owned(), node["Node Type"].as_str().unwrap_or_default().to_owned()));
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        table_scans(child, out);
    }
}

/// `(relation, rows over all loops)` of every scan of `refresh_tokens` or `grants` in a
/// PostgreSQL JSON plan, sub-plans and CTEs included.
fn rows_read(node: &serde_json::Value, out: &mut Vec<(String, f64)>) {
    if let Some(rel) = node["Relation Name"].as_str()
        && (rel == "refresh_tokens" || rel == "grants")
        && node["Node Type"].as_str().is_some_and(|t| t.contains("Scan"))
    {
        let rows = node["Actual Rows"].as_f64().unwrap_or(0.0) + node["Rows Removed by Filter"].as_f64().unwrap_or(0.0);
        out.push((format!("{rel} ({})", node["Node Type"]), rows * node["Actual Loops"].as_f64().unwrap_or(1.0)));
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        rows_read(child, out);
    }
}

/// A refresh token names its row by a masked key and proves itself by its secret. Whatever is
/// made of real tokens — a character of the secret changed, one chain's key with another's
/// secret, the secret without its key, the key masked another way — and whatever else comes
/// (random strings of the right length, stray characters, huge or multibyte values), the
/// answer is `invalid_grant` (`invalid_request` for none at all) or, at introspection,
/// `active: false`; and nothing is spent: both
/// real tokens rotate afterwards, so no forgery counted as the reuse of a real token.
async fn altered_tokens_name_nothing_and_spend_nothing(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let a = first_tokens(&srv, &app).await["refresh_token"].as_str().unwrap().to_owned();
    let b_token = first_tokens(&srv, &app).await["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!((a.len(), b_token.len()), (54, 54));
    let flip = |t: &str, at: usize| {
        let mut chars: Vec<char> = t.chars().collect();
        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let random = |n: usize| portcullis::crypto::random_token().chars().cycle().take(n).collect::<String>();
    let forged = [
        flip(&a, 30),
        flip(&a, 53),
        format!("{}{}", &a[..11], &b_token[11..]),
        format!("{}{}", &b_token[..11], &a[11..]),
        a[11..].to_owned(),
        flip(&a, 3),
        random(54),
        format!("{}*{}", &a[..20], &a[21..]),
        format!("{}é{}", &a[..10], &a[12..]),
        "x".repeat(10_000),
        String::new(),
    ];
    for token in &forged {
        let (status, body) = refresh(&srv, &app, token).await;
        if token.is_empty() {
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
            continue;
        }
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{token:?}: {body}");
        let resp = reqwest::Client::new()
            .post(srv.url("/oauth2/introspect"))
            .basic_auth(&app.client_id, Some(app.client_secret.as_deref().unwrap()))
            .form(&[("token", token.as_str()), ("token_type_hint", "refresh_token")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{token:?}");
        assert_eq!(json(resp).await["active"], false, "{token:?}");
    }
    for token in [&a, &b_token] {
        let (status, body) = refresh(&srv, &app, token).await;
        assert_eq!(status, 200, "the real token was left as it was: {body}");
    }
    srv.stop().await;
}

/// The migrations up to and without `0021`, the one that made refresh tokens name their rows.
async fn migrator_before_locators(dialect: &str) -> sqlx::migrate::Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect);
    let mut m = sqlx::migrate::Migrator::new(dir).await.unwrap();
    m.migrations = m.migrations.iter().filter(|m| m.version < 21).cloned().collect::<Vec<_>>().into();
    assert_eq!(m.migrations.len(), 20);
    m
}

/// Refresh tokens issued before tokens named their rows keep working across the upgrade. A
/// database at migration 0020 holds what an installation of then held: a client, a user, a
/// grant with a token in force, and a grant whose token was used and replaced. The server
/// migrates it as it starts. Then the token in force rotates to one of the new form, whose chain
/// goes on; presenting the old token again is reuse and revokes that family; the used token is
/// reuse too and takes its successor with it; introspection finds them before and after.
async fn tokens_of_the_earlier_form_survive_the_upgrade(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (secret, now) = (portcullis::crypto::random_token(), unix_now());
    let (in_force, used, successor) =
        (portcullis::crypto::random_token(), portcullis::crypto::random_token(), portcullis::crypto::random_token());
    let client_secret_hash = portcullis::oidc::token::client_secret_hash(&secret);
    // What the installation held, in either dialect.
    let rows: Vec<(&str, Vec<String>)> = vec![
        ("INSERT INTO users (id, username, created_at, updated_at) VALUES ('u-old', 'old', 0, 0)", vec![]),
        ("INSERT INTO apps (id, name, protocol, created_at) VALUES ('a-old', 'Old', 'oidc', 0)", vec![]),
        (
            "INSERT INTO oidc_clients (client_id, app_id, secret_hash, redirect_uris, post_logout_redirect_uris, \
             allowed_scopes) VALUES ('old-client', 'a-old', $1, '[]', '[]', 'openid offline_access')",
            vec![client_secret_hash],
        ),
        (
            "INSERT INTO grants (id, client_id, user_id, session_id, scope, nonce, auth_time, amr, acr, created_at, \
             revoked_at) VALUES ($1, 'old-client', 'u-old', NULL, 'openid offline_access', NULL, 0, 'pwd', '', 0, NULL)",
            vec!["g-in-force".into()],
        ),
        (
            "INSERT INTO grants (id, client_id, user_id, session_id, scope, nonce, auth_time, amr, acr, created_at, \
             revoked_at) VALUES ($1, 'old-client', 'u-old', NULL, 'openid offline_access', NULL, 0, 'pwd', '', 0, NULL)",
            vec!["g-replaced".into()],
        ),
    ];
    let tokens = [
        (portcullis::crypto::token_hash(&in_force), "g-in-force", None),
        (portcullis::crypto::token_hash(&used), "g-replaced", Some(now - 50)),
        (portcullis::crypto::token_hash(&successor), "g-replaced", None),
    ];
    let token_sql = "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at) \
                     VALUES ($1, $2, $3, $4, $5)";
    macro_rules! fill {
        ($pool:expr) => {{
            for (sql, binds) in &rows {
                let mut q = sqlx::query(*sql);
                for bind in binds {
                    q = q.bind(bind);
                }
                q.execute($pool).await.unwrap();
            }
            for (hash, grant, used_at) in &tokens {
                sqlx::query(token_sql)
                    .bind(hash)
                    .bind(*grant)
                    .bind(now - 100)
                    .bind(now + 3600)
                    .bind(*used_at)
                    .execute($pool)
                    .await
                    .unwrap();
            }
        }};
    }
    let mut opts = Options::default();
    match b {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", dir.path().join("old.db").display());
            let lite = sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(lite.foreign_keys(true)).await.unwrap();
            migrator_before_locators("sqlite").await.run(&pool).await.unwrap();
            fill!(&pool);
            pool.close().await;
            opts.tweak = Box::new(move |c| c.database_url = url);
        }
        Backend::Postgres => {
            let Some(url) = postgres_url() else { return };
            let schema = test_schema(&url).await;
            let pg = sqlx::postgres::PgConnectOptions::from_str(&url)
                .unwrap()
                .options([("search_path", schema.name.as_str())]);
            let pool = sqlx::PgPool::connect_with(pg).await.unwrap();
            migrator_before_locators("postgres").await.run(&pool).await.unwrap();
            fill!(&pool);
            pool.close().await;
            opts.postgres_schema = Some(schema);
        }
    }
    let srv = TestServer::start_with(b, opts).await.unwrap();
    let http = reqwest::Client::new();
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let req = http.post(srv.url(path)).basic_auth("old-client", Some(&secret)).form(&form);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    let refresh = |token: &str| {
        post("/oauth2/token", vec![("grant_type", "refresh_token".into()), ("refresh_token", token.into())])
    };
    let active = |token: &str| {
        let answer = post("/oauth2/introspect", vec![("token", token.into())]);
        async move { answer.await.1["active"].clone() }
    };

    assert_eq!(active(&successor).await, true, "a token of the earlier form is introspected as before");
    let (status, body) = refresh(&in_force).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(jwt_claims(body["id_token"].as_str().unwrap())["sub"], "u-old");
    let next = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(next.len(), 54, "the successor is of the new form");
    let (status, body) = refresh(&next).await;
    assert_eq!(status, 200, "and its chain goes on: {body}");
    let newest = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&in_force).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "reuse: {body}");
    let (status, body) = refresh(&newest).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "the family was revoked: {body}");

    let (status, body) = refresh(&used).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "a used token: {body}");
    assert_eq!(active(&successor).await, false, "its reuse revoked its family");
    let (status, body) = refresh(&successor).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    srv.stop().await;
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
