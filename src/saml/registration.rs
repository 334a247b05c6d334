//! Registering a service provider: an SP's metadata and the admin's fields checked against
//! SAML (entity ID, ACS, SLO, certificate, NameID format, attributes, signing) into the
//! `ServiceProvider` the IdP answers. Storing it and auditing it is the admin's (`admin/`).

use crate::error::{AppError, AppResult, Msg};
use crate::store::saml::{Acs, AttributeMapping, ServiceProvider, SignedParts};

/// A SAML service provider to register. Every field but `name` may come from the SP's
/// metadata (`metadata`); fields given here win over the metadata's.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SamlAppSpec {
    pub name: String,
    /// The SP's EntityDescriptor (XML), to import.
    #[serde(default)]
    pub metadata: Option<String>,
    #[serde(default)]
    pub entity_id: Option<String>,
    /// ACS URLs (HTTP-POST): the first is the default, indexes follow the order.
    #[serde(default)]
    pub acs_urls: Vec<String>,
    #[serde(default)]
    pub slo_url: Option<String>,
    /// The SP's signing certificate, PEM or base64 DER.
    #[serde(default)]
    pub certificate: Option<String>,
    #[serde(default)]
    pub want_requests_signed: Option<bool>,
    /// `persistent` (default), `transient`, `emailAddress` or `unspecified`.
    #[serde(default)]
    pub name_id_format: Option<String>,
    /// SAML attribute name → user field (`id`, `username`, `email`, `name`, `groups`) or a
    /// fixed value (`static:VALUE`). Defaults to email, name, username and groups.
    #[serde(default)]
    pub attributes: Option<Vec<AttributeMapping>>,
    /// What to sign: `assertion`, `response` or `both` (default).
    #[serde(default)]
    pub sign: Option<String>,
    #[serde(default)]
    pub allow_idp_initiated: bool,
    #[serde(default)]
    pub default_relay_state: Option<String>,
}

/// The user fields a SAML attribute can carry.
pub const SAML_ATTRIBUTE_SOURCES: &[&str] = &["id", "username", "email", "name", "groups"];

fn default_saml_attributes() -> Vec<AttributeMapping> {
    ["email", "name", "username", "groups"]
        .iter()
        .map(|s| AttributeMapping { name: (*s).to_owned(), source: (*s).to_owned() })
        .collect()
}

/// Reads a certificate given as PEM or bare base64 DER, and returns it as one-line base64.
fn normalise_certificate(text: &str) -> AppResult<String> {
    use base64::Engine;
    let b64: String =
        text.lines().filter(|l| !l.trim_start().starts_with("-----")).flat_map(|l| l.split_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .map_err(|_| AppError::BadRequest(crate::error::Msg::key("adm-err-sp-cert-encoding")))?;
    openssl::x509::X509::from_der(&der).map_err(|_| AppError::BadRequest(crate::error::Msg::key("adm-err-sp-cert")))?;
    Ok(b64)
}

/// The service provider a registration describes, checked: the SAML side here, each URL by
/// `check_url(what, url)` (the admin's rules for every app's URLs). `app_id` is the new app's.
pub fn service_provider(
    spec: SamlAppSpec,
    app_id: String,
    check_url: &dyn Fn(&str, &str) -> AppResult<()>,
) -> AppResult<ServiceProvider> {
    if spec.name.trim().is_empty() {
        return Err(AppError::BadRequest(Msg::key("adm-err-app-name")));
    }
    let meta = match &spec.metadata {
        Some(xml) => Some(super::metadata::parse_sp_metadata(xml)?),
        None => None,
    };
    let entity_id = spec
        .entity_id
        .or_else(|| meta.as_ref().map(|m| m.entity_id.clone()))
        .ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-saml-entity-required")))?;
    // SAML Core §8.3.6: entity identifiers are URIs of at most 1024 characters.
    if entity_id.trim() != entity_id || entity_id.is_empty() || entity_id.len() > 1024 {
        return Err(AppError::BadRequest(Msg::key("adm-err-saml-entity")));
    }
    let acs: Vec<Acs> = if spec.acs_urls.is_empty() {
        meta.as_ref().map(|m| m.acs.clone()).unwrap_or_default()
    } else {
        spec.acs_urls
            .iter()
            .enumerate()
            .map(|(i, url)| Acs {
                url: url.clone(),
                index: i as u32,
                binding: super::binding::HTTP_POST.into(),
                is_default: i == 0,
            })
            .collect()
    };
    if acs.is_empty() {
        return Err(AppError::BadRequest(Msg::key("adm-err-saml-acs-required")));
    }
    for a in &acs {
        check_url("ACS URL", &a.url)?;
    }
    let mut indexes: Vec<u32> = acs.iter().map(|a| a.index).collect();
    indexes.sort_unstable();
    indexes.dedup();
    if indexes.len() != acs.len() {
        return Err(AppError::BadRequest(Msg::key("adm-err-saml-acs-index")));
    }
    if acs.iter().filter(|a| a.is_default).count() > 1 {
        return Err(AppError::BadRequest(Msg::key("adm-err-saml-acs-default")));
    }
    let (slo_url, slo_binding) = match (spec.slo_url, meta.as_ref().and_then(|m| m.slo.clone())) {
        (Some(url), _) => (Some(url), Some(super::binding::HTTP_REDIRECT.to_owned())),
        (None, Some((url, binding))) => (Some(url), Some(binding)),
        (None, None) => (None, None),
    };
    if let Some(u) = &slo_url {
        check_url("SLO URL", u)?;
    }
    let certificate = match spec.certificate.or_else(|| meta.as_ref().and_then(|m| m.certificate.clone())) {
        Some(c) => Some(normalise_certificate(&c)?),
        None => None,
    };
    let want_requests_signed =
        spec.want_requests_signed.or_else(|| meta.as_ref().and_then(|m| m.authn_requests_signed)).unwrap_or(false);
    if want_requests_signed && certificate.is_none() {
        return Err(AppError::BadRequest(Msg::key("adm-err-saml-signed-needs-cert")));
    }
    let name_id_format = spec
        .name_id_format
        .or_else(|| meta.as_ref().and_then(|m| m.name_id_format.clone()))
        .unwrap_or_else(|| "persistent".into());
    if super::name_id::urn(&name_id_format).is_none() {
        return Err(AppError::BadRequest(
            Msg::key("adm-err-saml-nameid")
                .with("format", &name_id_format)
                .with("known", super::name_id::SHORT_NAMES.join(", ")),
        ));
    }
    let attributes = spec.attributes.unwrap_or_else(default_saml_attributes);
    for (i, a) in attributes.iter().enumerate() {
        if a.name.trim().is_empty() || a.name.len() > 256 {
            return Err(AppError::BadRequest(Msg::key("adm-err-saml-attribute-name")));
        }
        if attributes[..i].iter().any(|b| b.name == a.name) {
            return Err(AppError::BadRequest(Msg::key("adm-err-saml-attribute-twice").with("name", &a.name)));
        }
        if !SAML_ATTRIBUTE_SOURCES.contains(&a.source.as_str()) && !a.source.starts_with("static:") {
            return Err(AppError::BadRequest(
                Msg::key("adm-err-saml-attribute-source")
                    .with("name", &a.name)
                    .with("source", &a.source)
                    .with("known", SAML_ATTRIBUTE_SOURCES.join(", ")),
            ));
        }
    }
    let sign = match spec.sign.as_deref() {
        None => SignedParts::Both,
        Some(s) => {
            SignedParts::parse(s).ok_or_else(|| AppError::BadRequest(Msg::key("adm-err-saml-sign").with("value", s)))?
        }
    };
    // SAML Bindings §3.4.3: RelayState is at most 80 bytes.
    if spec.default_relay_state.as_ref().is_some_and(|r| r.len() > 80) {
        return Err(AppError::BadRequest(Msg::key("adm-err-saml-relay")));
    }
    let sp = ServiceProvider {
        app_id,
        name: spec.name.trim().to_owned(),
        entity_id,
        acs,
        slo_url,
        slo_binding,
        certificate,
        want_requests_signed,
        name_id_format,
        attributes,
        sign,
        allow_idp_initiated: spec.allow_idp_initiated,
        default_relay_state: spec.default_relay_state,
    };
    Ok(sp)
}
