//! SP-initiated single logout (SAML Profiles §4.4): a LogoutRequest over HTTP-Redirect ends
//! the browser's SSO session everywhere when it names the principal that SP was given in that
//! session, and a LogoutResponse goes back to the SP's registered SLO URL (HTTP-Redirect with
//! a query signature, or HTTP-POST through the hand-over page with an enveloped signature).
//! An SP with a registered certificate must sign its requests.

use samael::schema::LogoutRequest;

use super::request::{self, Binding, CLOCK_SKEW_SECONDS, MAX_AGE_SECONDS};
use super::response::{self, Envelope, Status, status};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{self, sessions::Session};

pub enum Outcome {
    /// Where the browser goes with the LogoutResponse; `ended` when the session was ended.
    Redirect { url: String, ended: bool },
    /// The request could not be answered to any registered SP: a page.
    Page(String),
}

pub async fn logout(
    state: &AppState,
    saml_request: &str,
    relay_state: Option<&str>,
    raw_query: &str,
    session: Option<&Session>,
) -> AppResult<Outcome> {
    let (xml, shape, issuer) = match request::inspect_untrusted(Binding::Redirect, saml_request, "LogoutRequest") {
        Ok(v) => v,
        Err(e) => return Ok(Outcome::Page(e)),
    };
    let Some(sp) = store::saml::find_by_entity_id(&state.db, &issuer).await? else {
        return Ok(Outcome::Page("The service provider that sent you here is not registered.".into()));
    };
    let Some(slo_url) = sp.slo_url.clone() else {
        return Ok(Outcome::Page("No single logout address is registered for this service provider.".into()));
    };
    let Ok(parsed) = xml.parse::<LogoutRequest>() else {
        return Ok(Outcome::Page("The request is not a valid LogoutRequest.".into()));
    };
    let now = state.now();
    let relay_state = relay_state.filter(|r| !r.is_empty() && r.len() <= 80);
    let idp = super::endpoints(state);
    let verdict = check(state, &sp, &parsed, raw_query, now, &idp.slo_url, session).await?;
    let ended = session.is_some() && verdict.code == status::SUCCESS;
    let cred = super::credential(state).await?;
    let envelope = Envelope { issuer: &idp.entity_id, destination: &slo_url, in_response_to: Some(&shape.id), now };
    let (id, xml) = response::logout_response(&envelope, &verdict);
    if sp.slo_binding.as_deref() == Some(super::binding::HTTP_POST) {
        let signed = response::sign_enveloped(&xml, &id, &cred)?;
        let to = super::answer_to(&sp, &slo_url, relay_state.map(str::to_owned), None);
        return Ok(Outcome::Redirect { url: super::sso::hand_over(state, &to, &signed, None).await?, ended });
    }
    Ok(Outcome::Redirect { url: response::redirect_url(&slo_url, &xml, relay_state, &cred)?, ended })
}

/// Decides the request; ends the session when it should. Returns the status to answer.
async fn check(
    state: &AppState,
    sp: &store::saml::ServiceProvider,
    parsed: &LogoutRequest,
    raw_query: &str,
    now: i64,
    our_slo_url: &str,
    session: Option<&Session>,
) -> AppResult<Status> {
    if parsed.destination.as_deref().is_some_and(|d| d != our_slo_url) {
        return Ok(Status::requester(None, "the request's Destination is not this endpoint"));
    }
    let signed = raw_query.split('&').any(|p| p.starts_with("Signature="));
    if let Some(cert) = &sp.certificate {
        use base64::Engine;
        let Ok(der) = base64::engine::general_purpose::STANDARD.decode(cert) else {
            return Ok(Status::responder(None, "the SP's certificate cannot be read"));
        };
        if !signed {
            return Ok(Status::requester(Some(status::REQUEST_DENIED), "logout requests must be signed"));
        }
        if let Err(e) = request::verify_redirect(raw_query, &der) {
            return Ok(Status::requester(Some(status::REQUEST_DENIED), e));
        }
    }
    let issued = parsed.issue_instant.map(|i| i.timestamp()).unwrap_or(0);
    if issued > now + CLOCK_SKEW_SECONDS || issued < now - MAX_AGE_SECONDS - CLOCK_SKEW_SECONDS {
        return Ok(Status::requester(Some(status::REQUEST_DENIED), "the request is not fresh"));
    }
    let name_id = parsed.name_id.as_ref().map(|n| n.value.trim().to_owned()).unwrap_or_default();
    let Some(session) = session else {
        // Nothing to end: this browser has no session any more.
        return Ok(Status::success());
    };
    match store::saml::find_participant(&state.db, &session.id, &sp.app_id).await? {
        Some(n) if n == name_id => {
            crate::login::end_session(state, &session.id).await?;
            tracing::info!(sp = %sp.entity_id, session = %session.id, "SAML single logout");
            Ok(Status::success())
        }
        Some(_) => Ok(Status::requester(Some(status::UNKNOWN_PRINCIPAL), "the session belongs to someone else")),
        None => Ok(Status::requester(
            Some(status::UNKNOWN_PRINCIPAL),
            "this service provider has no part in the browser's session",
        )),
    }
}
