//! A code exchange stores its refresh token in the statement that redeems the code: a
//! refused exchange (whatever its reason) leaves no refresh token behind, an accepted one
//! exactly one, and the refresh token answered is the one stored.

use crate::both_databases;
use crate::common::*;
use portcullis::store::Db;

both_databases!(a_refused_exchange_stores_no_refresh_token, racing_exchanges_store_one_refresh_token);

/// Refresh tokens of `user_id`'s grants, read on the server's own pool.
async fn refresh_tokens_of(srv: &TestServer, user_id: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE g.user_id = $1";
    match &srv.state.db {
        Db::Sqlite(s) => sqlx::query_scalar(sql).bind(user_id).fetch_one(&s.pool).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(user_id).fetch_one(&p.pool).await.unwrap(),
    }
}

async fn a_refused_exchange_stores_no_refresh_token(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let app = srv.add_client(false).await;
    let other = srv.add_client(false).await;
    let (wrong_verifier, _) = pkce();
    let malformed = "too-short".to_owned();
    // Each way an exchange is refused: (user, what is sent, the error it gets).
    struct Case {
        name: &'static str,
        pkce: bool,
        client: bool,
        redirect_uri: &'static str,
        verifier: Option<String>,
        disable_user: bool,
        expire: bool,
        error: &'static str,
    }
    let base = || Case {
        name: "",
        pkce: true,
        client: true,
        redirect_uri: REDIRECT,
        verifier: None,
        disable_user: false,
        expire: false,
        error: "invalid_grant",
    };
    let cases = [
        Case { name: "wrong-verifier", verifier: Some(wrong_verifier.clone()), ..base() },
        Case { name: "no-verifier", ..base() },
        Case { name: "malformed-verifier", verifier: Some(malformed.clone()), error: "invalid_request", ..base() },
        Case { name: "downgrade", pkce: false, verifier: Some(wrong_verifier.clone()), ..base() },
        Case { name: "downgrade-malformed", pkce: false, verifier: Some(malformed.clone()), ..base() },
        Case { name: "other-redirect", redirect_uri: "http://127.0.0.1:9/elsewhere", ..base() },
        Case { name: "other-client", client: false, ..base() },
        Case { name: "disabled-user", disable_user: true, ..base() },
        Case { name: "expired", expire: true, ..base() },
    ];
    for case in cases {
        let user = srv.add_user(case.name).await;
        let browser = browser();
        let (right_verifier, challenge) = pkce();
        let extra: Vec<(&str, &str)> = match case.pkce {
            true => vec![("code_challenge", &challenge), ("code_challenge_method", "S256")],
            false => vec![],
        };
        let redirect = sign_in(&srv, &browser, &authorize_url(&srv, &app.client_id, &extra), case.name, PASSWORD).await;
        let code = query_param(&redirect, "code").expect("a code");
        if case.disable_user {
            portcullis::store::users::update_disabled(&srv.state.db, &user.id, true, srv.now()).await.unwrap();
        }
        if case.expire {
            srv.advance(61);
        }
        let mut form = vec![("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", case.redirect_uri)];
        let verifier = case.verifier.unwrap_or_default();
        if !verifier.is_empty() {
            form.push(("code_verifier", &verifier));
        }
        let client = if case.client { &app } else { &other };
        let resp = token_request(&srv, client, &form).await;
        assert_eq!(resp.status(), 400, "{}", case.name);
        let body = json(resp).await;
        assert_eq!(body["error"], case.error, "{}: {body}", case.name);
        assert!(body.get("refresh_token").is_none(), "{}", case.name);
        assert_eq!(
            refresh_tokens_of(&srv, &user.id).await,
            0,
            "{}: a refused exchange stored a refresh token",
            case.name
        );
        // The code was used by the refused exchange: the right one no longer gets tokens.
        if !case.disable_user && !case.expire {
            let resp = exchange_code(&srv, &app, &code, &right_verifier).await;
            assert_eq!(json(resp).await["error"], "invalid_grant", "{}", case.name);
            assert_eq!(refresh_tokens_of(&srv, &user.id).await, 0, "{}: a replay stored a refresh token", case.name);
        }
    }

    // The accepted exchange: one refresh token stored, and it is the one answered.
    let alice = srv.add_user("alice").await;
    let browser = browser();
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let tokens = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    assert_eq!(refresh_tokens_of(&srv, &alice.id).await, 1);
    let resp = token_request(&srv, &app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(resp.status(), 200, "the refresh token answered is the one stored");
}

async fn racing_exchanges_store_one_refresh_token(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    const ROUNDS: i64 = 3;
    for round in 1..=ROUNDS {
        let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let (srv_url, id, secret) = (srv.url("/oauth2/token"), app.client_id.clone(), app.client_secret.clone());
            let form = [
                ("grant_type", "authorization_code".to_owned()),
                ("code", code.clone()),
                ("redirect_uri", REDIRECT.to_owned()),
                ("code_verifier", verifier.clone()),
            ];
            set.spawn(async move {
                let resp = reqwest::Client::new()
                    .post(srv_url)
                    .basic_auth(id, Some(secret.unwrap().into_inner()))
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                (resp.status().as_u16(), resp.json::<serde_json::Value>().await.unwrap())
            });
        }
        let answers = set.join_all().await;
        let won: Vec<&serde_json::Value> = answers.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
        assert_eq!(won.len(), 1, "one exchange wins: {answers:?}");
        assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 400), "{answers:?}");
        // The losers revoked the grant (a replayed code), but the one token stayed one.
        assert_eq!(refresh_tokens_of(&srv, &alice.id).await, round, "one refresh token per redeemed code");
    }
}
