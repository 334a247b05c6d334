//! SAML single sign-on driven by a real service-provider library (samael's SP side): the
//! HTTP-Redirect and HTTP-POST bindings, signed responses checked by samael and by the
//! `xmlsec1` command line, the MFA step and step-up through RequestedAuthnContext, and every
//! kind of refusal.

use std::str::FromStr;

use base64::Engine;
use samael::metadata::EntityDescriptor;
use samael::schema::{AuthnContextClassRef, AuthnRequest, RequestedAuthnContext};
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;

use crate::both_databases;
use crate::common::*;

both_databases!(
    redirect_binding_signed_response,
    post_binding_with_mfa_and_step_up,
    refusals_go_to_the_sp_or_to_a_page,
    signed_requests,
    oidc_then_saml_single_sign_on,
    idp_initiated_and_single_logout,
    transient_name_id
);

pub(crate) const ACS: &str = "https://sp.example/saml/acs";
pub(crate) const ENTITY: &str = "https://sp.example/saml";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Registers the SP and builds samael's SP side from the IdP's published metadata.
pub(crate) async fn setup(srv: &TestServer, spec: serde_json::Value) -> ServiceProvider {
    let mut body = serde_json::json!({"name": "Intranet", "entity_id": ENTITY, "acs_urls": [ACS]});
    body.as_object_mut().unwrap().extend(spec.as_object().unwrap().clone());
    let spec: portcullis::admin::apps::SamlAppSpec = serde_json::from_value(body).unwrap();
    portcullis::admin::apps::add_saml(&srv.state, &portcullis::admin::Admin::operator(), spec).await.unwrap();
    let metadata = reqwest::get(srv.url("/saml/metadata")).await.unwrap().text().await.unwrap();
    ServiceProviderBuilder::default()
        .entity_id(ENTITY.to_string())
        .acs_url(ACS.to_string())
        .idp_metadata(EntityDescriptor::from_str(&metadata).unwrap())
        .build()
        .unwrap()
}

pub(crate) fn sso(srv: &TestServer) -> String {
    srv.url("/saml/sso")
}

/// The hand-over page's form: (action, SAMLResponse XML, RelayState).
pub(crate) async fn handover(browser: &reqwest::Client, url: &str) -> (String, String, Option<String>) {
    let resp = browser.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    let html = resp.text().await.unwrap();
    let start = html.find("action=\"").unwrap() + 8;
    let action = html[start..start + html[start..].find('"').unwrap()].replace("&#x2f;", "/");
    let response = hidden_input(&html, "SAMLResponse").expect("SAMLResponse");
    let xml = String::from_utf8(B64.decode(response).unwrap()).unwrap();
    (action, xml, hidden_input(&html, "RelayState"))
}

/// Verifies a signature with the `xmlsec1` command line against the IdP's certificate (PEM);
/// `node` picks the signed element.
fn xmlsec1_verifies(idp_pem: &str, xml: &str, node: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (pem_path, xml_path) = (dir.path().join("idp.pem"), dir.path().join("m.xml"));
    std::fs::write(&pem_path, idp_pem).unwrap();
    std::fs::write(&xml_path, xml).unwrap();
    let (id_attr, xpath) = match node {
        "assertion" => (
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "//*[local-name()='Assertion']/*[local-name()='Signature']",
        ),
        _ => ("urn:oasis:names:tc:SAML:2.0:protocol:Response", "/*/*[local-name()='Signature']"),
    };
    let out = std::process::Command::new("xmlsec1")
        .args(["--verify", "--pubkey-cert-pem", pem_path.to_str().unwrap(), "--id-attr:ID", id_attr])
        .args(["--node-xpath", xpath, xml_path.to_str().unwrap()])
        .output()
        .expect("xmlsec1 is installed");
    out.status.success()
}

/// The IdP's signing certificate, PEM, as the SP pins it.
async fn idp_pem(srv: &TestServer) -> String {
    let c = portcullis::saml::credential(&srv.state).await.unwrap();
    String::from_utf8(openssl::x509::X509::from_der(&c.certificate_der).unwrap().to_pem().unwrap()).unwrap()
}

/// Sends an AuthnRequest with the Redirect binding; returns the first response.
pub(crate) async fn send_redirect(
    browser: &reqwest::Client,
    srv: &TestServer,
    req: &AuthnRequest,
    relay: &str,
) -> reqwest::Response {
    let url = req.redirect(relay).unwrap().unwrap();
    assert!(url.as_str().starts_with(&sso(srv)));
    browser.get(url.as_str()).send().await.unwrap()
}

/// Signs in at the login page the IdP sent the browser to; returns the next location.
async fn login_at(srv: &TestServer, browser: &reqwest::Client, resp: reqwest::Response, user: &str) -> String {
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert!(loc.starts_with("/login?request="), "expected the login page, got {loc}");
    submit_login(srv, browser, &loc, user, PASSWORD).await
}

fn status_of(xml: &str) -> Vec<String> {
    xml.match_indices("StatusCode Value=\"")
        .map(|(i, m)| {
            let s = &xml[i + m.len()..];
            s[..s.find('"').unwrap()].rsplit(':').next().unwrap().to_owned()
        })
        .collect()
}

async fn redirect_binding_signed_response(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    portcullis::store::users::add_to_group(&srv.state.db, &alice.id, "staff").await.unwrap();
    let sp = setup(&srv, serde_json::json!({"attributes": [{"name": "mail", "source": "email"}, {"name": "groups", "source": "groups"}, {"name": "uid", "source": "username"}]})).await;
    let pem = idp_pem(&srv).await;
    let browser = browser();
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let resp = send_redirect(&browser, &srv, &req, "relay-1").await;
    let delivery = login_at(&srv, &browser, resp, "alice").await;
    assert!(delivery.starts_with(&srv.url("/saml/post?t=")), "{delivery}");
    let (action, xml, relay) = handover(&browser, &delivery).await;
    assert_eq!(action, ACS);
    assert_eq!(relay.as_deref(), Some("relay-1"));

    // samael's SP checks signature, destination, audience, InResponseTo and times.
    let assertion = sp.parse_xml_response(&xml, Some(&[req.id.as_str()])).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let subject = assertion.subject.as_ref().unwrap().name_id.as_ref().unwrap();
    assert_eq!(subject.value, alice.id, "persistent NameID: the stable user id");
    let attrs = &assertion.attribute_statements.as_ref().unwrap()[0].attributes;
    let value = |n: &str| -> Vec<String> {
        attrs
            .iter()
            .find(|a| a.name.as_deref() == Some(n))
            .map(|a| a.values.iter().filter_map(|v| v.value.clone()).collect())
            .unwrap_or_default()
    };
    assert_eq!(value("uid"), ["alice"]);
    assert_eq!(value("groups"), ["staff"]);
    assert_eq!(value("mail"), alice.email.clone().into_iter().collect::<Vec<_>>());
    let statement = &assertion.authn_statements.as_ref().unwrap()[0];
    let class = statement.authn_context.as_ref().unwrap().value.as_ref().unwrap().value.clone().unwrap();
    assert_eq!(class, "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport");
    assert!(statement.session_index.is_some());

    // SHA-256 only, and both signatures verify with xmlsec1; a tampered copy does not.
    assert!(xml.contains("http://www.w3.org/2001/04/xmlenc#sha256") && !xml.contains("xmldsig#sha1"), "{xml}");
    assert!(xmlsec1_verifies(&pem, &xml, "response"), "response signature");
    assert!(xmlsec1_verifies(&pem, &xml, "assertion"), "assertion signature");
    let tampered = xml.replace(&alice.id, "someone-else");
    assert!(!xmlsec1_verifies(&pem, &tampered, "assertion"));
    assert!(!xmlsec1_verifies(&pem, &tampered, "response"));
    assert!(sp.parse_xml_response(&tampered, Some(&[req.id.as_str()])).is_err());

    // The hand-over works once, and never for another browser.
    let again = browser.get(&delivery).send().await.unwrap();
    assert_eq!(again.status(), 400);
    let req2 = sp.make_authentication_request(&sso(&srv)).unwrap();
    let resp = send_redirect(&browser, &srv, &req2, "").await;
    assert_eq!(resp.status(), 303, "the SSO session answers without a password");
    let delivery2 = location(&resp);
    let stranger = crate::common::browser();
    assert_eq!(stranger.get(&delivery2).send().await.unwrap().status(), 400, "not for a browser without the session");
    srv.stop().await;
}

async fn post_binding_with_mfa_and_step_up(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    srv.set_settings(serde_json::json!({"mfa_policy": "disabled", "trusted_device_duration_days": 0})).await;
    let sp = setup(&srv, serde_json::json!({"sign": "response"})).await;
    let pem = idp_pem(&srv).await;
    let browser = browser();

    // HTTP-POST: the request is kept and the browser comes back with a GET.
    let post = |req: &AuthnRequest| {
        let form = [("SAMLRequest", B64.encode(req.to_string().unwrap())), ("RelayState", "r2".to_owned())];
        browser.post(sso(&srv)).form(&form).send()
    };
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let resp = post(&req).await.unwrap();
    assert_eq!(resp.status(), 303);
    let resume = location(&resp);
    assert!(resume.starts_with("/saml/resume?request="), "{resume}");
    let resp = browser.get(srv.url(&resume)).send().await.unwrap();
    let delivery = login_at(&srv, &browser, resp, "alice").await;
    let (_, xml, relay) = handover(&browser, &delivery).await;
    assert_eq!(relay.as_deref(), Some("r2"));
    assert!(xmlsec1_verifies(&pem, &xml, "response"));
    let assertion = sp.parse_xml_response(&xml, Some(&[req.id.as_str()])).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let class = |a: &samael::schema::Assertion| {
        a.authn_statements.as_ref().unwrap()[0]
            .authn_context
            .as_ref()
            .unwrap()
            .value
            .as_ref()
            .unwrap()
            .value
            .clone()
            .unwrap()
    };
    assert_eq!(class(&assertion), "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport");

    // Step-up: the SP asks for the REFEDS MFA profile; the session's password is not enough.
    let mut req = sp.make_authentication_request(&sso(&srv)).unwrap();
    req.requested_authn_context = Some(RequestedAuthnContext {
        authn_context_class_refs: Some(vec![AuthnContextClassRef {
            value: Some("https://refeds.org/profile/mfa".into()),
        }]),
        authn_context_decl_refs: None,
        comparison: None,
    });
    let resp = post(&req).await.unwrap();
    let resp = browser.get(srv.url(&location(&resp))).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/login/mfa", "the MFA step asks for a second factor");
    srv.advance(30);
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", &srv.code(&secret))]).await;
    assert_eq!(resp.status(), 303);
    let (_, xml, _) = handover(&browser, &location(&resp)).await;
    let assertion = sp.parse_xml_response(&xml, Some(&[req.id.as_str()])).unwrap_or_else(|e| panic!("{e}: {xml}"));
    assert_eq!(class(&assertion), "https://refeds.org/profile/mfa");

    // An unknown authentication context class is answered with NoAuthnContext.
    let mut req = sp.make_authentication_request(&sso(&srv)).unwrap();
    req.requested_authn_context = Some(RequestedAuthnContext {
        authn_context_class_refs: Some(vec![AuthnContextClassRef { value: Some("urn:example:retina-scan".into()) }]),
        authn_context_decl_refs: None,
        comparison: None,
    });
    let resp = post(&req).await.unwrap();
    assert_eq!(resp.status(), 303);
    let (_, xml, _) = handover(&browser, &location(&resp)).await;
    assert_eq!(status_of(&xml), ["Requester", "NoAuthnContext"]);
    srv.stop().await;
}

async fn refusals_go_to_the_sp_or_to_a_page(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let sp = setup(&srv, serde_json::json!({})).await;
    let pem = idp_pem(&srv).await;
    let browser = browser();
    let page = |resp: reqwest::Response| async move {
        assert_eq!(resp.status(), 400, "a page, never a redirect");
        assert!(resp.headers().get("location").is_none());
        resp.text().await.unwrap()
    };

    // Unknown SP and unregistered ACS: a page.
    let other = ServiceProviderBuilder::default()
        .entity_id("https://unknown.example".to_string())
        .acs_url(ACS.to_string())
        .build()
        .unwrap();
    let req = other.make_authentication_request(&sso(&srv)).unwrap();
    assert!(page(send_redirect(&browser, &srv, &req, "").await).await.contains("not registered"));
    let mut req = sp.make_authentication_request(&sso(&srv)).unwrap();
    req.assertion_consumer_service_url = Some("https://evil.example/acs".into());
    assert!(page(send_redirect(&browser, &srv, &req, "").await).await.contains("not registered"));
    // Malformed messages: a page.
    for bad in ["%%%", "bm90IGRlZmxhdGVk", &B64.encode(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>")] {
        let resp = browser.get(format!("{}?SAMLRequest={}", sso(&srv), urlencode(bad))).send().await.unwrap();
        page(resp).await;
    }
    let wrong_ns = B64.encode(req.to_string().unwrap().replace("urn:oasis:names:tc:SAML:2.0:protocol", "urn:evil"));
    let resp = browser.post(sso(&srv)).form(&[("SAMLRequest", wrong_ns)]).send().await.unwrap();
    assert!(page(resp).await.contains("not a samlp:AuthnRequest"));
    let huge = B64.encode(format!("<x>{}</x>", "a".repeat(300 * 1024)));
    let resp = browser.post(sso(&srv)).form(&[("SAMLRequest", huge)]).send().await.unwrap();
    assert!(resp.status() == 400 || resp.status() == 413);

    // IsPassive without a session: NoPassive, to the ACS.
    let mut req = sp.make_authentication_request(&sso(&srv)).unwrap();
    req.is_passive = Some(true);
    let resp = send_redirect(&browser, &srv, &req, "p").await;
    assert_eq!(resp.status(), 303);
    let (action, xml, relay) = handover(&browser, &location(&resp)).await;
    assert_eq!((action.as_str(), relay.as_deref()), (ACS, Some("p")));
    assert_eq!(status_of(&xml), ["Responder", "NoPassive"]);
    assert!(xml.contains(&format!("InResponseTo=\"{}\"", req.id)));
    assert!(xmlsec1_verifies(&pem, &xml, "response"), "error responses are signed too");

    // A replayed request, an expired one and a wrong Destination: RequestDenied / Requester.
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let first = send_redirect(&browser, &srv, &req, "").await;
    assert!(location(&first).starts_with("/login?request="));
    let replay = send_redirect(&browser, &srv, &req, "").await;
    let (_, xml, _) = handover(&browser, &location(&replay)).await;
    assert_eq!(status_of(&xml), ["Requester", "RequestDenied"]);
    assert!(xml.contains("already used"));
    let mut old = sp.make_authentication_request(&sso(&srv)).unwrap();
    old.issue_instant = chrono::Utc::now() - chrono::Duration::minutes(30);
    let (_, xml, _) = handover(&browser, &location(&send_redirect(&browser, &srv, &old, "").await)).await;
    assert!(xml.contains("expired"), "{xml}");
    let mut elsewhere = sp.make_authentication_request(&sso(&srv)).unwrap();
    elsewhere.destination = Some("https://other-idp.example/sso".into());
    let url = elsewhere.redirect("").unwrap().unwrap();
    let url = url.as_str().replace("https://other-idp.example/sso", &sso(&srv));
    let (_, xml, _) = handover(&browser, &location(&browser.get(url).send().await.unwrap())).await;
    assert!(xml.contains("Destination"), "{xml}");

    // ForceAuthn: the password again, even with a session.
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let delivery = login_at(&srv, &browser, send_redirect(&browser, &srv, &req, "").await, "alice").await;
    handover(&browser, &delivery).await;
    let mut forced = sp.make_authentication_request(&sso(&srv)).unwrap();
    forced.force_authn = Some(true);
    let resp = send_redirect(&browser, &srv, &forced, "").await;
    assert!(location(&resp).starts_with("/login?request="), "ForceAuthn asks for the password");
    srv.stop().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn signed_requests(b: Backend) {
    use samael::idp::{CertificateParams, IdentityProvider, KeyType, Rsa};
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_user("alice").await;
    let key = IdentityProvider::generate_new(KeyType::Rsa(Rsa::Rsa2048)).unwrap();
    let params = CertificateParams { common_name: "sp", issuer_name: "sp", days_until_expiration: 30 };
    let cert = key.create_certificate(&params).unwrap();
    let key_der = key.export_private_key_der().unwrap();
    let sp = setup(&srv, serde_json::json!({"certificate": B64.encode(cert.der_data()), "want_requests_signed": true}))
        .await;
    let pkey = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::private_key_from_der(&key_der).unwrap()).unwrap();
    let browser = browser();

    // Unsigned: refused, to the ACS.
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let (_, xml, _) = handover(&browser, &location(&send_redirect(&browser, &srv, &req, "").await)).await;
    assert_eq!(status_of(&xml), ["Requester", "RequestDenied"]);

    // Signed with the Redirect binding's query signature (RSA-SHA256): accepted.
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let url = req.signed_redirect("relay", &pkey).unwrap().unwrap();
    let resp = browser.get(url.as_str()).send().await.unwrap();
    assert!(location(&resp).starts_with("/login?request="), "{}", location(&resp));
    // The same, tampered: refused.
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let url = req
        .signed_redirect("relay", &pkey)
        .unwrap()
        .unwrap()
        .to_string()
        .replace("RelayState=relay", "RelayState=other");
    let (_, xml, _) = handover(&browser, &location(&browser.get(url).send().await.unwrap())).await;
    assert!(xml.contains("does not verify"), "{xml}");

    // HTTP-POST with an enveloped signature, SHA-256 digests: accepted; SHA-1: refused.
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let unsigned = req.to_string().unwrap();
    let template = format!(
        concat!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#,
            r##"<ds:Reference URI="#{}"><ds:Transforms>"##,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>"#,
            r#"<ds:DigestMethod Algorithm="DIGEST"/><ds:DigestValue/>"#,
            r#"</ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"#
        ),
        req.id
    );
    let sign = |digest: &str| {
        let t = template.replace("DIGEST", digest);
        let end = unsigned
            .find("</saml2:Issuer>")
            .map(|i| i + "</saml2:Issuer>".len())
            .unwrap_or_else(|| panic!("{unsigned}"));
        let doc = format!("{}{}{}", &unsigned[..end], t, &unsigned[end..]);
        use samael::crypto::CryptoProvider;
        samael::crypto::Crypto::sign_xml(doc, &key_der).unwrap()
    };
    let signed = sign("http://www.w3.org/2001/04/xmlenc#sha256");
    let resp = browser.post(sso(&srv)).form(&[("SAMLRequest", B64.encode(&signed))]).send().await.unwrap();
    assert!(location(&resp).starts_with("/saml/resume?request="), "{}", location(&resp));
    // SHA-1 digests are refused before the replay check would see the same ID.
    let sha1 = sign("http://www.w3.org/2000/09/xmldsig#sha1");
    let resp = browser.post(sso(&srv)).form(&[("SAMLRequest", B64.encode(&sha1))]).send().await.unwrap();
    let (_, xml, _) = handover(&browser, &location(&resp)).await;
    assert!(xml.contains("SHA-256"), "{xml}");
    srv.stop().await;
}

async fn oidc_then_saml_single_sign_on(b: Backend) {
    let Some(srv) = TestServer::start_with(b, manual_clock()).await else { return };
    let alice = srv.add_user("alice").await;
    let secret = srv.enrol_totp(&alice).await;
    srv.set_settings(serde_json::json!({"mfa_policy": "disabled", "trusted_device_duration_days": 0})).await;
    let client = srv.add_client(false).await;
    let sp = setup(&srv, serde_json::json!({})).await;
    let browser = browser();
    // Signed in for the OIDC app with the password only.
    let (code, verifier) = get_code(&srv, &browser, &client.client_id, "alice").await;
    assert_eq!(exchange_code(&srv, &client, &code, &verifier).await.status(), 200);
    // The SAML app: no password again.
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let resp = send_redirect(&browser, &srv, &req, "").await;
    let delivery = location(&resp);
    assert!(delivery.starts_with(&srv.url("/saml/post")), "single sign-on: {delivery}");
    let (_, xml, _) = handover(&browser, &delivery).await;
    sp.parse_xml_response(&xml, Some(&[req.id.as_str()])).unwrap();
    // The SAML app's own policy demands a second factor: the MFA step asks for it.
    let app = portcullis::store::saml::find_by_entity_id(&srv.state.db, ENTITY).await.unwrap().unwrap();
    let mut policy = portcullis::store::settings::find_app_policy(&srv.state.db, &app.app_id).await.unwrap().unwrap();
    policy.mfa_policy = Some(portcullis::mfa::policy::Policy::Any);
    portcullis::admin::settings::set_app_policy(
        &srv.state,
        &portcullis::admin::Admin::operator(),
        &app.app_id,
        &policy,
    )
    .await
    .unwrap();
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let resp = send_redirect(&browser, &srv, &req, "").await;
    assert_eq!(location(&resp), "/login/mfa");
    srv.advance(30);
    let resp = post_mfa_form(&srv, &browser, "/login/mfa/totp", &[("code", &srv.code(&secret))]).await;
    let (_, xml, _) = handover(&browser, &location(&resp)).await;
    let a = sp.parse_xml_response(&xml, Some(&[req.id.as_str()])).unwrap();
    let class = a.authn_statements.unwrap()[0].authn_context.clone().unwrap().value.unwrap().value.unwrap();
    assert_eq!(class, "https://refeds.org/profile/mfa");
    srv.stop().await;
}

/// A LogoutRequest from the SP, HTTP-Redirect, signed with `key` when given; returns the URL.
fn logout_request(
    srv: &TestServer,
    name_id: &str,
    key: Option<&openssl::pkey::PKey<openssl::pkey::Private>>,
) -> (String, String) {
    use std::io::Write;
    let id = format!("_lr{}", uuid::Uuid::new_v4().simple());
    let xml = format!(
        concat!(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{}" Version="2.0" IssueInstant="{}" "#,
            r#"Destination="{}"><saml:Issuer>{}</saml:Issuer>"#,
            r#"<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{}</saml:NameID>"#,
            r#"</samlp:LogoutRequest>"#
        ),
        id,
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        srv.url("/saml/slo"),
        ENTITY,
        name_id
    );
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(xml.as_bytes()).unwrap();
    let mut query = format!("SAMLRequest={}&RelayState=bye", urlencode(&B64.encode(e.finish().unwrap())));
    if let Some(key) = key {
        query.push_str(&format!("&SigAlg={}", urlencode("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")));
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key).unwrap();
        signer.update(query.as_bytes()).unwrap();
        query.push_str(&format!("&Signature={}", urlencode(&B64.encode(signer.sign_to_vec().unwrap()))));
    }
    (format!("{}?{query}", srv.url("/saml/slo")), id)
}

async fn idp_initiated_and_single_logout(b: Backend) {
    use samael::idp::{CertificateParams, IdentityProvider, KeyType, Rsa};
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let key = IdentityProvider::generate_new(KeyType::Rsa(Rsa::Rsa2048)).unwrap();
    let params = CertificateParams { common_name: "sp", issuer_name: "sp", days_until_expiration: 30 };
    let cert = key.create_certificate(&params).unwrap();
    let pkey = openssl::pkey::PKey::from_rsa(
        openssl::rsa::Rsa::private_key_from_der(&key.export_private_key_der().unwrap()).unwrap(),
    )
    .unwrap();
    let spec = serde_json::json!({
        "allow_idp_initiated": true,
        "default_relay_state": "home",
        "slo_url": "https://sp.example/saml/slo",
        "certificate": B64.encode(cert.der_data()),
    });
    setup(&srv, spec).await;
    let metadata = reqwest::get(srv.url("/saml/metadata")).await.unwrap().text().await.unwrap();
    let idp_metadata = EntityDescriptor::from_str(&metadata).unwrap();
    let sp = ServiceProviderBuilder::default()
        .entity_id(ENTITY.to_string())
        .acs_url(ACS.to_string())
        .allow_idp_initiated(true)
        .idp_metadata(idp_metadata.clone())
        .build()
        .unwrap();
    let browser = browser();

    // IdP-initiated: an unsolicited, signed response with the default RelayState.
    let resp = browser.get(srv.url(&format!("/saml/idp-init?app={}", urlencode(ENTITY)))).send().await.unwrap();
    let delivery = login_at(&srv, &browser, resp, "alice").await;
    let (action, xml, relay) = handover(&browser, &delivery).await;
    assert_eq!((action.as_str(), relay.as_deref()), (ACS, Some("home")));
    assert!(!xml.contains("InResponseTo"), "unsolicited");
    sp.parse_xml_response(&xml, None).unwrap_or_else(|e| panic!("{e}: {xml}"));
    // An SP that does not allow it: a page.
    let other = serde_json::json!({"name": "Other", "entity_id": "https://other.example", "acs_urls": ["https://other.example/acs"]});
    portcullis::admin::apps::add_saml(
        &srv.state,
        &portcullis::admin::Admin::operator(),
        serde_json::from_value(other).unwrap(),
    )
    .await
    .unwrap();
    let resp = browser.get(srv.url("/saml/idp-init?app=https%3A%2F%2Fother.example")).send().await.unwrap();
    assert_eq!(resp.status(), 400);

    // An unsigned logout request from an SP with a certificate: refused, the session stays.
    let (url, _) = logout_request(&srv, &alice.id, None);
    let resp = browser.get(url).send().await.unwrap();
    let back = location(&resp);
    assert!(back.starts_with("https://sp.example/saml/slo?SAMLResponse="), "{back}");
    let response_xml = |url: &str| {
        use std::io::Read;
        let v = query_param(url, "SAMLResponse").unwrap();
        let mut out = String::new();
        flate2::read::DeflateDecoder::new(B64.decode(v).unwrap().as_slice()).read_to_string(&mut out).unwrap();
        out
    };
    assert_eq!(status_of(&response_xml(&back)), ["Requester", "RequestDenied"]);
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let resp = send_redirect(&browser, &srv, &req, "").await;
    assert!(location(&resp).starts_with(&srv.url("/saml/post")), "still signed in");

    // Signed, naming alice: the session ends; the LogoutResponse's query signature verifies
    // with the IdP certificate from the metadata (samael's verifier).
    let (url, id) = logout_request(&srv, &alice.id, Some(&pkey));
    let resp = browser.get(url).send().await.unwrap();
    let back = location(&resp);
    let verifier = samael::crypto::UrlVerifier::from_x509(&sp.idp_signing_certs().unwrap().unwrap()[0]).unwrap();
    assert!(verifier.verify_signed_response_url(&url::Url::parse(&back).unwrap()).unwrap(), "{back}");
    assert_eq!(query_param(&back, "RelayState").as_deref(), Some("bye"));
    let xml = response_xml(&back);
    assert_eq!(status_of(&xml), ["Success"]);
    assert!(xml.contains(&format!("InResponseTo=\"{id}\"")));
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let resp = send_redirect(&browser, &srv, &req, "").await;
    assert!(location(&resp).starts_with("/login?request="), "signed out everywhere");
    srv.stop().await;
}

/// SAML Core §8.3.8: an SP (registered for persistent identifiers) asks for a transient one
/// with AllowCreate, as mod_auth_mellon's stock request does, and gets a fresh opaque value
/// per assertion; a format it is not registered for is refused with InvalidNameIDPolicy; an SP
/// registered for transient identifiers gets one without asking; single logout recognises
/// the transient value.
async fn transient_name_id(b: Backend) {
    use samael::schema::NameIdPolicy;
    const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    let Some(srv) = TestServer::start(b).await else { return };
    let alice = srv.add_user("alice").await;
    let sp = setup(&srv, serde_json::json!({"slo_url": "https://sp.example/saml/slo"})).await;
    let metadata = reqwest::get(srv.url("/saml/metadata")).await.unwrap().text().await.unwrap();
    assert!(metadata.contains(TRANSIENT), "the IdP metadata offers transient NameIDs");
    let browser = browser();
    let ask = |format: &str, allow_create: Option<bool>| {
        let mut req = sp.make_authentication_request(&sso(&srv)).unwrap();
        req.name_id_policy =
            Some(NameIdPolicy { format: Some(format.to_owned()), sp_name_qualifier: None, allow_create });
        req
    };
    let name_id_of = |xml: &str, req: &AuthnRequest| {
        let a = sp.parse_xml_response(xml, Some(&[req.id.as_str()])).unwrap_or_else(|e| panic!("{e}: {xml}"));
        let n = a.subject.unwrap().name_id.unwrap();
        (n.format.unwrap_or_default(), n.value)
    };
    let req = ask(TRANSIENT, Some(true));
    let resp = send_redirect(&browser, &srv, &req, "").await;
    let delivery = login_at(&srv, &browser, resp, "alice").await;
    let (_, xml, _) = handover(&browser, &delivery).await;
    let (format, first) = name_id_of(&xml, &req);
    assert_eq!(format, TRANSIENT);
    assert_ne!(first, alice.id, "opaque, not the persistent id");
    assert!(first.len() >= 32 && !first.contains(&alice.username));
    // The SSO session answers again, with another value.
    let req = ask(TRANSIENT, None);
    let resp = send_redirect(&browser, &srv, &req, "").await;
    let (_, xml, _) = handover(&browser, &location(&resp)).await;
    let (format, second) = name_id_of(&xml, &req);
    assert_eq!(format, TRANSIENT);
    assert_ne!(first, second, "a transient NameID is good for one assertion");
    // Persistent (as registered) and unspecified still give the stable id.
    let req = ask("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", Some(false));
    let resp = send_redirect(&browser, &srv, &req, "").await;
    let (_, xml, _) = handover(&browser, &location(&resp)).await;
    assert_eq!(name_id_of(&xml, &req).1, alice.id);
    // A format the SP is not registered for: InvalidNameIDPolicy, to the SP.
    let req = ask("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", Some(true));
    let resp = send_redirect(&browser, &srv, &req, "").await;
    let (_, xml, _) = handover(&browser, &location(&resp)).await;
    assert_eq!(status_of(&xml), ["Requester", "InvalidNameIDPolicy"]);

    // Single logout naming the last transient value ends the session.
    let req = ask(TRANSIENT, Some(true));
    let resp = send_redirect(&browser, &srv, &req, "").await;
    let (_, xml, _) = handover(&browser, &location(&resp)).await;
    let (_, last) = name_id_of(&xml, &req);
    let (url, _) = logout_request(&srv, &last, None);
    let back = location(&browser.get(url).send().await.unwrap());
    assert!(back.starts_with("https://sp.example/saml/slo?SAMLResponse="), "{back}");
    let req = sp.make_authentication_request(&sso(&srv)).unwrap();
    let resp = send_redirect(&browser, &srv, &req, "").await;
    assert!(location(&resp).starts_with("/login?request="), "signed out");

    // An SP registered for transient identifiers gets them without asking.
    let other = serde_json::json!({
        "name": "Mellon", "entity_id": "https://mellon.example/sp", "acs_urls": ["https://mellon.example/acs"],
        "name_id_format": "transient",
    });
    let sp2 = portcullis::admin::apps::add_saml(
        &srv.state,
        &portcullis::admin::Admin::operator(),
        serde_json::from_value(other).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(sp2.name_id_format, "transient");
    srv.stop().await;
}
