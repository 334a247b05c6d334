//! Responses to service providers (SAML Core §3.2.2, §3.3.3; Profiles §4.1.4.2): a Response
//! with a Status and, on success, one Assertion, signed with RSA-SHA256 and SHA-256 digests
//! (exclusive canonicalisation) on the assertion, the response, or both.

use quick_xml::escape::escape;
use samael::crypto::{Crypto, CryptoProvider};

use super::credential::Credential;
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::store::saml::SignedParts;

/// How long an assertion may be presented (SubjectConfirmationData and Conditions).
pub const ASSERTION_SECONDS: i64 = 300;

/// Status codes (SAML Core §3.2.2.2).
pub mod status {
    pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
    pub const REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
    pub const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
    pub const VERSION_MISMATCH: &str = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch";
    pub const NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
    pub const REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    pub const AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
    pub const INVALID_NAME_ID_POLICY: &str = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
    pub const NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
    pub const UNSUPPORTED_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding";
    pub const UNKNOWN_PRINCIPAL: &str = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal";
}

/// Authentication context classes: the SAML words for a login's `Assurance`.
pub mod class {
    use crate::mfa::assurance::Assurance;

    pub const PASSWORD_PROTECTED_TRANSPORT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
    pub const PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
    /// REFEDS MFA profile: the user passed a second factor.
    pub const REFEDS_MFA: &str = "https://refeds.org/profile/mfa";
    /// Our own names, the OIDC `acr` values, accepted as classes too: a second factor, and a
    /// phishing-resistant one (a passkey), for which SAML has no standard class.
    pub const MFA: &str = crate::oidc::acr::MFA;
    pub const PHISHING_RESISTANT: &str = crate::oidc::acr::PHISHING_RESISTANT;

    /// The class a login of this strength reports.
    pub fn of(a: Assurance) -> &'static str {
        match a {
            Assurance::Password => PASSWORD_PROTECTED_TRANSPORT,
            Assurance::SecondFactor => REFEDS_MFA,
            Assurance::PhishingResistant => PHISHING_RESISTANT,
        }
    }

    /// The strength a class names, if it is one we know.
    pub fn level(class: &str) -> Option<Assurance> {
        match class {
            PASSWORD_PROTECTED_TRANSPORT | PASSWORD => Some(Assurance::Password),
            REFEDS_MFA | MFA => Some(Assurance::SecondFactor),
            PHISHING_RESISTANT => Some(Assurance::PhishingResistant),
            _ => None,
        }
    }

    /// The class to report: the first requested one the login met, in the SP's order (so an
    /// SP comparing `exact` finds what it asked for); otherwise what the login achieved.
    pub fn answer(achieved: Assurance, requested: &[Assurance]) -> &'static str {
        let asked = requested.iter().map(|l| (of(*l), Some(*l)));
        achieved.first_met(asked).unwrap_or(of(achieved))
    }
}

/// A top-level status, an optional second-level one, and a message for the SP's logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: &'static str,
    pub second: Option<&'static str>,
    pub message: Option<String>,
}

impl Status {
    pub fn success() -> Status {
        Status { code: status::SUCCESS, second: None, message: None }
    }

    pub fn requester(second: Option<&'static str>, message: impl Into<String>) -> Status {
        Status { code: status::REQUESTER, second, message: Some(message.into()) }
    }

    pub fn responder(second: Option<&'static str>, message: impl Into<String>) -> Status {
        Status { code: status::RESPONDER, second, message: Some(message.into()) }
    }
}

/// Who the response is for.
pub struct Envelope<'a> {
    pub issuer: &'a str,
    /// The ACS URL.
    pub destination: &'a str,
    pub in_response_to: Option<&'a str>,
    pub now: i64,
}

/// The statement about the user.
pub struct Statement<'a> {
    pub name_id: &'a str,
    pub name_id_format: &'a str,
    /// The SP's entity ID.
    pub audience: &'a str,
    pub session_index: &'a str,
    pub authn_instant: i64,
    pub authn_context: &'a str,
    pub attributes: Vec<(String, Vec<String>)>,
}

/// Which parts carry a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signing {
    pub assertion: bool,
    pub response: bool,
}

impl Signing {
    pub fn of(parts: SignedParts) -> Signing {
        match parts {
            SignedParts::Assertion => Signing { assertion: true, response: false },
            SignedParts::Response => Signing { assertion: false, response: true },
            SignedParts::Both => Signing { assertion: true, response: true },
        }
    }
}

/// xs:dateTime in UTC, whole seconds.
pub fn instant(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An xs:ID: a letter or underscore first.
pub fn new_id() -> String {
    format!("_{}", hex::encode(crypto::random_bytes::<20>()))
}

/// The enveloped signature template: xmlsec fills DigestValue and SignatureValue.
fn signature_template(reference: &str, certificate_base64: &str) -> String {
    format!(
        concat!(
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>"#,
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
            r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#,
            r##"<ds:Reference URI="#{reference}"><ds:Transforms>"##,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>"#,
            r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/>"#,
            r#"</ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data>"#,
            r#"<ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"#
        ),
        reference = reference,
        certificate = certificate_base64
    )
}

fn assertion_xml(e: &Envelope<'_>, s: &Statement<'_>, id: &str, signature: &str) -> String {
    let now = instant(e.now);
    let until = instant(e.now + ASSERTION_SECONDS);
    let in_response_to = e.in_response_to.map(|r| format!(r#" InResponseTo="{}""#, escape(r))).unwrap_or_default();
    let mut attributes = String::new();
    for (name, values) in s.attributes.iter().filter(|(_, v)| !v.is_empty()) {
        attributes.push_str(&format!(
            r#"<saml:Attribute Name="{}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">"#,
            escape(name)
        ));
        for v in values {
            attributes.push_str(&format!("<saml:AttributeValue>{}</saml:AttributeValue>", escape(v)));
        }
        attributes.push_str("</saml:Attribute>");
    }
    let attribute_statement = if attributes.is_empty() {
        String::new()
    } else {
        format!("<saml:AttributeStatement>{attributes}</saml:AttributeStatement>")
    };
    format!(
        concat!(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}">"#,
            "<saml:Issuer>{issuer}</saml:Issuer>{signature}",
            r#"<saml:Subject><saml:NameID Format="{format}">{name_id}</saml:NameID>"#,
            r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">"#,
            r#"<saml:SubjectConfirmationData{in_response_to} Recipient="{recipient}" NotOnOrAfter="{until}"/>"#,
            "</saml:SubjectConfirmation></saml:Subject>",
            r#"<saml:Conditions NotBefore="{now}" NotOnOrAfter="{until}"><saml:AudienceRestriction>"#,
            "<saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>",
            r#"<saml:AuthnStatement AuthnInstant="{authn_instant}" SessionIndex="{session_index}">"#,
            "<saml:AuthnContext><saml:AuthnContextClassRef>{class}</saml:AuthnContextClassRef></saml:AuthnContext>",
            "</saml:AuthnStatement>{attribute_statement}</saml:Assertion>"
        ),
        id = id,
        now = now,
        issuer = escape(e.issuer),
        signature = signature,
        format = escape(s.name_id_format),
        name_id = escape(s.name_id),
        in_response_to = in_response_to,
        recipient = escape(e.destination),
        until = until,
        audience = escape(s.audience),
        authn_instant = instant(s.authn_instant),
        session_index = escape(s.session_index),
        class = escape(s.authn_context),
        attribute_statement = attribute_statement,
    )
}

/// `<samlp:Status>` with its codes and message.
fn status_xml(status: &Status) -> String {
    let second = status.second.map(|c| format!(r#"<samlp:StatusCode Value="{c}"/>"#)).unwrap_or_default();
    let code = if second.is_empty() {
        format!(r#"<samlp:StatusCode Value="{}"/>"#, status.code)
    } else {
        format!(r#"<samlp:StatusCode Value="{}">{second}</samlp:StatusCode>"#, status.code)
    };
    let message = status
        .message
        .as_ref()
        .map(|m| format!("<samlp:StatusMessage>{}</samlp:StatusMessage>", escape(m)))
        .unwrap_or_default();
    format!("<samlp:Status>{code}{message}</samlp:Status>")
}

/// A LogoutResponse (SAML Core §3.7.2): its ID and text, unsigned.
pub fn logout_response(e: &Envelope<'_>, status: &Status) -> (String, String) {
    let id = new_id();
    let in_response_to = e.in_response_to.map(|r| format!(r#" InResponseTo="{}""#, escape(r))).unwrap_or_default();
    let xml = format!(
        concat!(
            r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" "#,
            r#"Destination="{destination}"{in_response_to}><saml:Issuer>{issuer}</saml:Issuer>{status}"#,
            "</samlp:LogoutResponse>"
        ),
        id = id,
        now = instant(e.now),
        destination = escape(e.destination),
        in_response_to = in_response_to,
        issuer = escape(e.issuer),
        status = status_xml(status),
    );
    (id, xml)
}

/// Signs a protocol message whose root has `id`: the enveloped signature goes right after its
/// Issuer (SAML Core §5.4.1 puts it there).
pub fn sign_enveloped(xml: &str, id: &str, c: &Credential) -> AppResult<String> {
    let issuer_end = xml.find("</saml:Issuer>").ok_or_else(|| AppError::internal("message without an Issuer"))?
        + "</saml:Issuer>".len();
    let mut with_template = String::with_capacity(xml.len() + 1024);
    with_template.push_str(&xml[..issuer_end]);
    with_template.push_str(&signature_template(id, &c.certificate_base64()));
    with_template.push_str(&xml[issuer_end..]);
    sign(&with_template, c)
}

/// The HTTP-Redirect binding for a response (Bindings §3.4.4): DEFLATE, base64, and an
/// RSA-SHA256 signature over `SAMLResponse=…&RelayState=…&SigAlg=…` as encoded here.
pub fn redirect_url(location: &str, xml: &str, relay_state: Option<&str>, c: &Credential) -> AppResult<String> {
    use base64::Engine;
    use std::io::Write;
    let fail = |e: &dyn std::fmt::Display| AppError::internal(format!("SAML redirect: {e}"));
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(xml.as_bytes()).map_err(|e| fail(&e))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(deflater.finish().map_err(|e| fail(&e))?);
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut query = format!("SAMLResponse={}", enc(&encoded));
    if let Some(r) = relay_state {
        query.push_str(&format!("&RelayState={}", enc(r)));
    }
    query.push_str(&format!("&SigAlg={}", enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")));
    let key = openssl::rsa::Rsa::private_key_from_der(c.private_key_der())
        .and_then(openssl::pkey::PKey::from_rsa)
        .map_err(|e| fail(&e))?;
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).map_err(|e| fail(&e))?;
    signer.update(query.as_bytes()).map_err(|e| fail(&e))?;
    let signature = base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().map_err(|e| fail(&e))?);
    let sep = if location.contains('?') { '&' } else { '?' };
    Ok(format!("{location}{sep}{query}&Signature={}", enc(&signature)))
}

fn response_xml(e: &Envelope<'_>, id: &str, status: &Status, signature: &str, assertion: &str) -> String {
    let in_response_to = e.in_response_to.map(|r| format!(r#" InResponseTo="{}""#, escape(r))).unwrap_or_default();
    format!(
        concat!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" "#,
            r#"Destination="{destination}"{in_response_to}>"#,
            "<saml:Issuer>{issuer}</saml:Issuer>{signature}{status}{assertion}",
            "</samlp:Response>"
        ),
        id = id,
        now = instant(e.now),
        destination = escape(e.destination),
        in_response_to = in_response_to,
        issuer = escape(e.issuer),
        signature = signature,
        status = status_xml(status),
        assertion = assertion,
    )
}

fn sign(xml: &str, c: &Credential) -> AppResult<String> {
    Crypto::sign_xml(xml, c.private_key_der()).map_err(|e| AppError::internal(format!("signing a SAML message: {e}")))
}

/// A signed Response. `statement` is `None` for an error status; then the response itself is
/// signed whatever `signing` says, so the SP can trust the status.
pub fn build(
    e: &Envelope<'_>,
    status: &Status,
    statement: Option<&Statement<'_>>,
    signing: Signing,
    c: &Credential,
) -> AppResult<String> {
    let cert = c.certificate_base64();
    let response_id = new_id();
    let Some(s) = statement else {
        let xml = response_xml(e, &response_id, status, &signature_template(&response_id, &cert), "");
        return sign(&xml, c);
    };
    let assertion_id = new_id();
    let assertion_signature = if signing.assertion { signature_template(&assertion_id, &cert) } else { String::new() };
    let assertion = assertion_xml(e, s, &assertion_id, &assertion_signature);
    // xmlsec signs the first template in document order; the assertion's goes first, then
    // the response's is put in and signed over the signed assertion.
    let xml = response_xml(e, &response_id, status, "", &assertion);
    let xml = if signing.assertion { sign(&xml, c)? } else { xml };
    if !signing.response {
        return Ok(xml);
    }
    sign_enveloped(&xml, &response_id, c)
}
