//! The one error type. Protocol errors carry their standard code; everything else is
//! logged in detail and answered with generic text.

use std::fmt;

/// OAuth 2.0 / OpenID Connect error codes. The string is the code the standard defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// RFC 6749 §4.1.2.1, §5.2: missing or malformed parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: code or refresh token invalid, expired, revoked or not this client's.
    InvalidGrant,
    /// RFC 6749 §4.1.2.1, §5.2: client may not use this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1, §5.2.
    InvalidScope,
    /// RFC 6749 §4.1.2.1.
    AccessDenied,
    /// RFC 6749 §4.1.2.1.
    ServerError,
    /// RFC 6749 §4.1.2.1.
    TemporarilyUnavailable,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` but the user must sign in.
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6.
    InteractionRequired,
    /// OpenID Connect Core §3.1.2.6: `request` parameter not supported.
    RequestNotSupported,
    /// OpenID Connect Core §3.1.2.6: `request_uri` parameter not supported.
    RequestUriNotSupported,
    /// OpenID Connect Core §3.1.2.6: `registration` parameter not supported.
    RegistrationNotSupported,
    /// RFC 6750 §3.1: bearer token invalid.
    InvalidToken,
    /// RFC 7009 §2.2.1.
    UnsupportedTokenType,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        use OAuthErrorCode::*;
        match self {
            InvalidRequest => "invalid_request",
            InvalidClient => "invalid_client",
            InvalidGrant => "invalid_grant",
            UnauthorizedClient => "unauthorized_client",
            UnsupportedGrantType => "unsupported_grant_type",
            UnsupportedResponseType => "unsupported_response_type",
            InvalidScope => "invalid_scope",
            AccessDenied => "access_denied",
            ServerError => "server_error",
            TemporarilyUnavailable => "temporarily_unavailable",
            LoginRequired => "login_required",
            InteractionRequired => "interaction_required",
            RequestNotSupported => "request_not_supported",
            RequestUriNotSupported => "request_uri_not_supported",
            RegistrationNotSupported => "registration_not_supported",
            InvalidToken => "invalid_token",
            UnsupportedTokenType => "unsupported_token_type",
        }
    }

    /// HTTP status for a token-endpoint style JSON error (RFC 6749 §5.2, RFC 6750 §3.1).
    pub fn http_status(self) -> u16 {
        match self {
            OAuthErrorCode::InvalidClient | OAuthErrorCode::InvalidToken => 401,
            OAuthErrorCode::ServerError => 500,
            OAuthErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message for a person: either text as it is (details from a parser, in English), or a
/// catalogue key with its values, put into words in the reader's language when it is shown.
/// JSON answers always carry the English text, so API clients see stable wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Text(String),
    Key { key: &'static str, args: Vec<(&'static str, String)> },
}

impl Msg {
    /// The message `key` of the catalogues (`src/web/locales`).
    pub fn key(key: &'static str) -> Msg {
        Msg::Key { key, args: Vec::new() }
    }

    /// The same message with the value `name`.
    pub fn with(self, name: &'static str, value: impl fmt::Display) -> Msg {
        match self {
            Msg::Key { key, mut args } => {
                args.push((name, value.to_string()));
                Msg::Key { key, args }
            }
            text => text,
        }
    }

    /// In `lang`'s words.
    pub fn in_lang(&self, lang: crate::web::i18n::Lang) -> String {
        match self {
            Msg::Text(t) => t.clone(),
            Msg::Key { key, args } => {
                let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                crate::web::i18n::text_in(lang, key, &args)
            }
        }
    }

    /// In the words of the request being answered.
    pub fn localized(&self) -> String {
        self.in_lang(crate::web::i18n::current())
    }
}

/// English, for logs and JSON.
impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Text(t) => f.write_str(t),
            key => f.write_str(&key.in_lang(crate::web::i18n::Lang::En)),
        }
    }
}

impl From<String> for Msg {
    fn from(t: String) -> Msg {
        Msg::Text(t)
    }
}

impl From<&str> for Msg {
    fn from(t: &str) -> Msg {
        Msg::Text(t.to_owned())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A protocol error whose code and description are meant for the client.
    #[error("{code}: {description}")]
    OAuth { code: OAuthErrorCode, description: String },
    /// Input a person or API caller got wrong; the message is shown as is.
    #[error("bad request: {0}")]
    BadRequest(Msg),
    #[error("authentication required")]
    Unauthorized,
    /// Wrong username or password (deliberately not saying which).
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("forbidden: {0}")]
    Forbidden(Msg),
    /// The caller is signed in but has not verified a second factor recently enough for what
    /// it asks (changing factors, administration); the message says how to.
    #[error("second factor required: {0}")]
    MfaRequired(Msg),
    /// A bearer token without the scope the resource needs (RFC 6750 §3.1).
    #[error("insufficient scope: {0}")]
    InsufficientScope(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(Msg),
    /// The body is not in the media type the endpoint takes (RFC 9110 §15.5.16).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The body is over the endpoint's limit (RFC 9110 §15.5.14).
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// The route exists, but not for this method (RFC 9110 §15.5.6).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request (its body) did not arrive in time (RFC 9110 §15.5.9).
    #[error("request timed out")]
    SlowRequest,
    /// The MFA transaction (`mfa_token`, `enrollment_token`) is unknown, expired or finished.
    #[error("MFA step expired")]
    MfaStepExpired,
    /// A recovery or password-reset link that is unknown, expired or already used.
    #[error("invalid link")]
    InvalidLink,
    /// A wrong second-factor code, passkey assertion or backup code.
    #[error("invalid second factor")]
    InvalidFactor,
    /// Too many failed attempts: the account or address is locked for a while (ASVS 2.2.1).
    #[error("locked out")]
    LockedOut { retry_after_seconds: u64 },
    /// A sending limit was reached (codes by SMS or email: cooldown, hourly caps); the message
    /// says which, and when to try again.
    #[error("rate limited: {message}")]
    RateLimited { retry_after_seconds: u64, message: Msg },
    /// Back-pressure: too many requests waiting (e.g. password hashing). Retry later.
    #[error("overloaded")]
    Overloaded { retry_after_seconds: u64 },
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The database cannot be reached right now (down, restarting, pool exhausted): 503 with
    /// `Retry-After`, OAuth's `temporarily_unavailable` (RFC 6749 §4.1.2.1).
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(sqlx::Error),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // PostgreSQL refuses text it cannot store (a NUL character: SQLSTATE 22021, or one
        // its encoding lacks: 22P05). That is bad input, not a fault of ours; the edge refuses
        // NUL before it gets here, this keeps any other path from answering 500.
        if let sqlx::Error::Database(d) = &e
            && matches!(d.code().as_deref(), Some("22021" | "22P05"))
        {
            return AppError::BadRequest(Msg::key("refuse-unstorable"));
        }
        if crate::store::is_unavailable(&e) {
            return AppError::DatabaseUnavailable(e);
        }
        AppError::Database(e)
    }
}

impl AppError {
    pub fn oauth(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        AppError::OAuth { code, description: description.into() }
    }

    pub fn internal(msg: impl fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{msg}"))
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(self, AppError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    pub fn http_status(&self) -> u16 {
        match self {
            AppError::OAuth { code, .. } => code.http_status(),
            AppError::BadRequest(_) | AppError::MfaStepExpired | AppError::InvalidLink => 400,
            AppError::Unauthorized | AppError::InvalidCredentials | AppError::InvalidFactor => 401,
            AppError::LockedOut { .. } | AppError::RateLimited { .. } => 429,
            AppError::Forbidden(_) | AppError::MfaRequired(_) | AppError::InsufficientScope(_) => 403,
            AppError::NotFound => 404,
            AppError::Conflict(_) => 409,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::PayloadTooLarge(_) => 413,
            AppError::MethodNotAllowed => 405,
            AppError::SlowRequest => 408,
            AppError::Overloaded { .. } => 503,
            AppError::DatabaseUnavailable(_) => 503,
            AppError::Database(_) | AppError::Internal(_) => 500,
        }
    }

    /// Its message, if it carries one of its own.
    pub fn message(&self) -> Option<&Msg> {
        match self {
            AppError::BadRequest(m)
            | AppError::Forbidden(m)
            | AppError::MfaRequired(m)
            | AppError::Conflict(m)
            | AppError::RateLimited { message: m, .. } => Some(m),
            _ => None,
        }
    }

    /// What the caller may see, in English: never internal details.
    pub fn public_message(&self) -> String {
        match self {
            AppError::OAuth { description, .. } => description.clone(),
            AppError::BadRequest(m)
            | AppError::Forbidden(m)
            | AppError::MfaRequired(m)
            | AppError::Conflict(m)
            | AppError::RateLimited { message: m, .. } => m.to_string(),
            AppError::InsufficientScope(m) | AppError::UnsupportedMediaType(m) | AppError::PayloadTooLarge(m) => {
                m.clone()
            }
            AppError::MethodNotAllowed => "This address does not take that method.".into(),
            AppError::SlowRequest => "The request did not arrive in time.".into(),
            AppError::Unauthorized => "Authentication required.".into(),
            AppError::InvalidCredentials => "Incorrect username or password.".into(),
            AppError::InvalidFactor => "That code or key was not accepted.".into(),
            AppError::MfaStepExpired => {
                "This sign-in step expired or was already completed. Please start again.".into()
            }
            AppError::InvalidLink => {
                "This link is not valid: it expired, was already used, or a newer one was sent. Ask for a new one."
                    .into()
            }
            AppError::LockedOut { retry_after_seconds } => {
                format!("Too many failed attempts. Try again in {} minute(s).", retry_after_seconds.div_ceil(60).max(1))
            }
            AppError::NotFound => "Not found.".into(),
            AppError::Overloaded { .. } => "The server is busy. Please try again shortly.".into(),
            AppError::DatabaseUnavailable(_) => "The service is briefly unavailable. Please try again shortly.".into(),
            AppError::Database(_) | AppError::Internal(_) => {
                "Something went wrong on our side. Please try again.".into()
            }
        }
    }

    /// The machine-readable code for JSON bodies.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::OAuth { code, .. } => code.as_str(),
            AppError::BadRequest(_) | AppError::UnsupportedMediaType(_) | AppError::PayloadTooLarge(_) => {
                "invalid_request"
            }
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::SlowRequest => "invalid_request",
            AppError::Unauthorized => "unauthorized",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::InvalidFactor => "invalid_factor",
            AppError::MfaStepExpired => "expired_token",
            AppError::InvalidLink => "invalid_link",
            AppError::LockedOut { .. } => "too_many_attempts",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Forbidden(_) => "forbidden",
            AppError::MfaRequired(_) => "mfa_required",
            AppError::InsufficientScope(_) => "insufficient_scope",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Overloaded { .. } | AppError::DatabaseUnavailable(_) => "temporarily_unavailable",
            AppError::Database(_) | AppError::Internal(_) => "server_error",
        }
    }

    /// Server-side faults are logged with their detail; client faults at debug level.
    pub fn log(&self) {
        if let AppError::Overloaded { .. } = self {
            // Expected shedding under load: whoever sheds counts it and warns, rate-limited.
            tracing::debug!(error = %self, "request shed");
        } else if let AppError::DatabaseUnavailable(_) = self {
            tracing::warn!(error = %self, "request failed: the database is unavailable");
        } else if self.http_status() >= 500 {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request rejected");
        }
    }
}
