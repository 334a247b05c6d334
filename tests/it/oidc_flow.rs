//! The whole OpenID Connect journey with the `openidconnect` crate as the relying party:
//! discovery → authorize → login form → code → tokens (ID token verified against the JWKS:
//! signature, iss, aud, nonce, at_hash) → userinfo → refresh rotation → reuse revokes the
//! family → logout ends the SSO session.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};

use crate::both_databases;
use crate::common::*;

both_databases!(full_code_flow_with_openidconnect_rp);

async fn full_code_flow_with_openidconnect_rp(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(srv.issuer().to_owned()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(app.client_id.clone()),
        Some(ClientSecret::new(app.client_secret.clone().unwrap().into_inner())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf_state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("groups".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = browser();
    let redirect = sign_in(&srv, &browser, auth_url.as_str(), "alice", PASSWORD).await;
    assert_eq!(query_param(&redirect, "state").as_deref(), Some(csrf_state.secret().as_str()));
    assert_eq!(query_param(&redirect, "iss").as_deref(), Some(srv.issuer()), "RFC 9207 iss parameter");
    let code = query_param(&redirect, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("ID token verifies: signature, iss, aud, exp, nonce");
    assert_eq!(claims.subject().as_str(), alice.id, "sub is the stable id, not the username");
    assert_ne!(claims.subject().as_str(), "alice");
    assert_eq!(claims.preferred_username().unwrap().as_str(), "alice");
    assert_eq!(claims.email().unwrap().as_str(), "alice@example.test");
    let amr: Vec<String> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str().to_owned()).collect();
    assert_eq!(amr, vec!["pwd"]);
    assert_eq!(claims.auth_context_ref().unwrap().as_str(), "urn:portcullis:acr:pwd");
    assert!(claims.auth_time().is_some());
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected_hash);

    // Raw claims the typed client does not expose.
    let payload = id_token.to_string().split('.').nth(1).unwrap().to_owned();
    let raw: serde_json::Value = serde_json::from_slice(&portcullis::crypto::b64url_decode(&payload).unwrap()).unwrap();
    assert!(raw["sid"].is_string());
    assert_eq!(raw["groups"], serde_json::json!(["staff"]));

    // Userinfo with the access token.
    let info: CoreUserInfoClaims =
        client.user_info(tokens.access_token().to_owned(), None).unwrap().request_async(&http).await.unwrap();
    assert_eq!(info.subject().as_str(), alice.id);
    assert_eq!(info.preferred_username().unwrap().as_str(), "alice");

    // Refresh: rotation gives a new refresh token and a fresh ID token for the same user.
    let rt1 = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = client.exchange_refresh_token(&rt1).unwrap().request_async(&http).await.unwrap();
    let rt2 = refreshed.refresh_token().expect("rotated refresh token").clone();
    assert_ne!(rt1.secret(), rt2.secret());
    let id2 = refreshed.id_token().unwrap();
    let claims2 = id2.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims2.subject().as_str(), alice.id);
    assert_eq!(claims2.auth_time(), claims.auth_time(), "refresh keeps the original auth_time");

    // Reusing the old refresh token revokes the whole family, the new one included.
    let reuse = client.exchange_refresh_token(&rt1).unwrap().request_async(&http).await;
    assert!(reuse.is_err(), "reused refresh token must be refused");
    let after =
        client.exchange_refresh_token(&RefreshToken::new(rt2.secret().clone())).unwrap().request_async(&http).await;
    assert!(after.is_err(), "the family is revoked after reuse");
    // ...and so are its access tokens, at userinfo.
    let info: Result<CoreUserInfoClaims, _> =
        client.user_info(refreshed.access_token().to_owned(), None).unwrap().request_async(&http).await;
    assert!(info.is_err(), "access tokens of a revoked family are refused at userinfo");

    // Logout with id_token_hint and a registered post-logout URI ends the SSO session.
    let logout = browser
        .get(srv.url("/oauth2/logout"))
        .query(&[
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/bye"),
            ("state", "bye-state"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    assert_eq!(location(&logout), "http://127.0.0.1:9/bye?state=bye-state");
    // The session is gone: prompt=none now answers login_required.
    let resp = browser.get(authorize_url(&srv, &app.client_id, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(query_param(&location(&resp), "error").as_deref(), Some("login_required"));
    srv.stop().await;
}
