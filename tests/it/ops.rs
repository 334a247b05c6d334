//! Health and readiness, discovery and JWKS shape.

use crate::both_databases;
use crate::common::*;

both_databases!(health_ready_discovery);

async fn health_ready_discovery(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    assert_eq!(reqwest::get(srv.url("/healthz")).await.unwrap().text().await.unwrap(), "ok");
    let ready = reqwest::get(srv.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let d = json(reqwest::get(srv.url("/.well-known/openid-configuration")).await.unwrap()).await;
    assert_eq!(d["issuer"], srv.issuer());
    assert_eq!(d["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(d["response_types_supported"], serde_json::json!(["code"]));
    assert!(d["acr_values_supported"].as_array().unwrap().iter().any(|v| v == "urn:portcullis:acr:mfa"));
    let jwks =
        json(reqwest::get(d["jwks_uri"].as_str().unwrap().replace(srv.issuer(), &srv.base)).await.unwrap()).await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert!(key["kid"].is_string());
    assert!(key.get("d").is_none(), "no private material in the JWKS");
    // After the database goes away, readiness says so.
    srv.state.db.close().await;
    let ready = reqwest::get(srv.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
}
