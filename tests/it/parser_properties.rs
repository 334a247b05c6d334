//! Property-based tests (proptest) for the parsers that take hostile input: SAML requests and
//! metadata (decoding, the XML screen, samael behind it) never panic and never accept a
//! malformed document; OAuth parameters on a running server always get an answer in RFC 6749's
//! format, never a 5xx. Run more cases with `PROPTEST_CASES=10000 cargo test parser_properties`.

use base64::Engine;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use portcullis::saml::request::{Binding, decode, parse_untrusted};

use crate::common::*;

fn cases(default: u32) -> Config {
    let n = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    Config { cases: n, failure_persistence: None, ..Config::default() }
}

/// XML-ish text: tags, attributes, entities, comments, CDATA and DTD pieces in any order.
fn xmlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_a\" Version=\"2.0\" IssueInstant=\"2026-01-01T00:00:00Z\">".to_owned()),
        Just("</samlp:AuthnRequest>".to_owned()),
        Just("<saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">".to_owned()),
        Just("</saml:Issuer>".to_owned()),
        Just("<!DOCTYPE x [<!ENTITY a \"b\">]>".to_owned()),
        Just("&a;".to_owned()),
        Just("&#0;".to_owned()),
        Just("<![CDATA[x]]>".to_owned()),
        Just("<!-- c -->".to_owned()),
        Just("<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>".to_owned()),
        Just(" ID=\"_a\"".to_owned()),
        "[a-zA-Z0-9:<>=\"'/ &;#_-]{0,40}",
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

fn deflate_b64(xml: &str) -> String {
    use std::io::Write;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(xml.as_bytes()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap())
}

#[test]
fn saml_request_parsing_never_panics() {
    let mut runner = TestRunner::new(cases(512));
    let strategy = prop_oneof![
        any::<String>().prop_map(|s| (s, true)),
        "[A-Za-z0-9+/=%]{0,400}".prop_map(|s| (s, true)),
        xmlish().prop_map(|x| (x, false)),
    ];
    runner
        .run(&strategy, |(input, raw)| {
            for binding in [Binding::Redirect, Binding::Post] {
                let encoded = if raw {
                    input.clone()
                } else if binding == Binding::Redirect {
                    deflate_b64(&input)
                } else {
                    base64::engine::general_purpose::STANDARD.encode(&input)
                };
                // Errors are messages for a page; a result is a request that passed the screen.
                let _ = decode(binding, &encoded);
                if let Ok(u) = parse_untrusted(binding, &encoded) {
                    prop_assert!(!u.issuer.is_empty() && u.issuer.len() <= 1024);
                    prop_assert!(!u.shape.id.is_empty() && u.shape.id.len() <= 256);
                    prop_assert!(!u.xml.contains("<!DOCTYPE"), "a DTD never passes the screen");
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn sp_metadata_parsing_never_panics() {
    let mut runner = TestRunner::new(cases(256));
    runner
        .run(&prop_oneof![any::<String>(), xmlish()], |xml| {
            let _ = portcullis::saml::metadata::parse_sp_metadata(&xml);
            Ok(())
        })
        .unwrap();
}

/// Random OAuth parameters (known names with hostile values, and unknown ones) against the
/// authorize and token endpoints of a running server: never a 5xx; the token endpoint always
/// answers RFC 6749 JSON, authorize a redirect to the registered client or a page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_parameters_always_get_a_protocol_answer() {
    let srv = TestServer::start(Backend::Sqlite).await.unwrap();
    let app = srv.add_client(false).await;
    let names = prop_oneof![
        Just("response_type"),
        Just("client_id"),
        Just("redirect_uri"),
        Just("scope"),
        Just("state"),
        Just("nonce"),
        Just("prompt"),
        Just("max_age"),
        Just("code_challenge"),
        Just("code_challenge_method"),
        Just("acr_values"),
        Just("grant_type"),
        Just("code"),
        Just("refresh_token"),
        Just("code_verifier"),
        Just("request"),
        Just("x"),
    ];
    let value = prop_oneof![
        any::<String>(),
        Just(app.client_id.clone()),
        Just(REDIRECT.to_owned()),
        Just("code".to_owned()),
        Just("openid".to_owned()),
        Just("authorization_code".to_owned()),
        Just("refresh_token".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        "[ -~]{0,300}",
    ];
    let strategy = proptest::collection::vec((names, value), 0..12);
    let mut runner = TestRunner::new(cases(200));
    let mut samples = Vec::new();
    for _ in 0..runner.config().cases {
        samples.push(strategy.new_tree(&mut runner).unwrap().current());
    }
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let secret = app.client_secret.clone().unwrap().into_inner();
    for pairs in samples {
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter()).finish();
        let resp = http.get(srv.url(&format!("/oauth2/authorize?{query}"))).send().await.unwrap();
        let status = resp.status().as_u16();
        assert!(status < 500, "authorize {pairs:?}: {status}");
        if status == 303 {
            let to = location(&resp);
            assert!(
                to.starts_with(REDIRECT) || to.starts_with("/login"),
                "authorize {pairs:?} sent the browser to {to}"
            );
        } else {
            let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
            assert!(ct.starts_with("text/html"), "authorize {pairs:?}: {status} {ct}");
        }
        let resp = http
            .post(srv.url("/oauth2/token"))
            .basic_auth(&app.client_id, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(query)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        assert!(status < 500, "token {pairs:?}: {status}");
        let body: serde_json::Value = resp.json().await.unwrap_or_else(|e| panic!("token {pairs:?}: not JSON: {e}"));
        assert!(status == 200 || body["error"].is_string(), "token {pairs:?}: {status} {body}");
    }
    srv.stop().await;
}
