//! Key rotation: a new active key signs, the old one stays published and its tokens still
//! verify; ES256 keys work end to end.

use portcullis::config::SigningAlg;
use portcullis::crypto::keystore;

use crate::both_databases;
use crate::common::*;

both_databases!(rotation_keeps_old_tokens_valid);

fn kid_of(jwt: &str) -> String {
    let h: serde_json::Value =
        serde_json::from_slice(&portcullis::crypto::b64url_decode(jwt.split('.').next().unwrap()).unwrap()).unwrap();
    h["kid"].as_str().unwrap().to_owned()
}

async fn rotation_keeps_old_tokens_valid(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let browser = browser();
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let before = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    let old_kid = kid_of(before["id_token"].as_str().unwrap());

    let st = &srv.state;
    let new_kid = keystore::rotate(&st.db, &st.master_key, SigningAlg::ES256, st.now(), 0, 3600).await.unwrap();
    st.reload_keys().await.unwrap();
    let jwks = json(reqwest::get(srv.url("/oauth2/jwks")).await.unwrap()).await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()), "{kids:?}");
    let d = json(reqwest::get(srv.url("/.well-known/openid-configuration")).await.unwrap()).await;
    assert_eq!(d["id_token_signing_alg_values_supported"], serde_json::json!(["ES256", "RS256"]));

    // New tokens use the new ES256 key.
    let (code, verifier) = get_code(&srv, &browser, &app.client_id, "alice").await;
    let after = json(exchange_code(&srv, &app, &code, &verifier).await).await;
    assert_eq!(kid_of(after["id_token"].as_str().unwrap()), new_kid);
    // Both the old RS256 and the new ES256 access tokens are accepted.
    for t in [&before, &after] {
        let resp = reqwest::Client::new()
            .get(srv.url("/oauth2/userinfo"))
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
}
