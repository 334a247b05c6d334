//! A namespace-aware look at an incoming SAML message before anything trusts it: the root
//! element must be the expected protocol element in the SAML protocol namespace, nesting is
//! bounded (the serde parser recurses), IDs are unique, and an enveloped signature must be a
//! direct child of the root that references the root's own ID. This shuts out messages in
//! foreign namespaces and signature-wrapping tricks, where a valid signature over one element
//! is presented beside another element that is then read.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::ns;

/// The deepest element nesting a SAML request needs is well under this.
const MAX_DEPTH: usize = 24;
/// Elements in one request; real ones have a handful.
const MAX_ELEMENTS: usize = 512;

const DSIG: &[u8] = b"http://www.w3.org/2000/09/xmldsig#";
const ASSERTION: &[u8] = b"urn:oasis:names:tc:SAML:2.0:assertion";

/// What the inspection found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// The root's `ID`.
    pub id: String,
    /// The `Issuer` child of the root, in the assertion namespace.
    pub issuer: Option<String>,
    /// `Reference/@URI` of the root's enveloped signature, when there is one.
    pub signature_reference: Option<String>,
}

/// Checks the message's structure; `root` is the expected local name (`AuthnRequest`,
/// `LogoutRequest`) in the SAML protocol namespace.
pub fn inspect(xml: &str, root: &str) -> Result<Shape, String> {
    let mut reader = NsReader::from_str(xml);
    let mut depth = 0usize;
    let mut elements = 0usize;
    let mut ids: Vec<String> = vec![];
    let mut shape = Shape::default();
    let mut signatures = 0usize;
    let mut seen_root = false;
    // Where we are: (namespace, local name) of each open element.
    let mut path: Vec<(Vec<u8>, Vec<u8>)> = vec![];
    let mut in_issuer = false;
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|e| format!("malformed XML: {e}"))?;
        let namespace = match resolved {
            ResolveResult::Bound(n) => n.0.to_vec(),
            ResolveResult::Unbound => vec![],
            ResolveResult::Unknown(p) => {
                return Err(format!("undeclared namespace prefix `{}`", String::from_utf8_lossy(&p)));
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err("too many elements".into());
                }
                let local = e.local_name().as_ref().to_vec();
                if path.is_empty() {
                    if seen_root {
                        return Err("more than one root element".into());
                    }
                    seen_root = true;
                    if namespace != ns::PROTOCOL.as_bytes() || local != root.as_bytes() {
                        return Err(format!("the message is not a samlp:{root}"));
                    }
                }
                for a in e.attributes() {
                    let a = a.map_err(|e| format!("malformed attribute: {e}"))?;
                    let key = a.key.as_ref();
                    if key == b"ID" || key == b"Id" {
                        let v = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| format!("malformed attribute: {e}"))?
                            .into_owned();
                        if ids.contains(&v) {
                            return Err(format!("duplicate ID `{v}`"));
                        }
                        if path.is_empty() {
                            shape.id = v.clone();
                        }
                        ids.push(v);
                    }
                    if key == b"URI" && local == b"Reference" && namespace == DSIG && signatures == 1 {
                        let in_root_signature = path.len() == 3 && path[1].1 == b"Signature";
                        if in_root_signature && shape.signature_reference.is_none() {
                            let v = a
                                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map_err(|e| format!("malformed attribute: {e}"))?;
                            shape.signature_reference = Some(v.into_owned());
                        }
                    }
                }
                if namespace == DSIG && local == b"Signature" {
                    signatures += 1;
                    if path.len() != 1 || signatures > 1 {
                        return Err("a signature may only be the message's own, enveloped one".into());
                    }
                }
                if path.len() == 1 && namespace == ASSERTION && local == b"Issuer" && !empty {
                    if shape.issuer.is_some() {
                        return Err("more than one Issuer".into());
                    }
                    in_issuer = true;
                    shape.issuer = Some(String::new());
                }
                if !empty {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err("elements are nested too deeply".into());
                    }
                    path.push((namespace, local));
                }
            }
            Event::End(_) => {
                path.pop();
                depth = depth.saturating_sub(1);
                in_issuer = false;
            }
            Event::Text(t) if in_issuer => {
                let text = t.decode().map_err(|e| format!("malformed text: {e}"))?;
                let text = quick_xml::escape::unescape(&text).map_err(|e| format!("malformed text: {e}"))?;
                if let Some(i) = shape.issuer.as_mut() {
                    i.push_str(&text);
                }
            }
            Event::GeneralRef(r) if in_issuer => {
                // Only the predefined entities and character references exist without a DTD.
                let name = r.decode().map_err(|e| format!("malformed reference: {e}"))?;
                let text = format!("&{name};");
                let resolved = quick_xml::escape::unescape(&text).map_err(|e| format!("malformed reference: {e}"))?;
                if let Some(i) = shape.issuer.as_mut() {
                    i.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err("document type declarations are not allowed".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err("the message is empty".into());
    }
    if shape.id.is_empty() {
        return Err("the message has no ID".into());
    }
    if let Some(i) = shape.issuer.as_mut() {
        *i = i.trim().to_owned();
    }
    if signatures == 1 && shape.signature_reference.as_deref() != Some(&format!("#{}", shape.id)) {
        return Err("the signature does not cover the message".into());
    }
    Ok(shape)
}

/// The root element's namespace and local name.
pub fn root(xml: &str) -> Result<(String, String), String> {
    let mut reader = NsReader::from_str(xml);
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|e| format!("malformed XML: {e}"))?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let namespace = match resolved {
                    ResolveResult::Bound(n) => String::from_utf8_lossy(n.0).into_owned(),
                    _ => String::new(),
                };
                return Ok((namespace, String::from_utf8_lossy(e.local_name().as_ref()).into_owned()));
            }
            Event::Eof => return Err("the document is empty".into()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
    const A: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

    fn req(inner: &str) -> String {
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="{P}" xmlns:saml="{A}" ID="_r1" Version="2.0">{inner}</samlp:AuthnRequest>"#
        )
    }

    #[test]
    fn accepts_a_plain_request() {
        let s = inspect(&req("<saml:Issuer> https://sp.example </saml:Issuer>"), "AuthnRequest").unwrap();
        assert_eq!(s.id, "_r1");
        assert_eq!(s.issuer.as_deref(), Some("https://sp.example"));
        assert_eq!(s.signature_reference, None);
    }

    #[test]
    fn refuses_foreign_namespaces_and_roots() {
        let foreign = r#"<AuthnRequest xmlns="urn:evil" ID="x"/>"#;
        assert!(inspect(foreign, "AuthnRequest").unwrap_err().contains("not a samlp:AuthnRequest"));
        let other = format!(r#"<samlp:Response xmlns:samlp="{P}" ID="x"/>"#);
        assert!(inspect(&other, "AuthnRequest").is_err());
        assert!(inspect(r#"<samlp:AuthnRequest ID="x"/>"#, "AuthnRequest").unwrap_err().contains("undeclared"));
    }

    #[test]
    fn refuses_duplicate_ids_deep_nesting_and_stray_signatures() {
        let dup = req(r#"<saml:Issuer>x</saml:Issuer><samlp:Extensions><x ID="_r1"/></samlp:Extensions>"#);
        assert!(inspect(&dup, "AuthnRequest").unwrap_err().contains("duplicate ID"));
        let deep = req(&format!("{}{}", "<a>".repeat(40), "</a>".repeat(40)));
        assert!(inspect(&deep, "AuthnRequest").unwrap_err().contains("nested"));
        let stray = req(
            r#"<samlp:Extensions><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></samlp:Extensions>"#,
        );
        assert!(inspect(&stray, "AuthnRequest").unwrap_err().contains("enveloped"));
        let elsewhere = req(
            r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI="#other"/></ds:SignedInfo></ds:Signature>"##,
        );
        assert!(inspect(&elsewhere, "AuthnRequest").unwrap_err().contains("does not cover"));
        let own = req(
            r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI="#_r1"/></ds:SignedInfo></ds:Signature>"##,
        );
        assert_eq!(inspect(&own, "AuthnRequest").unwrap().signature_reference.as_deref(), Some("#_r1"));
    }
}
