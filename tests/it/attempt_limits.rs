//! Attempt limits hold under concurrency (DESIGN §5; ZITADEL CVE-2024-32868 class): an attempt
//! is reserved atomically before the guess is checked, so a burst of simultaneous wrong
//! guesses is evaluated exactly `limit` times, whatever the number of sessions, MFA
//! transactions or server processes, and a right guess arriving once the budget is spent is
//! refused. Evaluated guesses are counted by their answer (401) and by the audit log.

use serde_json::{Value, json};

use crate::both_databases;
use crate::common::*;

both_databases!(
    totp_burst_is_cut_at_the_limit,
    password_burst_is_cut_at_the_limit,
    address_burst_over_many_accounts_is_cut_at_the_address_limit,
    an_ipv6_hosts_addresses_share_one_budget,
    forwarded_for_lines_before_the_proxys_are_not_believed,
    bursts_across_two_processes,
    a_burst_of_right_passwords_is_admitted,
    a_right_password_settles_both_budgets
);

/// Sends every `(url, body)` at once (all tasks wait on one barrier first).
async fn burst(requests: Vec<(String, Value)>) -> Vec<(u16, String)> {
    burst_from(requests, |_| Vec::new()).await
}

/// `burst`, the i-th request with the `X-Forwarded-For` lines `from(i)` (for a server that
/// trusts the header).
async fn burst_from(requests: Vec<(String, Value)>, from: impl Fn(usize) -> Vec<String>) -> Vec<(u16, String)> {
    let http = reqwest::Client::new();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut set = tokio::task::JoinSet::new();
    for (i, (url, body)) in requests.into_iter().enumerate() {
        let (http, barrier) = (http.clone(), barrier.clone());
        let mut req = http.post(url).json(&body);
        for line in from(i) {
            req = req.header("x-forwarded-for", line);
        }
        set.spawn(async move {
            barrier.wait().await;
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, body["error"].as_str().unwrap_or("").to_owned())
        });
    }
    set.join_all().await
}

/// (evaluated, refused before evaluation); anything else fails the test.
fn tally(results: &[(u16, String)], evaluated_error: &str) -> (usize, usize) {
    let evaluated = results.iter().filter(|(s, e)| *s == 401 && e == evaluated_error).count();
    let refused = results.iter().filter(|(s, e)| *s == 429 && e == "too_many_attempts").count();
    assert_eq!(evaluated + refused, results.len(), "only 401 and 429 are expected: {results:?}");
    (evaluated, refused)
}

fn lots_of_hashing(c: &mut portcullis::config::Config) {
    // Guessing, not shedding, is under test: every request gets a hashing slot.
    c.password.max_queue = 1000;
}

async fn count_events(srv: &TestServer, user_id: Option<&str>, event: &str) -> usize {
    srv.audit(user_id, event, 1000).await.len()
}

async fn totp_burst_is_cut_at_the_limit(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    let http = reqwest::Client::new();
    let right = srv.code(&secret);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    // Three MFA transactions (three sessions of the attacker) share the account's budget.
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(api_login(&srv, &http, "alice").await.1["mfa_token"].as_str().unwrap().to_owned());
    }
    let url = srv.url("/api/v1/auth/mfa/totp");
    let guesses =
        (0..100).map(|i| (url.clone(), json!({"mfa_token": tokens[i % 3], "code": wrong}))).collect::<Vec<_>>();
    let results = burst(guesses).await;
    let limit = srv.state.config.limits.mfa_failures_per_account as usize;
    let (evaluated, refused) = tally(&results, "invalid_factor");
    assert_eq!(evaluated, limit, "exactly the budget is evaluated: {results:?}");
    assert_eq!(refused, 100 - limit);
    assert_eq!(count_events(&srv, Some(&alice.id), "mfa.failed").await, limit);
    assert_eq!(count_events(&srv, Some(&alice.id), "login.lockout").await, 1, "one lockout, audited once");

    // The right code after the budget is spent: refused, in any transaction.
    let (status, body) = api_post(&http, &url, json!({"mfa_token": tokens[0], "code": right})).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")), "{body}");
    srv.stop().await;
}

async fn password_burst_is_cut_at_the_limit(b: Backend) {
    let opts = Options { tweak: Box::new(lots_of_hashing), ..manual_clock() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let bob = srv.add_user("bob").await;
    let url = srv.url("/api/v1/auth/login");
    let guesses = (0..100)
        .map(|i| (url.clone(), json!({"username": "bob", "password": format!("wrong password {i}")})))
        .collect::<Vec<_>>();
    let results = burst(guesses).await;
    let limit = srv.state.config.limits.password_failures_per_account as usize;
    let (evaluated, _) = tally(&results, "invalid_credentials");
    assert_eq!(evaluated, limit, "exactly the budget is evaluated: {results:?}");
    assert_eq!(count_events(&srv, Some(&bob.id), "login.failure").await, limit);

    let (status, body) =
        api_post(&reqwest::Client::new(), &url, json!({"username": "bob", "password": PASSWORD})).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")), "{body}");

    // A right password inside its budget clears the account's counter; the shared address
    // budget only gets its own attempt back.
    srv.advance(srv.state.config.limits.lockout_seconds + 1);
    let (status, _) = api_post(&reqwest::Client::new(), &url, json!({"username": "bob", "password": PASSWORD})).await;
    assert_eq!(status, 200);
    srv.stop().await;
}

/// A server where a client address may get 7 passwords wrong (fewer than an account), with
/// twelve accounts, and 60 wrong guesses spread over them. `trust_forwarded_for`: the server
/// takes the client's address from `X-Forwarded-For`.
async fn guesses_over_twelve_accounts(
    b: Backend,
    trust_forwarded_for: bool,
) -> Option<(TestServer, Vec<(String, Value)>)> {
    let opts = Options {
        tweak: Box::new(move |c: &mut portcullis::config::Config| {
            lots_of_hashing(c);
            c.limits.password_failures_per_ip = 7;
            c.limits.trust_forwarded_for = trust_forwarded_for;
        }),
        ..manual_clock()
    };
    let srv = TestServer::start_with(b, opts).await?;
    let names: Vec<String> = (0..12).map(|i| format!("user{i}")).collect();
    for name in &names {
        srv.add_user(name).await;
    }
    let url = srv.url("/api/v1/auth/login");
    let guesses = (0..60)
        .map(|i| (url.clone(), json!({"username": names[i % names.len()], "password": format!("wrong password {i}")})))
        .collect();
    Some((srv, guesses))
}

/// Guesses spread over many accounts from one address: each account stays within its own
/// budget, so the address's (smaller here) is the one that binds, and exactly it is evaluated.
/// Both budgets are reserved in one statement, each against its own limit.
async fn address_burst_over_many_accounts_is_cut_at_the_address_limit(b: Backend) {
    let Some((srv, guesses)) = guesses_over_twelve_accounts(b, false).await else { return };
    let url = srv.url("/api/v1/auth/login");
    let results = burst(guesses).await;
    let (evaluated, refused) = tally(&results, "invalid_credentials");
    assert_eq!((evaluated, refused), (7, 53), "exactly the address's budget is evaluated: {results:?}");
    assert_eq!(count_events(&srv, None, "login.failure").await, 7);
    // The address is locked now, for every account behind it.
    let (status, body) =
        api_post(&reqwest::Client::new(), &url, json!({"username": "user0", "password": PASSWORD})).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")), "{body}");
    srv.stop().await;
}

/// An IPv6 host is given a whole /64 and may send from any address in it: guesses spread over
/// many accounts and as many addresses of one /64 are counted against one address budget, as
/// if they came from one address. Another /64 has its own budget.
async fn an_ipv6_hosts_addresses_share_one_budget(b: Backend) {
    let Some((srv, guesses)) = guesses_over_twelve_accounts(b, true).await else { return };
    // Each guess from an address of its own, all in 2001:db8:7:7::/64 (some written
    // uncompressed, some in upper case: one address, however it is spelt).
    let results = burst_from(guesses, |i| {
        vec![match i % 3 {
            0 => format!("2001:db8:7:7::{:x}", i + 1),
            1 => format!("2001:0DB8:0007:0007:{:X}:0:0:1", (i * 4099) % 0x1_0000),
            _ => format!("2001:db8:7:7:{:x}:{:x}:{:x}:{:x}", i, i * 7, i * 13, i * 31),
        }]
    })
    .await;
    let (evaluated, refused) = tally(&results, "invalid_credentials");
    assert_eq!((evaluated, refused), (7, 53), "the /64's one budget is evaluated: {results:?}");
    assert_eq!(count_events(&srv, None, "login.failure").await, 7);

    let login_from = |address: &'static str| {
        let body = json!({"username": "user0", "password": PASSWORD});
        reqwest::Client::new().post(srv.url("/api/v1/auth/login")).header("x-forwarded-for", address).json(&body).send()
    };
    // Yet another address of that /64 is locked out with the rest.
    let resp = login_from("2001:db8:7:7:dead:beef:0:1").await.unwrap();
    assert_eq!(resp.status(), 429);
    // The neighbouring /64 is someone else's.
    let resp = login_from("2001:db8:7:8::1").await.unwrap();
    assert_eq!(resp.status(), 200);
    srv.stop().await;
}

/// Behind a proxy that adds an `X-Forwarded-For` line of its own after the client's (HAProxy
/// does), the client's lines say whatever the client likes: only the last entry of the last
/// line is the proxy's word. Guesses each claiming another address in a line of their own
/// all count against the one address the proxy saw.
async fn forwarded_for_lines_before_the_proxys_are_not_believed(b: Backend) {
    let Some((srv, guesses)) = guesses_over_twelve_accounts(b, true).await else { return };
    let results = burst_from(guesses, |i| vec![format!("198.51.100.{i}, 192.0.2.{i}"), "203.0.113.5".to_owned()]).await;
    let (evaluated, refused) = tally(&results, "invalid_credentials");
    assert_eq!((evaluated, refused), (7, 53), "one address's budget is evaluated: {results:?}");
    srv.stop().await;
}

/// One account signing in from many places at once, every password right: three times its
/// budget of sign-ins at once, one hash at a time, so most of them find the budget held by
/// the ones still being checked. They wait for those to settle rather than being refused, and
/// nothing is counted as a failure or locked.
async fn a_burst_of_right_passwords_is_admitted(b: Backend) {
    let opts = Options {
        tweak: Box::new(|c: &mut portcullis::config::Config| {
            lots_of_hashing(c);
            c.password.max_concurrent = 1;
        }),
        ..manual_clock()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let dave = srv.add_user("dave").await;
    let url = srv.url("/api/v1/auth/login");
    let limit = srv.state.config.limits.password_failures_per_account as usize;
    let logins = (0..3 * limit).map(|_| (url.clone(), json!({"username": "dave", "password": PASSWORD}))).collect();
    let results = burst(logins).await;
    assert!(results.iter().all(|(status, _)| *status == 200), "every right password is let in: {results:?}");
    assert_eq!(count_events(&srv, Some(&dave.id), "login.failure").await, 0);
    assert_eq!(count_events(&srv, Some(&dave.id), "login.lockout").await, 0);
    srv.stop().await;
}

/// Two `portcullis serve` processes on one database: the budget is the account's, not the
/// node's.
async fn bursts_across_two_processes(b: Backend) {
    let Some(nodes) = Nodes::start(b, 2).await else { return };
    nodes.add_user("carol");
    // Carol enrols TOTP through node 0 (fresh password, no factor yet).
    let me = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let (status, _) = api_post(
        &me,
        &format!("{}/api/v1/auth/login", nodes.bases[0]),
        json!({"username": "carol", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, e) = api_post(&me, &format!("{}/api/v1/mfa/totp/enroll", nodes.bases[0]), json!({})).await;
    assert_eq!(status, 200, "{e}");
    let secret = e["secret"].as_str().unwrap().to_owned();
    let now = chrono::Utc::now().timestamp();
    let (status, body) =
        api_post(&me, &format!("{}/api/v1/mfa/totp/confirm", nodes.bases[0]), json!({"code": totp_code(&secret, now)}))
            .await;
    assert_eq!(status, 200, "{body}");

    // Second factor: a burst spread over both nodes and four transactions.
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 0..4 {
        let (status, body) = api_post(
            &http,
            &format!("{}/api/v1/auth/login", nodes.bases[i % 2]),
            json!({"username": "carol", "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        tokens.push(body["mfa_token"].as_str().unwrap().to_owned());
    }
    let right = totp_code(&secret, chrono::Utc::now().timestamp());
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let guesses = (0..100)
        .map(|i| {
            (format!("{}/api/v1/auth/mfa/totp", nodes.bases[i % 2]), json!({"mfa_token": tokens[i % 4], "code": wrong}))
        })
        .collect::<Vec<_>>();
    let results = burst(guesses).await;
    let (evaluated, _) = tally(&results, "invalid_factor");
    assert_eq!(evaluated, 5, "the default budget of 5, across both nodes: {results:?}");
    for base in &nodes.bases {
        let (status, body) =
            api_post(&http, &format!("{base}/api/v1/auth/mfa/totp"), json!({"mfa_token": tokens[0], "code": right}))
                .await;
        assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")), "{base}: {body}");
    }

    // Passwords: another account, the same rule.
    nodes.add_user("dave");
    let guesses = (0..60)
        .map(|i| {
            (
                format!("{}/api/v1/auth/login", nodes.bases[i % 2]),
                json!({"username": "dave", "password": format!("wrong password {i}")}),
            )
        })
        .collect::<Vec<_>>();
    let results = burst(guesses).await;
    let (evaluated, _) = tally(&results, "invalid_credentials");
    assert_eq!(evaluated, 10, "the default budget of 10, across both nodes: {results:?}");
    let (status, body) = api_post(
        &http,
        &format!("{}/api/v1/auth/login", nodes.bases[1]),
        json!({"username": "dave", "password": PASSWORD}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")), "{body}");
}

/// The failures counted on `key`, as stored (0 when no counter is kept).
async fn failures_on(srv: &TestServer, key: &str) -> i64 {
    use portcullis::store::Db;
    let sql = "SELECT failures FROM rate_limits WHERE key = $1";
    let n: Option<i64> = match &srv.state.db {
        Db::Sqlite(s) => sqlx::query_scalar(sql).bind(key).fetch_optional(&s.pool).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(key).fetch_optional(&p.pool).await.unwrap(),
    };
    n.unwrap_or(0)
}

/// A right password forgets the account's failures (a burst of wrong ones after it gets the
/// whole budget again) and gives back only its own attempt on the address's budget; a
/// lockout it meets stays.
async fn a_right_password_settles_both_budgets(b: Backend) {
    let opts = Options { tweak: Box::new(lots_of_hashing), ..manual_clock() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    srv.add_user("carol").await;
    let url = srv.url("/api/v1/auth/login");
    let limit = srv.state.config.limits.password_failures_per_account as usize;
    let (account, address) = ("pwd:user:carol", "pwd:ip:127.0.0.1");
    let wrong = |n: usize, tag: &str| {
        (0..n).map(|i| (url.clone(), json!({"username": "carol", "password": format!("{tag} {i}")}))).collect()
    };
    let results = burst(wrong(limit - 1, "first")).await;
    assert_eq!(tally(&results, "invalid_credentials"), (limit - 1, 0));
    assert_eq!(
        (failures_on(&srv, account).await, failures_on(&srv, address).await),
        (limit as i64 - 1, limit as i64 - 1)
    );

    let right = json!({"username": "carol", "password": PASSWORD});
    let (status, _) = api_post(&reqwest::Client::new(), &url, right.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(failures_on(&srv, account).await, 0, "the account's failures are forgotten");
    assert_eq!(
        failures_on(&srv, address).await,
        limit as i64 - 1,
        "the address keeps its failures, not the right guess"
    );

    // The whole budget again, and then a lockout that a right password does not lift.
    let results = burst(wrong(limit + 3, "second")).await;
    assert_eq!(tally(&results, "invalid_credentials"), (limit, 3), "{results:?}");
    let (status, body) = api_post(&reqwest::Client::new(), &url, right).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")), "{body}");
    srv.stop().await;
}
