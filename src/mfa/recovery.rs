//! The way back in (DESIGN §2): one-time links by email (self-service MFA recovery and
//! password reset) or from an administrator (MFA recovery, with a reason and an expiry).
//!
//! A recovery link never signs anyone in. Opened with the account's password, it starts a
//! recovery session: an MFA transaction that can only enrol a new factor. Proving that factor
//! ends it: the old factors go (or stay, as the user chose), the security event ends every
//! other session, grant, device trust and link, and only then is a session created, holding
//! the new factor. A reset link sets a password and nothing else; the next sign-in still
//! passes the MFA step.
//!
//! Asking for a link by email answers the same whether or not the address belongs to anyone:
//! the caps are counted on the address and the client, before anything is looked up, and the
//! look-up, the link and its message happen after the answer.

use crate::audit::{self, Origin, event};
use crate::crypto::{self, Secret};
use crate::delivery::{self, Channel, Content, Outgoing};
use crate::error::{AppError, AppResult, Msg};
use crate::login::{self, Client, MfaPending};
use crate::mfa::policy::Factor;
use crate::state::AppState;
use crate::store::links::{Link, LinkPurpose};
use crate::store::mfa_transactions::{MfaTransaction, Recovery};
use crate::store::{self, users::User};

/// How long a link sent by email works.
pub fn email_link_seconds(purpose: LinkPurpose) -> i64 {
    match purpose {
        LinkPurpose::MfaRecovery => 3600,
        LinkPurpose::PasswordReset => 1800,
        // Only an administrator invites; this is the default they are offered.
        LinkPurpose::Invitation => 7 * 86_400,
    }
}

/// The longest an administrator's recovery link may live.
pub const ADMIN_LINK_MAX_SECONDS: i64 = 86_400;

/// Where a link opens.
fn link_url(state: &AppState, purpose: LinkPurpose, token: &Secret) -> Secret {
    let path = match purpose {
        LinkPurpose::MfaRecovery => "/recover",
        LinkPurpose::PasswordReset => "/reset-password",
        LinkPurpose::Invitation => "/invite",
    };
    Secret::from(format!("{}?token={}", state.url(path), token.expose()))
}

/// Whether a person can ask for a link of `purpose` by email here: the admin allows it and
/// email can be sent (otherwise the pages say to contact an administrator).
pub async fn self_service(state: &AppState, purpose: LinkPurpose) -> AppResult<bool> {
    let s = store::settings::load(&state.db).await?;
    let on = match purpose {
        LinkPurpose::MfaRecovery => s.self_service_recovery,
        LinkPurpose::PasswordReset => s.self_service_password_reset,
        LinkPurpose::Invitation => false,
    };
    Ok(on && state.delivery.is_available(Channel::Email))
}

/// Asks for a link by email. The answer is `Ok` whether or not the address is anyone's; a
/// refusal depends only on the settings, the address as typed and the client (turned off, not
/// an address, a cap spent). `request_id` is the sign-in to continue after a recovery.
pub async fn request_link(
    state: &AppState,
    purpose: LinkPurpose,
    email: &str,
    request_id: Option<&str>,
    client: &Client,
) -> AppResult<()> {
    if !self_service(state, purpose).await? {
        return Err(AppError::Forbidden(match purpose {
            LinkPurpose::MfaRecovery => {
                "self_service_disabled: recovery by email is turned off here; ask an administrator to help you back in"
                    .into()
            }
            LinkPurpose::PasswordReset => {
                "self_service_disabled: password reset by email is turned off here; ask an administrator".into()
            }
            LinkPurpose::Invitation => "self_service_disabled: invitations come from an administrator".into(),
        }));
    }
    let address = delivery::normalise_email(email).map_err(AppError::BadRequest)?;
    // A request id is 43 characters; anything else cannot name a waiting sign-in.
    let request_id = request_id.filter(|r| r.len() <= 128);
    spend_caps(state, purpose, &address, client).await?;
    // From here on the answer is fixed; whether anyone has the address is found out after it.
    let (state, request_id, origin) = (state.clone(), request_id.map(str::to_owned), client.origin.clone());
    // The mail is in the language of the page that asked for it.
    tokio::spawn(crate::web::i18n::scope(crate::web::i18n::current(), async move {
        if let Err(e) = send_links(&state, purpose, &address, request_id.as_deref(), &origin).await {
            tracing::error!(error = %e, purpose = purpose.as_str(), "sending an account link failed");
        }
    }));
    Ok(())
}

/// Counts a request for a link on its caps: a resend pause and an hourly cap per address, and an
/// hourly cap per client address.
async fn spend_caps(state: &AppState, purpose: LinkPurpose, address: &str, client: &Client) -> AppResult<()> {
    let l = &state.config.limits;
    let to = crypto::token_hash(&address.to_lowercase());
    let ip = super::limits::sender_key(&client.origin);
    let caps = [
        super::limits::Cap {
            key: format!("link:resend:{}:{to}", purpose.as_str()),
            window: l.code_resend_seconds,
            max: 1,
            message: "limit-link-resend",
        },
        super::limits::Cap {
            key: format!("link:to:{to}"),
            window: 3600,
            max: l.codes_per_destination_per_hour,
            message: "limit-link-destination",
        },
        super::limits::Cap {
            key: format!("link:ip:{ip}"),
            window: 3600,
            max: l.codes_per_ip_per_hour,
            message: "limit-link-client",
        },
    ];
    super::limits::spend(state, &caps).await
}

/// Counts one email on the cap of code and link emails in all (the relay's reputation). Only
/// emails that go out count, so asking for links to made-up addresses cannot spend it.
async fn spend_email_cap(state: &AppState) -> AppResult<()> {
    let cap = super::limits::Cap {
        key: "code:email:all".into(),
        window: 3600,
        max: state.config.limits.code_emails_per_hour,
        message: "limit-emails-all",
    };
    super::limits::spend(state, &[cap]).await
}

/// A recovery link for the user of an MFA step in progress ("Lost access?" on the MFA page: the
/// password is already proved, so the page may say where it went). Continues `request_id` once
/// the user is back. The masked address, or `None` when the account has no verified one.
pub async fn request_for_user(
    state: &AppState,
    user: &User,
    request_id: Option<&str>,
    client: &Client,
) -> AppResult<Option<String>> {
    let purpose = LinkPurpose::MfaRecovery;
    if !self_service(state, purpose).await? {
        return Err(AppError::Forbidden(Msg::key("refuse-recovery-off")));
    }
    let Some(address) = user.email.as_deref().filter(|e| user.email_verified && !e.is_empty()) else {
        return Ok(None);
    };
    spend_caps(state, purpose, address, client).await?;
    spend_email_cap(state).await?;
    let spec = LinkSpec {
        purpose,
        ttl_seconds: email_link_seconds(purpose),
        reason: None,
        request_id,
        email_to: Some(address),
    };
    issue(state, user, None, &spec, &client.origin).await?;
    Ok(Some(delivery::mask_email(address)))
}

/// The links of a request by email: one to each active account with that verified address.
async fn send_links(
    state: &AppState,
    purpose: LinkPurpose,
    address: &str,
    request_id: Option<&str>,
    origin: &Origin,
) -> AppResult<()> {
    let users = store::users::find_by_verified_email(&state.db, address).await?;
    if users.is_empty() {
        tracing::info!(purpose = purpose.as_str(), "a link was asked for an address no account has verified");
    }
    for user in users {
        // To the address as the account holds it (the one that was verified), not as typed.
        let Some(to) = user.email.clone() else { continue };
        if let Err(e) = spend_email_cap(state).await {
            tracing::warn!(error = %e, "no link sent: the hourly cap on emails is spent");
            return Ok(());
        }
        // The sign-in to continue, if it is still waiting.
        let request = match request_id {
            Some(id) => pending_request_of(state, id, None).await?.map(|_| id),
            None => None,
        };
        let spec = LinkSpec {
            purpose,
            ttl_seconds: email_link_seconds(purpose),
            reason: None,
            request_id: request,
            email_to: Some(&to),
        };
        issue(state, &user, None, &spec, origin).await?;
    }
    Ok(())
}

/// What a new link is.
pub struct LinkSpec<'a> {
    pub purpose: LinkPurpose,
    pub ttl_seconds: i64,
    /// Why an administrator issued it.
    pub reason: Option<&'a str>,
    pub request_id: Option<&'a str>,
    /// The address to email it to; `None` hands it to the caller only.
    pub email_to: Option<&'a str>,
}

/// A link that was issued: its address (shown once) and when it stops working.
#[derive(Debug)]
pub struct Issued {
    pub url: Secret,
    pub expires_at: i64,
}

/// Issues a link for `user` (ending their earlier unused ones of the same purpose) and queues
/// its email in the same transaction. `admin` is the administrator who issued it, if one did.
pub async fn issue(
    state: &AppState,
    user: &User,
    admin: Option<&crate::admin::Admin>,
    spec: &LinkSpec<'_>,
    origin: &Origin,
) -> AppResult<Issued> {
    // The operator at the command line has no account: named as such.
    let issuer_id = admin.map(|a| a.actor_id().unwrap_or("operator").to_owned());
    let issuer_name = admin.map(|a| a.user().map_or("the operator", |u| u.username.as_str()).to_owned());
    let now = state.now();
    let token = Secret::random();
    let url = link_url(state, spec.purpose, &token);
    let link = Link {
        token_hash: crypto::token_hash(&token),
        user_id: user.id.clone(),
        purpose: spec.purpose,
        issued_by: issuer_id,
        reason: spec.reason.map(str::to_owned),
        request_id: spec.request_id.map(str::to_owned),
        created_at: now,
        expires_at: now + spec.ttl_seconds,
        used_at: None,
    };
    let msg = match spec.email_to {
        Some(to) => Some(delivery::prepare(
            state,
            Outgoing {
                channel: Channel::Email,
                to: to.to_owned(),
                user_id: Some(user.id.clone()),
                content: match spec.purpose {
                    LinkPurpose::Invitation => Content::Invitation {
                        url: url.clone(),
                        days: spec.ttl_seconds / 86_400,
                        issued_by: issuer_name,
                    },
                    _ => Content::Link {
                        url: url.clone(),
                        recovery: spec.purpose == LinkPurpose::MfaRecovery,
                        minutes: spec.ttl_seconds / 60,
                        issued_by: issuer_name,
                    },
                },
                ttl_seconds: Some(spec.ttl_seconds),
            },
        )?),
        None => None,
    };
    store::links::issue(&state.db, &link, msg.as_ref()).await?;
    if msg.is_some() {
        state.delivery.wake();
    }
    let e = match spec.purpose {
        LinkPurpose::MfaRecovery => event::RECOVERY_REQUESTED,
        LinkPurpose::PasswordReset => event::PASSWORD_RESET_REQUESTED,
        LinkPurpose::Invitation => event::USER_INVITED,
    };
    let detail = serde_json::json!({
        "by": if admin.is_some() { "admin" } else { "email" },
        "reason": spec.reason,
        "expires_at": link.expires_at,
        "emailed_to": spec.email_to.map(delivery::mask_email),
    })
    .to_string();
    audit::Record::new(e, Some(&user.id), None, origin, Some(&detail))
        .by(admin.and_then(|a| a.actor_id()))
        .write(state)
        .await?;
    Ok(Issued { url, expires_at: link.expires_at })
}

/// The waiting sign-in `request_id`, if it is still waiting (and, with `app`, for that app).
async fn pending_request_of(
    state: &AppState,
    request_id: &str,
    app: Option<&str>,
) -> AppResult<Option<crate::login::request::LoginRequest>> {
    let req = store::sessions::find_auth_request(&state.db, request_id, state.now()).await?;
    Ok(req.filter(|r| app.is_none_or(|a| a == r.app_id)))
}

/// The live link of `purpose` behind `token` and its (active) user, without using it.
pub async fn peek(state: &AppState, token: &str, purpose: LinkPurpose) -> AppResult<(Link, User)> {
    let link = store::links::find_live(&state.db, &crypto::token_hash(token), purpose, state.now())
        .await?
        .ok_or(AppError::InvalidLink)?;
    let user = store::users::find_by_id(&state.db, &link.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(AppError::InvalidLink)?;
    Ok((link, user))
}

/// Opens a recovery link: with the account's password (when it has one), the link is used and
/// a recovery session begins, which can only enrol one of the factors the admin allows.
/// `keep_old`: the old factors stay after the new one is proved (otherwise they are removed).
pub async fn open(
    state: &AppState,
    token: &str,
    password: &str,
    keep_old: bool,
    client: &Client,
) -> AppResult<MfaPending> {
    let (link, user) = peek(state, token, LinkPurpose::MfaRecovery).await?;
    // The link proves the mailbox (or the administrator's say-so); the password is the first
    // factor, as at every sign-in.
    if user.password_hash.is_some() && !login::confirm_password(state, &user, password, client).await? {
        return Err(AppError::InvalidCredentials);
    }
    let enroll = super::manage::allowed_factors(state).await?;
    if enroll.is_empty() {
        return Err(AppError::Forbidden(Msg::key("refuse-recovery-no-factor")));
    }
    let link = store::links::take(&state.db, &link.token_hash, LinkPurpose::MfaRecovery, state.now())
        .await?
        .ok_or(AppError::InvalidLink)?;
    let request = match &link.request_id {
        Some(id) => pending_request_of(state, id, None).await?,
        None => None,
    };
    let recovery = if keep_old { Recovery::Keep } else { Recovery::Replace };
    let detail = serde_json::json!({
        "issued_by": link.issued_by,
        "reason": link.reason,
        "old_factors": recovery.as_str(),
    })
    .to_string();
    let record = audit::Record::new(event::RECOVERY_STARTED, Some(&user.id), None, &client.origin, Some(&detail));
    let start = login::RecoveryStart { user: &user, enroll, recovery, request: request.as_ref(), audit: &record };
    login::start_recovery(state, start).await
}

/// The end of a recovery session, once its new factor is proved and before its session is
/// created: the old factors go (with `Replace`), and the security event ends everything that
/// was signed in or trusted before.
pub async fn complete(
    state: &AppState,
    txn: &MfaTransaction,
    user: &User,
    recovery: Recovery,
    factor: Factor,
    origin: &Origin,
) -> AppResult<()> {
    let removed = match recovery {
        Recovery::Replace => store::factors::delete_older_than(&state.db, &user.id, txn.created_at).await?,
        Recovery::Keep => 0,
    };
    let detail = serde_json::json!({
        "factor": factor,
        "old_factors": recovery.as_str(),
        "removed": removed,
    })
    .to_string();
    audit::record(state, event::RECOVERY_USED, Some(&user.id), txn.app_id.as_deref(), origin, Some(&detail)).await?;
    crate::admin::security::apply(state, &user.id, crate::admin::security::SecurityEvent::RecoveryUsed, None, origin)
        .await
}
