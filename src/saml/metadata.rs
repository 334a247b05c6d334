//! SAML metadata (SAML Metadata 2.0): the IdP's own EntityDescriptor, and reading a service
//! provider's EntityDescriptor when an admin imports it.

use std::str::FromStr;

use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{Endpoint, EntityDescriptor, IdpSsoDescriptor, KeyDescriptor};
use samael::traits::ToXml;

use super::{MAX_DOCUMENT_BYTES, binding, name_id, screen_xml};
use crate::error::{AppError, AppResult};
use crate::store::saml::Acs;

/// The IdP's endpoints, as published.
pub struct IdpEndpoints {
    pub entity_id: String,
    pub sso_url: String,
    pub slo_url: String,
}

/// The IdP's EntityDescriptor: signing certificate, SSO and SLO endpoints for both bindings,
/// and the NameID formats it can issue. Requests need not be signed unless a service
/// provider's registration says so (`WantAuthnRequestsSigned` is per SP here).
pub fn idp_metadata(e: &IdpEndpoints, certificate_base64: &str) -> AppResult<String> {
    let endpoints = |url: &str| {
        [binding::HTTP_REDIRECT, binding::HTTP_POST]
            .iter()
            .map(|b| Endpoint { binding: (*b).to_owned(), location: url.to_owned(), response_location: None })
            .collect::<Vec<_>>()
    };
    let descriptor = IdpSsoDescriptor {
        id: None,
        valid_until: None,
        cache_duration: None,
        protocol_support_enumeration: Some(super::ns::PROTOCOL.to_owned()),
        error_url: None,
        signature: None,
        key_descriptors: vec![KeyDescriptor {
            key_use: Some("signing".to_owned()),
            key_info: KeyInfo {
                id: None,
                x509_data: Some(X509Data { certificates: vec![certificate_base64.to_owned()] }),
            },
            encryption_methods: None,
        }],
        organization: None,
        contact_people: vec![],
        artifact_resolution_service: vec![],
        single_logout_services: vec![Endpoint {
            binding: binding::HTTP_REDIRECT.to_owned(),
            location: e.slo_url.clone(),
            response_location: None,
        }],
        manage_name_id_services: vec![],
        name_id_formats: [name_id::PERSISTENT, name_id::TRANSIENT, name_id::EMAIL, name_id::UNSPECIFIED]
            .iter()
            .map(|f| (*f).to_owned())
            .collect(),
        want_authn_requests_signed: None,
        single_sign_on_services: endpoints(&e.sso_url),
        name_id_mapping_services: vec![],
        assertion_id_request_services: vec![],
        attribute_profiles: vec![],
        attributes: vec![],
    };
    let entity = EntityDescriptor {
        entity_id: Some(e.entity_id.clone()),
        idp_sso_descriptors: Some(vec![descriptor]),
        ..EntityDescriptor::default()
    };
    entity.to_string().map_err(|err| AppError::internal(format!("IdP metadata: {err}")))
}

/// What an SP's metadata says about it. Fields the metadata does not carry stay `None`.
#[derive(Debug, Default)]
pub struct SpMetadata {
    pub entity_id: String,
    pub acs: Vec<Acs>,
    pub slo: Option<(String, String)>,
    /// Base64 DER of the signing certificate.
    pub certificate: Option<String>,
    pub authn_requests_signed: Option<bool>,
    /// The first NameID format the SP lists that Portcullis issues, as a short name.
    pub name_id_format: Option<String>,
}

/// Reads an SP's EntityDescriptor. Refuses documents with a DTD, oversized documents, and
/// metadata without an SPSSODescriptor or without an ACS on a binding we answer on (POST).
pub fn parse_sp_metadata(xml: &str) -> AppResult<SpMetadata> {
    let bad = |m: &str| AppError::BadRequest(crate::error::Msg::key("adm-err-sp-metadata").with("why", m));
    screen_xml(xml.as_bytes(), MAX_DOCUMENT_BYTES).map_err(|e| bad(&e))?;
    match super::xml::root(xml) {
        Ok((ns, local)) if ns == super::ns::METADATA && local == "EntityDescriptor" => {}
        Ok(_) => return Err(bad("the document is not an md:EntityDescriptor")),
        Err(e) => return Err(bad(&e)),
    }
    let entity = EntityDescriptor::from_str(xml).map_err(|e| bad(&format!("not an EntityDescriptor ({e})")))?;
    let entity_id = entity.entity_id.clone().filter(|s| !s.is_empty()).ok_or_else(|| bad("no entityID"))?;
    let sp = entity.sp_sso_descriptors.as_ref().and_then(|d| d.first()).ok_or_else(|| bad("no SPSSODescriptor"))?;
    let acs: Vec<Acs> = sp
        .assertion_consumer_services
        .iter()
        .filter(|a| a.binding == binding::HTTP_POST)
        .map(|a| Acs {
            url: a.location.clone(),
            index: a.index as u32,
            binding: a.binding.clone(),
            is_default: a.is_default.unwrap_or(false),
        })
        .collect();
    if acs.is_empty() {
        return Err(bad("no AssertionConsumerService with the HTTP-POST binding"));
    }
    // Logout responses go out with HTTP-Redirect where the SP takes it, else HTTP-POST.
    let slo_with = |b: &str| sp.single_logout_services.iter().flatten().find(|s| s.binding == b);
    let slo = slo_with(binding::HTTP_REDIRECT)
        .or_else(|| slo_with(binding::HTTP_POST))
        .map(|s| (s.response_location.clone().unwrap_or_else(|| s.location.clone()), s.binding.clone()));
    let certificate = sp
        .key_descriptors
        .iter()
        .flatten()
        .filter(|k| k.key_use.as_deref().is_none_or(|u| u == "signing"))
        .find_map(|k| k.key_info.x509_data.as_ref()?.certificates.first().cloned())
        .map(|c| c.split_whitespace().collect::<String>());
    let name_id_format =
        sp.name_id_formats.iter().flatten().find_map(|f| name_id::short_name(f.trim())).map(str::to_owned);
    Ok(SpMetadata { entity_id, acs, slo, certificate, authn_requests_signed: sp.authn_requests_signed, name_id_format })
}
