//! One assurance, two protocols: for the same login (the same SSO session), the OIDC ID
//! token's `acr` and the SAML assertion's `AuthnContextClassRef` name the same strength —
//! password only, a one-time code, a passkey — and, when the app asked for a level the login
//! met, both answer with the value it asked for.

use samael::schema::{AuthnContextClassRef, RequestedAuthnContext};
use samael::service_provider::ServiceProvider;
use serde_json::json;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::both_databases;
use crate::common::*;
use crate::mfa_passkeys::{cookie_client, enrol_in_login, localhost};
use crate::saml_sso::{handover, setup};
use portcullis::admin::apps::CreatedOidcApp;
use portcullis::mfa::assurance::Assurance;
use portcullis::oidc::acr;
use portcullis::saml::response::class;

both_databases!(oidc_and_saml_report_the_same_strength);

/// The ID token's `acr` for a sign-in on the session `http` holds (`acr_values` if given).
async fn oidc_acr(srv: &TestServer, http: &reqwest::Client, app: &CreatedOidcApp, acr_values: Option<&str>) -> String {
    let (verifier, challenge) = pkce();
    let mut extra = vec![("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")];
    if let Some(v) = acr_values {
        extra.push(("acr_values", v));
    }
    let resp = http.get(authorize_url(srv, &app.client_id, &extra)).send().await.unwrap();
    let to = location(&resp);
    let code = query_param(&to, "code").unwrap_or_else(|| panic!("a code at once: {to}"));
    let tokens = json(exchange_code(srv, app, &code, &verifier).await).await;
    jwt_claims(tokens["id_token"].as_str().unwrap())["acr"].as_str().unwrap().to_owned()
}

/// The assertion's class for a sign-in on the same session (`requested` as the SP's
/// RequestedAuthnContext if given).
async fn saml_class(srv: &TestServer, http: &reqwest::Client, sp: &ServiceProvider, requested: Option<&str>) -> String {
    // The issuer is `http://localhost:PORT` (WebAuthn needs a domain name): so is the endpoint.
    let mut req = sp.make_authentication_request(&format!("{}/saml/sso", srv.issuer())).unwrap();
    req.requested_authn_context = requested.map(|c| RequestedAuthnContext {
        authn_context_class_refs: Some(vec![AuthnContextClassRef { value: Some(c.into()) }]),
        authn_context_decl_refs: None,
        comparison: None,
    });
    // The session cookie belongs to the address the test talks to.
    let here = |url: &str| url.replacen(srv.issuer(), &srv.url(""), 1);
    let resp = http.get(here(req.redirect("").unwrap().unwrap().as_str())).send().await.unwrap();
    let to = location(&resp);
    assert!(to.starts_with(&format!("{}/saml/post", srv.issuer())), "single sign-on, to the hand-over: {to}");
    let (_, xml, _) = handover(http, &here(&to)).await;
    let a = sp.parse_xml_response(&xml, Some(&[req.id.as_str()])).unwrap_or_else(|e| panic!("{e}: {xml}"));
    a.authn_statements.unwrap()[0].authn_context.clone().unwrap().value.unwrap().value.unwrap()
}

async fn oidc_and_saml_report_the_same_strength(b: Backend) {
    let Some(srv) = TestServer::start_with(b, localhost()).await else { return };
    let app = srv.add_client(false).await;
    let sp = setup(&srv, json!({})).await;
    srv.add_user("pat").await;
    let tom_user = srv.add_user("tom").await;
    srv.add_user("alice").await;
    // alice enrols a passkey inside a login (policy `any`): that session's factor is the passkey.
    srv.set_settings(json!({"mfa_policy": "any", "trusted_device_duration_days": 0})).await;
    let alice = cookie_client();
    enrol_in_login(&srv, &alice, "alice", &mut SoftPasskey::new(true)).await;
    // tom signs in with a one-time code, pat with the password alone (policy `optional`).
    srv.set_settings(json!({"mfa_policy": "optional"})).await;
    let secret = srv.enrol_totp(&tom_user).await;
    let tom = cookie_client();
    let (_, body) = api_login(&srv, &tom, "tom").await;
    let token = body["mfa_token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let (status, body) =
        api_post(&tom, &srv.url("/api/v1/auth/mfa/totp"), json!({"mfa_token": token, "code": srv.code(&secret)})).await;
    assert_eq!((status, &body["authenticated"]), (200, &json!(true)), "{body}");
    let pat = cookie_client();
    assert_eq!(api_login(&srv, &pat, "pat").await.1["authenticated"], true);

    for (who, http, achieved) in [
        ("pat", &pat, Assurance::Password),
        ("tom", &tom, Assurance::SecondFactor),
        ("alice", &alice, Assurance::PhishingResistant),
    ] {
        let (a, c) = (oidc_acr(&srv, http, &app, None).await, saml_class(&srv, http, &sp, None).await);
        assert_eq!((acr::level(&a), class::level(&c)), (Some(achieved), Some(achieved)), "{who}: acr {a}, class {c}");
        // Asked for the REFEDS MFA profile, a login that met it gets that very value back from
        // both (a password session would be sent to the MFA step by both instead).
        if achieved >= Assurance::SecondFactor {
            let refeds = "https://refeds.org/profile/mfa";
            let a = oidc_acr(&srv, http, &app, Some(refeds)).await;
            let c = saml_class(&srv, http, &sp, Some(refeds)).await;
            assert_eq!((a.as_str(), c.as_str()), (refeds, refeds), "{who}");
        }
    }
    srv.stop().await;
}
