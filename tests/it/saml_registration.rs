//! SAML service providers as apps: the IdP metadata, and registration through the admin API
//! (fields or the SP's own metadata, as samael's service-provider side writes it).

use std::str::FromStr;

use base64::Engine;
use samael::metadata::EntityDescriptor;
use samael::service_provider::ServiceProviderBuilder;
use samael::traits::ToXml;
use serde_json::json;

use crate::both_databases;
use crate::common::*;

both_databases!(idp_metadata_is_stable_and_complete, admin_api_registers_service_providers);

const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// A self-signed certificate for a test SP, base64 DER.
pub fn sp_certificate() -> Vec<u8> {
    use samael::idp::{CertificateParams, IdentityProvider, KeyType, Rsa};
    let idp = IdentityProvider::generate_new(KeyType::Rsa(Rsa::Rsa2048)).unwrap();
    let params = CertificateParams { common_name: "sp.test", issuer_name: "sp.test", days_until_expiration: 30 };
    idp.create_certificate(&params).unwrap().der_data().to_vec()
}

async fn idp_metadata_is_stable_and_complete(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let resp = reqwest::get(srv.url("/saml/metadata")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/samlmetadata+xml");
    let xml = resp.text().await.unwrap();
    let entity = EntityDescriptor::from_str(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    assert_eq!(entity.entity_id.as_deref(), Some(srv.url("/saml/metadata").as_str()));
    let idp = &entity.idp_sso_descriptors.as_ref().unwrap()[0];
    assert_eq!(idp.protocol_support_enumeration.as_deref(), Some("urn:oasis:names:tc:SAML:2.0:protocol"));
    let sso: Vec<_> = idp.single_sign_on_services.iter().map(|e| (e.binding.as_str(), e.location.as_str())).collect();
    let sso_url = srv.url("/saml/sso");
    assert_eq!(sso, vec![(REDIRECT, sso_url.as_str()), (POST, sso_url.as_str())]);
    let slo_url = srv.url("/saml/slo");
    assert!(idp.single_logout_services.iter().all(|e| e.location == slo_url));
    assert_eq!(idp.single_logout_services.len(), 1, "single logout with HTTP-Redirect");
    assert_eq!(idp.single_logout_services[0].binding, REDIRECT);
    assert!(idp.name_id_formats.iter().any(|f| f == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"));
    assert!(idp.name_id_formats.iter().any(|f| f == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"));
    let key = &idp.key_descriptors[0];
    assert_eq!(key.key_use.as_deref(), Some("signing"));
    let cert_b64 = key.key_info.x509_data.as_ref().unwrap().certificates[0].clone();
    let der = base64::engine::general_purpose::STANDARD.decode(&cert_b64).unwrap();
    let cert = openssl::x509::X509::from_der(&der).unwrap();
    let key = cert.public_key().unwrap();
    assert_eq!(key.id(), openssl::pkey::Id::RSA);
    assert!(key.bits() >= 2048);
    assert!(cert.verify(&key).unwrap(), "self-signed");
    let cn = cert.subject_name().entries().next().unwrap().data().to_string().unwrap();
    assert_eq!(cn, "127.0.0.1");
    // The same credential on every read, and for any node reading the database.
    let again = reqwest::get(srv.url("/saml/metadata")).await.unwrap().text().await.unwrap();
    assert!(again.contains(&cert_b64));
    let other_node =
        portcullis::saml::credential::load_or_create(&srv.state.db, &srv.state.master_key, "other", 0).await.unwrap();
    assert_eq!(other_node.certificate_der, der, "the first credential stored is the one every node uses");
    srv.stop().await;
}

async fn admin_api_registers_service_providers(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    srv.add_admin("root").await;
    srv.add_user("bob").await;
    let http = browser();
    let url = srv.url("/api/v1/admin/apps/saml");
    let (status, _) = api_login(&srv, &http, "root").await;
    assert_eq!(status, 200);

    // Fields only.
    let (status, sp) = api_post(
        &http,
        &url,
        json!({
            "name": "Wiki",
            "entity_id": "https://wiki.example/sp",
            "acs_urls": ["https://wiki.example/acs", "https://wiki.example/acs2"],
            "name_id_format": "emailAddress",
            "attributes": [{"name": "mail", "source": "email"}, {"name": "tier", "source": "static:gold"}],
            "sign": "assertion",
        }),
    )
    .await;
    assert_eq!(status, 201, "{sp}");
    assert_eq!(sp["entity_id"], "https://wiki.example/sp");
    assert_eq!(
        sp["acs"][0],
        json!({"url": "https://wiki.example/acs", "index": 0, "binding": POST, "is_default": true})
    );
    assert_eq!(sp["acs"][1]["index"], 1);
    assert_eq!(sp["name_id_format"], "emailAddress");
    assert_eq!(sp["sign"], "assertion");
    assert_eq!(sp["want_requests_signed"], false);
    let app_id = sp["app_id"].as_str().unwrap();
    let app: serde_json::Value =
        http.get(srv.url(&format!("/api/v1/admin/apps/{app_id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(app["protocol"], "saml");
    assert_eq!(app["mfa_policy"], "inherit", "SAML apps carry the same policy overrides as OIDC ones");

    // The same entity ID twice.
    let (status, err) = api_post(
        &http,
        &url,
        json!({"name": "Again", "entity_id": "https://wiki.example/sp", "acs_urls": ["https://wiki.example/acs"]}),
    )
    .await;
    assert_eq!(status, 409, "{err}");

    // Bad registrations, each refused with the reason.
    let cases = [
        (json!({"name": "X", "acs_urls": ["https://x.example/acs"]}), "entity ID"),
        (json!({"name": "X", "entity_id": "https://x.example"}), "assertion consumer service"),
        (json!({"name": "X", "entity_id": "https://x.example", "acs_urls": ["ftp://x.example/acs"]}), "https"),
        (json!({"name": "X", "entity_id": "https://x.example", "acs_urls": ["https://x.example/acs#f"]}), "fragment"),
        (
            json!({"name": "X", "entity_id": "https://x.example", "acs_urls": ["https://x.example/acs"], "want_requests_signed": true}),
            "certificate",
        ),
        (
            json!({"name": "X", "entity_id": "https://x.example", "acs_urls": ["https://x.example/acs"], "certificate": "bm90IGEgY2VydA=="}),
            "X.509",
        ),
        (
            json!({"name": "X", "entity_id": "https://x.example", "acs_urls": ["https://x.example/acs"], "name_id_format": "x509SubjectName"}),
            "NameID format",
        ),
        (
            json!({"name": "X", "entity_id": "https://x.example", "acs_urls": ["https://x.example/acs"], "attributes": [{"name": "a", "source": "password"}]}),
            "unknown source",
        ),
        (
            json!({"name": "X", "entity_id": "https://x.example", "acs_urls": ["https://x.example/acs"], "sign": "none"}),
            "sign must be",
        ),
        (
            json!({"name": "X", "entity_id": "https://x.example", "acs_urls": ["https://x.example/acs"], "default_relay_state": "r".repeat(81)}),
            "80 bytes",
        ),
        (json!({"name": "X", "metadata": "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>"}), "document type"),
        (json!({"name": "X", "metadata": "<not-metadata/>"}), "EntityDescriptor"),
        (json!({"name": "X", "entity_id": "https://x.example", "acs": []}), "unknown field"),
    ];
    for (body, reason) in cases {
        let (status, err) = api_post(&http, &url, body.clone()).await;
        assert_eq!(status, 400, "{body}: {err}");
        assert!(err.to_string().contains(reason), "{body}: expected `{reason}` in {err}");
    }

    // Import: the metadata samael's service-provider side publishes, with a signing certificate.
    let cert = sp_certificate();
    let sp_side = ServiceProviderBuilder::default()
        .entity_id("https://app.example/saml".to_string())
        .acs_url("https://app.example/saml/acs".to_string())
        .slo_url("https://app.example/saml/slo".to_string())
        .certificate(samael::crypto::CertificateDer::from(cert.clone()))
        .authn_name_id_format("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".to_string())
        .build()
        .unwrap();
    let metadata = sp_side.metadata().unwrap().to_string().unwrap();
    let (status, sp) =
        api_post(&http, &url, json!({"name": "App", "metadata": metadata, "want_requests_signed": true})).await;
    assert_eq!(status, 201, "{sp}");
    assert_eq!(sp["entity_id"], "https://app.example/saml");
    assert_eq!(sp["acs"][0]["url"], "https://app.example/saml/acs");
    assert_eq!(sp["slo_url"], "https://app.example/saml/slo");
    assert_eq!(sp["certificate"], base64::engine::general_purpose::STANDARD.encode(&cert));
    assert_eq!(sp["want_requests_signed"], true);
    assert_eq!(sp["name_id_format"], "persistent");
    assert_eq!(sp["sign"], "both");
    let names: Vec<_> = sp["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["email", "name", "username", "groups"]);

    // The audit log names who registered what.
    let audit: serde_json::Value =
        http.get(srv.url("/api/v1/admin/audit?event=app.created")).send().await.unwrap().json().await.unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");

    // Only admins register apps.
    let other = browser();
    let (status, _) = api_login(&srv, &other, "bob").await;
    assert_eq!(status, 200);
    let (status, _) = api_post(
        &other,
        &url,
        json!({"name": "Y", "entity_id": "https://y.example", "acs_urls": ["https://y.example/acs"]}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = api_post(&reqwest::Client::new(), &url, json!({"name": "Y"})).await;
    assert_eq!(status, 401);
    srv.stop().await;
}
