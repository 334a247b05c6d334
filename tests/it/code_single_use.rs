//! Authorization codes are single use (RFC 6749 §4.1.2): the second redemption fails and
//! revokes what the first issued; concurrent redemptions yield exactly one token.

use crate::both_databases;
use crate::common::*;

both_databases!(second_redemption_revokes_the_first, concurrent_redemption_has_one_winner, expired_code_refused);

async fn second_redemption_revokes_the_first(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let first = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    let access = first["access_token"].as_str().unwrap().to_owned();
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let userinfo = reqwest::Client::new().get(srv.url("/oauth2/userinfo")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(userinfo.status(), 200);

    let second = exchange_code(&srv, &app, &code, &verifier).await;
    assert_eq!(second.status(), 400);
    assert_eq!(json(second).await["error"], "invalid_grant");

    let resp = token_request(&srv, &app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(json(resp).await["error"], "invalid_grant", "refresh token from the first redemption is revoked");
    let userinfo = reqwest::Client::new().get(srv.url("/oauth2/userinfo")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(userinfo.status(), 401, "access token from the first redemption is revoked");
    assert!(userinfo.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
}

async fn concurrent_redemption_has_one_winner(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    for _ in 0..3 {
        let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let url = srv.url("/oauth2/token");
            let (id, secret) = (app.client_id.clone(), app.client_secret.clone().unwrap().into_inner());
            let form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code.clone()),
                ("redirect_uri", REDIRECT.to_owned()),
                ("code_verifier", verifier.clone()),
            ];
            set.spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .basic_auth(id, Some(secret))
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
        }
        let statuses = set.join_all().await;
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "exactly one concurrent redemption succeeds: {statuses:?}"
        );
        assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
    }
}

async fn expired_code_refused(b: Backend) {
    let Some(srv) = TestServer::start_with(b, Options { manual_clock: true, ..Options::default() }).await else {
        return;
    };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    srv.advance(61);
    let resp = exchange_code(&srv, &app, &code, &verifier).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["error"], "invalid_grant");
}
