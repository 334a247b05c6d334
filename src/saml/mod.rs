//! SAML 2.0 identity provider (SAML Core, Bindings and Metadata 2.0, the saml2int profile).
//! Protocol logic only: no axum types. Service providers are apps whose protocol is `saml`;
//! their logins go through the same MFA step as OIDC ones.

pub mod credential;
pub mod metadata;
pub mod registration;
pub mod request;
pub mod response;
pub mod slo;
pub mod sso;
pub mod xml;
pub mod xmlsec_log;

use std::sync::Arc;

use crate::error::AppResult;
use crate::login::request::{Answer, LoginRequest, SamlAnswer, Wants};
use crate::state::AppState;
use credential::Credential;

/// XML namespaces.
pub mod ns {
    pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
    pub const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
}

/// Protocol bindings (SAML Bindings §3.4, §3.5).
pub mod binding {
    pub const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
}

/// NameID formats Portcullis issues (SAML Core §8.3), by the short names used in
/// registrations.
pub mod name_id {
    pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    pub const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
    /// SAML Core §8.3.8: an opaque value made for one assertion only.
    pub const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    pub const SHORT_NAMES: &[&str] = &["persistent", "emailAddress", "unspecified", "transient"];

    pub fn urn(short: &str) -> Option<&'static str> {
        match short {
            "persistent" => Some(PERSISTENT),
            "emailAddress" => Some(EMAIL),
            "unspecified" => Some(UNSPECIFIED),
            "transient" => Some(TRANSIENT),
            _ => None,
        }
    }

    pub fn short_name(urn: &str) -> Option<&'static str> {
        match urn {
            PERSISTENT => Some("persistent"),
            EMAIL => Some("emailAddress"),
            UNSPECIFIED => Some("unspecified"),
            TRANSIENT => Some("transient"),
            _ => None,
        }
    }

    /// The format of the NameID for one assertion: the one the request asked for, when it
    /// asked for one (already checked against the registration), else the registered one.
    pub fn for_assertion<'a>(requested: Option<&'a str>, registered: &'a str) -> &'a str {
        requested.unwrap_or(registered)
    }
}

/// How a login for `sp` is answered: a Response to `acs` with `relay_state`, before the
/// request's NameID policy and requested contexts are filled in.
pub fn answer_to(
    sp: &crate::store::saml::ServiceProvider,
    acs: &str,
    relay_state: Option<String>,
    in_response_to: Option<String>,
) -> SamlAnswer {
    SamlAnswer {
        sp_entity_id: sp.entity_id.clone(),
        acs: acs.to_owned(),
        relay_state,
        in_response_to,
        name_id_format: None,
        requested: vec![],
    }
}

/// The login request the spine gets for `sp`, waiting at most `auth_request_ttl_seconds`.
pub fn login_request(
    state: &AppState,
    sp: &crate::store::saml::ServiceProvider,
    wants: Wants,
    answer: SamlAnswer,
) -> LoginRequest {
    let now = state.now();
    LoginRequest {
        id: crate::crypto::random_token(),
        app_id: sp.app_id.clone(),
        wants,
        answer: Answer::Saml(answer),
        created_at: now,
        expires_at: now + state.config.tokens.auth_request_ttl_seconds,
    }
}

/// The IdP's entity ID and endpoints, under the issuer URL.
pub fn endpoints(state: &AppState) -> metadata::IdpEndpoints {
    metadata::IdpEndpoints {
        entity_id: state.url("/saml/metadata"),
        sso_url: state.url("/saml/sso"),
        slo_url: state.url("/saml/slo"),
    }
}

/// The signing credential, read (or made) once per process.
pub async fn credential(state: &AppState) -> AppResult<Arc<Credential>> {
    let cell = &state.saml_credential;
    let c = cell
        .get_or_try_init(|| async {
            let host = url::Url::parse(state.issuer()).ok().and_then(|u| u.host_str().map(str::to_owned));
            let cn = host.unwrap_or_else(|| "portcullis".into());
            credential::load_or_create(&state.db, &state.master_key, &cn, state.now()).await.map(Arc::new)
        })
        .await?;
    Ok(c.clone())
}

/// The IdP's metadata document.
pub async fn idp_metadata(state: &AppState) -> AppResult<String> {
    let c = credential(state).await?;
    metadata::idp_metadata(&endpoints(state), &c.certificate_base64())
}

/// The largest SAML message or metadata document accepted, before or after inflating.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Refuses what no SAML message needs and what makes XML parsers dangerous: a document type
/// declaration (entity expansion, external entities; SAML Core §1.3 forbids DTDs in
/// messages), processing instructions other than the XML declaration, and oversize input.
pub fn screen_xml(xml: &[u8], max: usize) -> Result<(), String> {
    if xml.len() > max {
        return Err(format!("the document is larger than {} KiB", max / 1024));
    }
    let text = std::str::from_utf8(xml).map_err(|_| "the document is not UTF-8".to_owned())?;
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err("document type declarations are not allowed".into());
    }
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map(|(_, r)| r).ok_or("unterminated XML declaration")?,
        None => body,
    };
    if body.contains("<?") {
        return Err("processing instructions are not allowed".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screening() {
        assert!(screen_xml(b"<?xml version=\"1.0\"?><a/>", 100).is_ok());
        assert!(screen_xml(b"<a/>", 100).is_ok());
        assert!(screen_xml(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", 100).is_err());
        assert!(screen_xml(b"<a><?php x ?></a>", 100).is_err());
        assert!(screen_xml(&[b'a'; 101], 100).is_err());
        assert!(screen_xml(&[0xff, 0xfe], 100).is_err());
    }

    #[test]
    fn name_id_round_trip() {
        for s in name_id::SHORT_NAMES {
            assert_eq!(name_id::short_name(name_id::urn(s).unwrap()), Some(*s));
        }
        assert_eq!(name_id::urn("transient"), Some(name_id::TRANSIENT));
        assert_eq!(name_id::urn("x509SubjectName"), None);
    }
}
