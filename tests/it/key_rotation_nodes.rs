//! Signing keys across nodes: nodes starting together on an empty database agree on one key,
//! and a rotation is published to every node's JWKS before any node signs with it, so tokens
//! signed by one node always verify on the other (no 401 at any moment), and an unknown `kid`
//! is looked up before it is refused.

use std::time::{Duration, Instant};

use crate::both_databases;
use crate::common::*;

both_databases!(nodes_starting_together_make_one_key, rotation_never_refuses_a_token);

fn kid_of(jwt: &str) -> String {
    let h = portcullis::crypto::b64url_decode(jwt.split('.').next().unwrap()).unwrap();
    serde_json::from_slice::<serde_json::Value>(&h).unwrap()["kid"].as_str().unwrap().to_owned()
}

fn keys(nodes: &Nodes) -> Vec<serde_json::Value> {
    let out = nodes.cli(&["keys", "list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
}

async fn nodes_starting_together_make_one_key(b: Backend) {
    let Some(nodes) = Nodes::start(b, 3).await else { return };
    assert_eq!(keys(&nodes).len(), 1, "one signing key, whichever node won");
    let mut kids = Vec::new();
    for base in &nodes.bases {
        let jwks: serde_json::Value = reqwest::get(format!("{base}/oauth2/jwks")).await.unwrap().json().await.unwrap();
        kids.push(jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect::<Vec<_>>());
    }
    assert!(kids.windows(2).all(|w| w[0] == w[1]), "every node publishes the same key: {kids:?}");
}

async fn rotation_never_refuses_a_token(b: Backend) {
    let env = [("PORTCULLIS_TOKENS__KEY_RELOAD_SECONDS", "1")];
    let Some(nodes) = Nodes::start_with_env(b, 2, &env).await else { return };
    nodes.add_user("alice");
    let out = nodes
        .cli(&["app", "add-oidc", "--name", "RP", "--public", "--redirect-uri", REDIRECT, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let client_id =
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["client_id"].as_str().unwrap().to_owned();
    let first = tokens_from(&nodes.bases[0], &client_id).await;
    let old_kid = kid_of(first["access_token"].as_str().unwrap());
    let mut refresh = first["refresh_token"].as_str().unwrap().to_owned();

    // The CLI reads the same configuration as the servers (here: the same environment).
    let out = nodes.cli(&["keys", "rotate", "--alg", "ES256", "--json"]).envs(env.iter().copied()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let new_kid = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["kid"].as_str().unwrap().to_owned();

    // For three reload intervals past the activation, refresh on one node and use the access
    // token on the other, alternately: never a 401, and every kid is in both JWKS.
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut i = 0usize;
    let mut seen = std::collections::BTreeSet::new();
    while started.elapsed() < Duration::from_secs(5) {
        let (signer, checker) = (&nodes.bases[i % 2], &nodes.bases[(i + 1) % 2]);
        let resp = http
            .post(format!("{signer}/oauth2/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("client_id", &client_id)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let t: serde_json::Value = resp.json().await.unwrap();
        refresh = t["refresh_token"].as_str().unwrap().to_owned();
        let at = t["access_token"].as_str().unwrap();
        let kid = kid_of(at);
        let info = http.get(format!("{checker}/oauth2/userinfo")).bearer_auth(at).send().await.unwrap();
        assert_eq!(
            info.status(),
            200,
            "a token signed by {signer} with {kid} is refused by {checker} at {:?}",
            started.elapsed()
        );
        let jwks: serde_json::Value =
            http.get(format!("{checker}/oauth2/jwks")).send().await.unwrap().json().await.unwrap();
        assert!(
            jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()),
            "{checker}'s JWKS lacks {kid}"
        );
        seen.insert(kid);
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        seen.contains(&old_kid) && seen.contains(&new_kid),
        "the switch happened during the run: {seen:?}, old {old_kid}, new {new_kid}: {:?}",
        keys(&nodes)
    );
}
