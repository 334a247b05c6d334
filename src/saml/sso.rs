//! The protocol back end of a SAML login: the signed response for a satisfied login, a status
//! for a refused one, and the hand-over to the browser. A response waits under a random
//! single-use token (stored hashed, short-lived) until the browser fetches the page that
//! posts it to the ACS; a success is only handed to the browser of the session it was made
//! for, so a leaked hand-over URL yields nothing.

use super::credential::Credential;
use super::name_id;
use super::response::{self, Envelope, Signing, Statement, Status, class};
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::login::request::{LoginRequest, Refused, SamlAnswer, Wants};
use crate::mfa::assurance::Assurance;
use crate::mfa::policy::Factor;
use crate::state::AppState;
use crate::store::saml::{Delivery, ServiceProvider};
use crate::store::{self, sessions::Session, users::User};

/// How long the browser has to pick a response up.
const DELIVERY_SECONDS: i64 = 120;

/// Path of the hand-over page.
pub const DELIVERY_PATH: &str = "/saml/post";

/// What a user field gives as attribute values.
async fn attribute_values(state: &AppState, user: &User, source: &str) -> AppResult<Vec<String>> {
    Ok(match source {
        "id" => vec![user.id.clone()],
        "username" => vec![user.username.clone()],
        "email" => user.email.clone().into_iter().collect(),
        "name" => user.display_name.clone().into_iter().collect(),
        "groups" => store::users::find_groups(&state.db, &user.id).await?,
        other => other.strip_prefix("static:").map(|v| vec![v.to_owned()]).unwrap_or_default(),
    })
}

async fn find_sp(state: &AppState, app_id: &str) -> AppResult<ServiceProvider> {
    store::saml::find_by_app(&state.db, app_id).await?.ok_or(AppError::NotFound)
}

/// Keeps a signed message for the hand-over page, which posts it to the ACS with the
/// RelayState; returns the page's URL.
pub(super) async fn hand_over(
    state: &AppState,
    a: &SamlAnswer,
    xml: &str,
    session_id: Option<&str>,
) -> AppResult<String> {
    use base64::Engine;
    let token = crypto::random_token();
    let delivery = Delivery {
        session_id: session_id.map(str::to_owned),
        acs_url: a.acs.clone(),
        response: base64::engine::general_purpose::STANDARD.encode(xml).into(),
        relay_state: a.relay_state.clone(),
    };
    store::saml::create_delivery(&state.db, &crypto::token_hash(&token), &delivery, state.now() + DELIVERY_SECONDS)
        .await?;
    Ok(state.url(&format!("{DELIVERY_PATH}?t={token}")))
}

/// How a response to `a` is addressed.
fn envelope<'a>(state: &AppState, issuer: &'a str, a: &'a SamlAnswer) -> Envelope<'a> {
    Envelope { issuer, destination: &a.acs, in_response_to: a.in_response_to.as_deref(), now: state.now() }
}

/// The signed assertion for a satisfied login, ready for the browser: returns the URL of the
/// hand-over page.
pub async fn respond(
    state: &AppState,
    app_id: &str,
    a: &SamlAnswer,
    session: &Session,
    user: &User,
    factor: Option<Factor>,
) -> AppResult<String> {
    let sp = find_sp(state, app_id).await?;
    let idp = super::endpoints(state);
    let cred = super::credential(state).await?;
    let envelope = envelope(state, &idp.entity_id, a);
    let format = name_id::for_assertion(a.name_id_format.as_deref(), &sp.name_id_format);
    let name_id = match format {
        "emailAddress" => user.email.clone(),
        "unspecified" => Some(user.username.clone()),
        // SAML Core §8.3.8: opaque, for this assertion only (kept with the session's SPs so
        // a logout request naming it is recognised).
        "transient" => Some(format!("_{}", hex::encode(crypto::random_bytes::<16>()))),
        _ => Some(user.id.clone()),
    };
    let Some(name_id) = name_id else {
        let status = Status::responder(
            Some(response::status::INVALID_NAME_ID_POLICY),
            "the user has no email address for an emailAddress NameID",
        );
        return status_answer(state, &sp, &envelope, &cred, a, status).await;
    };
    let mut attributes = Vec::with_capacity(sp.attributes.len());
    for a in &sp.attributes {
        attributes.push((a.name.clone(), attribute_values(state, user, &a.source).await?));
    }
    let statement = Statement {
        name_id: &name_id,
        name_id_format: name_id::urn(format).unwrap_or(name_id::PERSISTENT),
        audience: &sp.entity_id,
        session_index: &session.id,
        authn_instant: session.auth_time,
        authn_context: class::answer(Assurance::achieved(factor), &a.requested),
        attributes,
    };
    let xml = response::build(&envelope, &Status::success(), Some(&statement), Signing::of(sp.sign), &cred)?;
    store::saml::add_participant(&state.db, &session.id, &sp.app_id, &name_id, &session.id).await?;
    tracing::info!(sp = %sp.entity_id, user_id = %user.id, session = %session.id, "SAML assertion issued");
    hand_over(state, a, &xml, Some(&session.id)).await
}

/// A status response (no assertion) for a request that is refused: returns the URL of the
/// hand-over page.
pub async fn refuse(state: &AppState, app_id: &str, a: &SamlAnswer, status: Status) -> AppResult<String> {
    let sp = find_sp(state, app_id).await?;
    let idp = super::endpoints(state);
    let cred = super::credential(state).await?;
    status_answer(state, &sp, &envelope(state, &idp.entity_id, a), &cred, a, status).await
}

/// The status response (no assertion) to `sp`, handed over to the browser.
async fn status_answer(
    state: &AppState,
    sp: &ServiceProvider,
    envelope: &Envelope<'_>,
    cred: &Credential,
    a: &SamlAnswer,
    status: Status,
) -> AppResult<String> {
    let xml = response::build(envelope, &status, None, Signing::of(sp.sign), cred)?;
    tracing::info!(sp = %sp.entity_id, status = status.second.unwrap_or(status.code), "SAML request refused");
    hand_over(state, a, &xml, None).await
}

/// The spine's refusal as a status response: a passive request that cannot be answered
/// without pages is `NoPassive`, anything else `RequestDenied`.
pub async fn refuse_login(
    state: &AppState,
    app_id: &str,
    a: &SamlAnswer,
    refused: Refused,
    reason: &str,
) -> AppResult<String> {
    let second = match refused {
        Refused::LoginRequired | Refused::InteractionRequired => response::status::NO_PASSIVE,
        Refused::AccessDenied => response::status::REQUEST_DENIED,
    };
    refuse(state, app_id, a, Status::responder(Some(second), reason)).await
}

/// The hand-over: consumes the token and returns what the page posts, if the browser may
/// have it.
pub async fn take_delivery(state: &AppState, token: &str, session: Option<&Session>) -> AppResult<Option<Delivery>> {
    let Some(d) = store::saml::take_delivery(&state.db, &crypto::token_hash(token), state.now()).await? else {
        return Ok(None);
    };
    match &d.session_id {
        Some(s) if session.map(|x| &x.id) != Some(s) => {
            tracing::warn!("a SAML response was asked for by a browser without its session");
            Ok(None)
        }
        _ => Ok(Some(d)),
    }
}

/// IdP-initiated sign-in (SAML Profiles §4.1.5): an unsolicited response to the SP's default
/// ACS, for SPs registered to accept one. `app` is the app id or the SP's entity ID. The
/// error is a message for a page.
pub async fn idp_initiated(
    state: &AppState,
    app: &str,
    relay_state: Option<&str>,
) -> AppResult<Result<LoginRequest, String>> {
    let sp = match store::saml::find_by_app(&state.db, app).await? {
        Some(sp) => Some(sp),
        None => store::saml::find_by_entity_id(&state.db, app).await?,
    };
    let Some(sp) = sp else { return Ok(Err("This application is not registered.".into())) };
    if !sp.allow_idp_initiated {
        return Ok(Err("This application accepts only sign-ins it starts itself.".into()));
    }
    let relay_state = relay_state.filter(|r| !r.is_empty()).map(str::to_owned).or(sp.default_relay_state.clone());
    if relay_state.as_ref().is_some_and(|r| r.len() > 80) {
        return Ok(Err("RelayState is longer than 80 bytes.".into()));
    }
    let Some(acs) = sp.default_acs() else { return Ok(Err("This application has no response address.".into())) };
    let answer = super::answer_to(&sp, &acs.url, relay_state, None);
    Ok(Ok(super::login_request(state, &sp, Wants::default(), answer)))
}
