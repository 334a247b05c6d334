//! Accepting an AuthnRequest (SAML Core §3.4, Bindings §3.4 and §3.5, Profiles §4.1.4.1):
//! decoding under size caps, structural inspection, the service provider and its ACS, then
//! destination, freshness, signature, replay, NameID policy and requested context. Until the
//! ACS is known to be registered, failures are pages; after, they are statuses to that ACS.

use std::io::Read;

use base64::Engine;
use samael::crypto::{CertificateDer, Crypto, CryptoProvider};
use samael::schema::{AuthnContextComparison, AuthnRequest as SamlAuthnRequest};

use super::response::{Status, class, status};
use super::{MAX_DOCUMENT_BYTES, binding, name_id, screen_xml, xml};
use crate::error::AppError;
use crate::login::request::{LoginRequest, SamlAnswer, Wants};
use crate::mfa::assurance::Assurance;
use crate::state::AppState;
use crate::store::{self, saml::ServiceProvider};

/// How old an AuthnRequest may be, and how far a clock may be ahead.
pub const MAX_AGE_SECONDS: i64 = 300;
pub const CLOCK_SKEW_SECONDS: i64 = 180;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Redirect,
    Post,
}

/// `SAMLRequest` and `RelayState` as a binding carries them, in a query string (HTTP-Redirect)
/// or a form body (HTTP-POST). A parameter given twice is refused (which copy would a
/// signature cover?); an empty one counts as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub saml_request: String,
    pub relay_state: Option<String>,
}

impl Message {
    pub fn from_urlencoded(encoded: &[u8]) -> Result<Message, String> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(encoded).map_err(|_| "The request's parameters are malformed.".to_owned())?;
        let mut seen = std::collections::HashMap::with_capacity(pairs.len());
        for (k, v) in pairs.into_iter().filter(|(_, v)| !v.is_empty()) {
            if seen.contains_key(&k) {
                return Err(format!("The request carries `{k}` twice."));
            }
            seen.insert(k, v);
        }
        let saml_request = seen.remove("SAMLRequest").ok_or("The request carries no SAMLRequest.")?;
        Ok(Message { saml_request, relay_state: seen.remove("RelayState") })
    }
}

/// A message as it arrived.
pub struct Incoming<'a> {
    pub binding: Binding,
    pub saml_request: &'a str,
    pub relay_state: Option<&'a str>,
    /// HTTP-Redirect: the raw query string, whose octets the signature covers.
    pub raw_query: Option<&'a str>,
}

/// Why a request was not accepted, and where the answer goes.
#[derive(Debug)]
pub enum Refusal {
    /// The SP or its ACS is unknown, or the message unreadable: the user sees a page, and
    /// nothing is sent anywhere.
    Page(String),
    /// A registered SP and ACS: a status response goes back (the request is not stored).
    Status {
        app_id: String,
        answer: Box<SamlAnswer>,
        status: Status,
    },
    Internal(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Internal(e)
    }
}

/// Base64 (and for HTTP-Redirect, raw DEFLATE) to text, never more than the cap.
pub fn decode(binding: Binding, encoded: &str) -> Result<String, String> {
    if encoded.len() > MAX_DOCUMENT_BYTES * 4 / 3 + 8 {
        return Err("the SAML message is too large".into());
    }
    let compact: String = encoded.split_ascii_whitespace().collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| "the SAML message is not valid base64".to_owned())?;
    let bytes = match binding {
        Binding::Post => raw,
        Binding::Redirect => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(raw.as_slice())
                .take(MAX_DOCUMENT_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|_| "the SAML message is not valid DEFLATE data".to_owned())?;
            out
        }
    };
    screen_xml(&bytes, MAX_DOCUMENT_BYTES)?;
    String::from_utf8(bytes).map_err(|_| "the SAML message is not UTF-8".into())
}

/// The ACS the response goes to: the URL the request names (exactly as registered), or the
/// index it names, or the SP's default (SAML Core §3.4.1).
fn resolve_acs<'a>(sp: &'a ServiceProvider, url: Option<&str>, index: Option<usize>) -> Option<&'a str> {
    match (url, index) {
        (Some(u), _) => sp.acs.iter().find(|a| a.url == u).map(|a| a.url.as_str()),
        (None, Some(i)) => sp.acs.iter().find(|a| a.index as usize == i).map(|a| a.url.as_str()),
        (None, None) => sp.default_acs().map(|a| a.url.as_str()),
    }
}

/// The requested authentication context: the levels the SP accepts, in its order (`better`
/// than a password class asks for a second factor); none when it asks for none.
fn requested_context(r: &SamlAuthnRequest) -> Result<Vec<Assurance>, Status> {
    let Some(ctx) = &r.requested_authn_context else { return Ok(vec![]) };
    let classes: Vec<&str> =
        ctx.authn_context_class_refs.iter().flatten().filter_map(|c| c.value.as_deref()).map(str::trim).collect();
    if classes.is_empty() {
        return Ok(vec![]);
    }
    let better = matches!(ctx.comparison, Some(AuthnContextComparison::Better));
    let levels: Vec<Assurance> = classes
        .iter()
        .filter_map(|c| class::level(c))
        .map(|l| if better && l == Assurance::Password { Assurance::SecondFactor } else { l })
        .collect();
    if levels.is_empty() {
        return Err(Status::requester(
            Some(status::NO_AUTHN_CONTEXT),
            format!("none of the requested authentication contexts is supported: {}", classes.join(" ")),
        ));
    }
    Ok(levels)
}

/// The signed octets of an HTTP-Redirect message (Bindings §3.4.4.1): the parameters as they
/// were encoded on the wire, in the fixed order.
fn redirect_signed_octets(raw_query: &str) -> Option<(String, String, String)> {
    let mut parts = std::collections::HashMap::new();
    for pair in raw_query.split('&') {
        let (k, _) = pair.split_once('=').unwrap_or((pair, ""));
        if parts.insert(k.to_owned(), pair.to_owned()).is_some() {
            return None;
        }
    }
    let decode = |p: &str| {
        let v = p.split_once('=').map(|(_, v)| v).unwrap_or("");
        url::form_urlencoded::parse(format!("v={v}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    let sig_alg = decode(parts.get("SigAlg")?)?;
    let signature = decode(parts.get("Signature")?)?;
    let mut octets = parts.get("SAMLRequest")?.clone();
    if let Some(r) = parts.get("RelayState") {
        octets.push('&');
        octets.push_str(r);
    }
    octets.push('&');
    octets.push_str(parts.get("SigAlg")?);
    Some((octets, sig_alg, signature))
}

/// Checks the HTTP-Redirect binding's query signature with the SP's certificate.
pub fn verify_redirect(raw_query: &str, cert_der: &[u8]) -> Result<(), String> {
    let (octets, sig_alg, signature) =
        redirect_signed_octets(raw_query).ok_or("the request is not signed (SigAlg and Signature are required)")?;
    let digest = match sig_alg.as_str() {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => openssl::hash::MessageDigest::sha256(),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => openssl::hash::MessageDigest::sha512(),
        other => return Err(format!("signature algorithm {other} is not accepted (use RSA-SHA256)")),
    };
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature.split_ascii_whitespace().collect::<String>())
        .map_err(|_| "the signature is not base64")?;
    let ok = (|| -> Result<bool, openssl::error::ErrorStack> {
        let key = openssl::x509::X509::from_der(cert_der)?.public_key()?;
        let mut v = openssl::sign::Verifier::new(digest, &key)?;
        v.update(octets.as_bytes())?;
        v.verify(&signature)
    })()
    .unwrap_or(false);
    if ok { Ok(()) } else { Err("the request's signature does not verify".into()) }
}

/// An enveloped signature made with RSA-SHA256 (or ECDSA-SHA256) and SHA-256 digests; SHA-1
/// is refused before any verification.
fn verify_post(parsed: &SamlAuthnRequest, xml: &str, cert_der: &[u8]) -> Result<(), String> {
    use samael::signature::{DigestAlgorithm, SignatureAlgorithm};
    let strong = parsed.signature.as_ref().is_some_and(|s| {
        matches!(
            s.signed_info.signature_method.algorithm,
            SignatureAlgorithm::RsaSha256 | SignatureAlgorithm::EcdsaSha256
        ) && !s.signed_info.reference.is_empty()
            && s.signed_info.reference.iter().all(|r| matches!(r.digest_method.algorithm, DigestAlgorithm::Sha256))
    });
    if !strong {
        return Err("the request's signature must use RSA-SHA256 with SHA-256 digests".into());
    }
    Crypto::verify_signed_xml(xml, &CertificateDer::from(cert_der.to_vec()), Some("ID"))
        .map_err(|_| "the request's signature does not verify".to_owned())
}

/// An AuthnRequest read from untrusted input: decoded, inspected and parsed, nothing else.
#[derive(Debug)]
pub struct Untrusted {
    pub xml: String,
    pub shape: xml::Shape,
    pub issuer: String,
    pub request: SamlAuthnRequest,
}

/// Decodes and inspects a message whose root is `samlp:{root}`; returns the text, its shape
/// and its issuer. Every failure is a message for a page.
pub fn inspect_untrusted(binding: Binding, encoded: &str, root: &str) -> Result<(String, xml::Shape, String), String> {
    let xml = decode(binding, encoded)?;
    let shape = xml::inspect(&xml, root)?;
    let issuer = shape.issuer.clone().filter(|i| !i.is_empty()).ok_or("The request names no issuer.")?;
    Ok((xml, shape, issuer))
}

/// Decodes, inspects and parses an AuthnRequest; every failure is a message for a page.
pub fn parse_untrusted(binding: Binding, encoded: &str) -> Result<Untrusted, String> {
    let (xml, shape, issuer) = inspect_untrusted(binding, encoded, "AuthnRequest")?;
    let request: SamlAuthnRequest = xml.parse().map_err(|_| "The request is not a valid AuthnRequest.".to_owned())?;
    if request.id != shape.id {
        return Err("The request is not a valid AuthnRequest.".into());
    }
    // An xs:ID is a short name; it is stored (replay detection) under an index, so it is
    // bounded like every identifier that reaches the database. SAML Core §8.3.6 bounds
    // entity identifiers at 1024 characters.
    if request.id.len() > 256 || issuer.len() > 1024 {
        return Err("The request's ID or Issuer is too long.".into());
    }
    Ok(Untrusted { xml, shape, issuer, request })
}

/// Checks an incoming AuthnRequest and turns it into the login request to store.
pub async fn accept(state: &AppState, m: Incoming<'_>) -> Result<LoginRequest, Refusal> {
    let page = |m: String| Refusal::Page(m);
    let Untrusted { xml, shape, issuer, request: parsed } = parse_untrusted(m.binding, m.saml_request).map_err(page)?;
    let sp = store::saml::find_by_entity_id(&state.db, &issuer)
        .await?
        .ok_or_else(|| page("The service provider that sent you here is not registered.".into()))?;
    let acs =
        resolve_acs(&sp, parsed.assertion_consumer_service_url.as_deref(), parsed.assertion_consumer_service_index)
            .ok_or_else(|| {
                page("The response address in the request is not registered for this service provider.".into())
            })?
            .to_owned();
    let now = state.now();
    let relay = m.relay_state.filter(|r| !r.is_empty() && r.len() <= 80).map(str::to_owned);
    let mut answer = super::answer_to(&sp, &acs, relay, Some(parsed.id.clone()));
    let refuse = |answer: &SamlAnswer, status: Status| Refusal::Status {
        app_id: sp.app_id.clone(),
        answer: Box::new(answer.clone()),
        status,
    };
    if m.relay_state.is_some_and(|r| r.len() > 80) {
        return Err(refuse(&answer, Status::requester(None, "RelayState is longer than 80 bytes")));
    }
    if parsed.version != "2.0" {
        return Err(refuse(
            &answer,
            Status { code: status::VERSION_MISMATCH, second: None, message: Some("only SAML 2.0".into()) },
        ));
    }
    if parsed.protocol_binding.as_deref().is_some_and(|b| b != binding::HTTP_POST) {
        return Err(refuse(
            &answer,
            Status::requester(Some(status::UNSUPPORTED_BINDING), "responses are sent with HTTP-POST only"),
        ));
    }
    let signed = match m.binding {
        Binding::Redirect => m.raw_query.is_some_and(|q| q.split('&').any(|p| p.starts_with("Signature="))),
        Binding::Post => shape.signature_reference.is_some(),
    };
    let sso_url = super::endpoints(state).sso_url;
    match parsed.destination.as_deref() {
        Some(d) if d != sso_url => {
            return Err(refuse(&answer, Status::requester(None, "the request's Destination is not this endpoint")));
        }
        None if signed => {
            return Err(refuse(&answer, Status::requester(None, "a signed request must name its Destination")));
        }
        _ => {}
    }
    if sp.want_requests_signed || signed {
        let cert = sp.certificate.as_deref().and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok());
        let Some(cert) = cert else {
            return Err(refuse(
                &answer,
                Status::requester(Some(status::REQUEST_DENIED), "no certificate is registered for this SP"),
            ));
        };
        if !signed {
            return Err(refuse(&answer, Status::requester(Some(status::REQUEST_DENIED), "requests must be signed")));
        }
        let verified = match m.binding {
            Binding::Redirect => verify_redirect(m.raw_query.unwrap_or(""), &cert),
            Binding::Post => verify_post(&parsed, &xml, &cert),
        };
        if let Err(e) = verified {
            tracing::warn!(sp = %sp.entity_id, error = %e, "SAML request signature refused");
            return Err(refuse(&answer, Status::requester(Some(status::REQUEST_DENIED), e)));
        }
    }
    let issued = parsed.issue_instant.timestamp();
    if issued > now + CLOCK_SKEW_SECONDS {
        return Err(refuse(
            &answer,
            Status::requester(Some(status::REQUEST_DENIED), "the request is issued in the future"),
        ));
    }
    if issued < now - MAX_AGE_SECONDS - CLOCK_SKEW_SECONDS {
        return Err(refuse(&answer, Status::requester(Some(status::REQUEST_DENIED), "the request has expired")));
    }
    let fresh_until = issued + MAX_AGE_SECONDS + 2 * CLOCK_SKEW_SECONDS;
    if !store::saml::remember_request_id(&state.db, &sp.entity_id, &parsed.id, fresh_until).await? {
        tracing::warn!(sp = %sp.entity_id, id = %parsed.id, "replayed SAML AuthnRequest refused");
        return Err(refuse(&answer, Status::requester(Some(status::REQUEST_DENIED), "the request was already used")));
    }
    answer.name_id_format = requested_name_id_format(&parsed, &sp.name_id_format).map_err(|s| refuse(&answer, s))?;
    answer.requested = requested_context(&parsed).map_err(|s| refuse(&answer, s))?;
    let wants = Wants {
        assurance: Assurance::weakest_of(answer.requested.iter().copied()),
        // IsPassive wins: a passive request is answered from the session or refused.
        reauthenticate: parsed.force_authn == Some(true) && parsed.is_passive != Some(true),
        passive: parsed.is_passive == Some(true),
        ..Wants::default()
    };
    Ok(super::login_request(state, &sp, wants, answer))
}

/// The NameID format a request's `NameIDPolicy` asks for (SAML Core §3.4.1.1), as a short
/// name, or `None` for the SP's registered one. A transient identifier reveals nothing about
/// the user, so any SP may ask for one; persistent and email identifiers only as registered.
/// `AllowCreate` needs nothing: every user already has the identifiers the IdP issues.
fn requested_name_id_format(parsed: &SamlAuthnRequest, registered: &str) -> Result<Option<String>, Status> {
    let Some(format) = parsed.name_id_policy.as_ref().and_then(|p| p.format.as_deref()).map(str::trim) else {
        return Ok(None);
    };
    if format == name_id::UNSPECIFIED {
        return Ok(None);
    }
    match name_id::short_name(format) {
        Some("transient") => Ok(Some("transient".into())),
        Some(short) if short == registered => Ok(None),
        _ => Err(Status::requester(
            Some(status::INVALID_NAME_ID_POLICY),
            format!(
                "this SP is registered for NameID format {} (transient is always available)",
                name_id::urn(registered).unwrap_or("?")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_names_each_parameter_once() {
        let m = Message::from_urlencoded(b"SAMLRequest=abc%2B&RelayState=r%20s&SigAlg=x").unwrap();
        assert_eq!(m, Message { saml_request: "abc+".into(), relay_state: Some("r s".into()) });
        assert_eq!(Message::from_urlencoded(b"SAMLRequest=a&RelayState=").unwrap().relay_state, None);
        assert!(Message::from_urlencoded(b"SAMLRequest=a&SAMLRequest=b").unwrap_err().contains("twice"));
        assert!(Message::from_urlencoded(b"SAMLRequest=a&Signature=b&Signature=c").unwrap_err().contains("twice"));
        assert!(Message::from_urlencoded(b"RelayState=r").unwrap_err().contains("no SAMLRequest"));
        assert!(Message::from_urlencoded(b"SAMLRequest=").unwrap_err().contains("no SAMLRequest"));
    }

    #[test]
    fn decoding_is_capped_and_checked() {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        assert!(decode(Binding::Post, "not base64!").unwrap_err().contains("base64"));
        assert!(decode(Binding::Redirect, &b64(b"plain, not deflated")).unwrap_err().contains("DEFLATE"));
        // A deflate bomb: 10 MiB of zeros compresses to a few KiB.
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut enc, &vec![b' '; 10 << 20]).unwrap();
        let bomb = enc.finish().unwrap();
        assert!(decode(Binding::Redirect, &b64(&bomb)).unwrap_err().contains("larger"));
        assert!(
            decode(Binding::Post, &b64(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>")).unwrap_err().contains("document type")
        );
        assert_eq!(decode(Binding::Post, &b64(b"<x/>")).unwrap(), "<x/>");
    }

    /// Malformed requests of every kind (mutations of a valid one: flipped, dropped and
    /// duplicated bytes, truncation, deep nesting, stray markup) never panic and always get
    /// a message; decoding never yields more than the cap.
    #[test]
    fn malformed_requests_never_panic() {
        let valid = concat!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc" Version="2.0" "#,
            r#"IssueInstant="2026-11-23T10:00:00Z" Destination="https://idp.example/saml/sso" "#,
            r#"AssertionConsumerServiceURL="https://sp.example/acs"><saml:Issuer>https://sp.example</saml:Issuer>"#,
            r#"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/>"#,
            r#"<samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>"#,
            r#"https://refeds.org/profile/mfa</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#,
            r#"</samlp:AuthnRequest>"#
        );
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let deflate = |b: &[u8]| {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut e, b).unwrap();
            b64(&e.finish().unwrap())
        };
        assert!(parse_untrusted(Binding::Post, &b64(valid.as_bytes())).is_ok());
        assert!(parse_untrusted(Binding::Redirect, &deflate(valid.as_bytes())).is_ok());
        // xorshift: deterministic, so a failure reproduces.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let inserts: [&[u8]; 8] =
            [b"<", b">", b"&", b"\"", b"<!DOCTYPE x>", b"<a>", b"]]>", "\u{feff}\u{0}".as_bytes()];
        let mut refused = 0;
        for _ in 0..3000 {
            let mut doc = valid.as_bytes().to_vec();
            for _ in 0..(1 + next() % 4) {
                if doc.is_empty() {
                    break;
                }
                let at = (next() as usize) % doc.len();
                match next() % 5 {
                    0 => doc[at] = next() as u8,
                    1 => {
                        doc.remove(at);
                    }
                    2 => doc.truncate(at),
                    3 => {
                        let ins = inserts[(next() % inserts.len() as u64) as usize];
                        doc.splice(at..at, ins.iter().copied());
                    }
                    _ => {
                        let end = (at + (next() as usize % 40)).min(doc.len());
                        let chunk = doc[at..end].to_vec();
                        doc.splice(at..at, chunk);
                    }
                }
            }
            for (binding, encoded) in [(Binding::Post, b64(&doc)), (Binding::Redirect, deflate(&doc))] {
                match parse_untrusted(binding, &encoded) {
                    Ok(u) => assert!(!u.shape.id.is_empty() && !u.issuer.is_empty()),
                    Err(msg) => {
                        assert!(!msg.is_empty());
                        refused += 1;
                    }
                }
            }
        }
        assert!(refused > 3000, "most mutations are refused ({refused})");
        let deep = format!(
            "{}{}{}",
            &valid[..valid.len() - "</samlp:AuthnRequest>".len()],
            "<x>".repeat(100_000),
            "</x>".repeat(100_000)
        );
        assert!(parse_untrusted(Binding::Post, &b64(deep.as_bytes())).unwrap_err().contains("large"));
        let nested = format!(
            "{}{}{}</samlp:AuthnRequest>",
            &valid[..valid.len() - "</samlp:AuthnRequest>".len()],
            "<x>".repeat(100),
            "</x>".repeat(100)
        );
        assert!(parse_untrusted(Binding::Post, &b64(nested.as_bytes())).unwrap_err().contains("nested"));
    }

    #[test]
    fn redirect_octets_keep_the_wire_encoding_and_order() {
        let q = "SigAlg=http%3A%2F%2Fx&SAMLRequest=abc%2Bd&Signature=c2ln&RelayState=r%20s";
        let (octets, alg, sig) = redirect_signed_octets(q).unwrap();
        assert_eq!(octets, "SAMLRequest=abc%2Bd&RelayState=r%20s&SigAlg=http%3A%2F%2Fx");
        assert_eq!(alg, "http://x");
        assert_eq!(sig, "c2ln");
        assert!(redirect_signed_octets("SAMLRequest=a&SAMLRequest=b&SigAlg=x&Signature=y").is_none());
        assert!(redirect_signed_octets("SAMLRequest=a").is_none());
    }
}
