//! The one-line confirmations pages show after a change (post/redirect/get): the redirect
//! carries a fixed key (`?done=totp-added`), the page looks its text up here. Nothing from the
//! URL is ever echoed, and an unknown key shows nothing.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::Redirect;
use serde::Deserialize;

use crate::web::i18n;

/// A confirmation a page can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Verified,
    TotpAdded,
    TotpRemoved,
    PasskeyAdded,
    PasskeyRenamed,
    PasskeyRemoved,
    DeviceRevoked,
    SmsAdded,
    EmailAdded,
    CodesRemoved,
    PrimarySet,
    SettingsSaved,
    GroupSaved,
    AppSaved,
    AppCreated,
    AppRemoved,
    PluginUploaded,
    PluginAssigned,
    PluginUnassigned,
    PluginDeleted,
    PasswordChanged,
    UserChanged,
    SessionEnded,
    SessionsEnded,
}

impl Notice {
    const ALL: [Notice; 24] = [
        Notice::Verified,
        Notice::TotpAdded,
        Notice::TotpRemoved,
        Notice::PasskeyAdded,
        Notice::PasskeyRenamed,
        Notice::PasskeyRemoved,
        Notice::DeviceRevoked,
        Notice::SmsAdded,
        Notice::EmailAdded,
        Notice::CodesRemoved,
        Notice::PrimarySet,
        Notice::SettingsSaved,
        Notice::GroupSaved,
        Notice::AppSaved,
        Notice::AppCreated,
        Notice::AppRemoved,
        Notice::PluginUploaded,
        Notice::PluginAssigned,
        Notice::PluginUnassigned,
        Notice::PluginDeleted,
        Notice::PasswordChanged,
        Notice::UserChanged,
        Notice::SessionEnded,
        Notice::SessionsEnded,
    ];

    /// Its key in the URL (its text is `notice-KEY` in the catalogues).
    fn key(self) -> &'static str {
        match self {
            Notice::Verified => "verified",
            Notice::TotpAdded => "totp-added",
            Notice::TotpRemoved => "totp-removed",
            Notice::PasskeyAdded => "passkey-added",
            Notice::PasskeyRenamed => "passkey-renamed",
            Notice::PasskeyRemoved => "passkey-removed",
            Notice::DeviceRevoked => "device-revoked",
            Notice::SmsAdded => "sms-added",
            Notice::EmailAdded => "email-added",
            Notice::CodesRemoved => "codes-removed",
            Notice::PrimarySet => "primary-set",
            Notice::SettingsSaved => "settings",
            Notice::GroupSaved => "group",
            Notice::AppSaved => "app",
            Notice::AppCreated => "app-created",
            Notice::AppRemoved => "app-removed",
            Notice::PluginUploaded => "uploaded",
            Notice::PluginAssigned => "assigned",
            Notice::PluginUnassigned => "unassigned",
            Notice::PluginDeleted => "deleted",
            Notice::SessionEnded => "session-ended",
            Notice::SessionsEnded => "sessions-ended",
            Notice::UserChanged => "user",
            Notice::PasswordChanged => "password-changed",
        }
    }

    fn from_key(key: &str) -> Option<Notice> {
        Notice::ALL.into_iter().find(|n| n.key() == key)
    }

    /// Its text in the request's language.
    pub fn localized(self) -> String {
        i18n::t(&format!("notice-{}", self.key()))
    }

    /// The address of `page` showing this notice.
    pub fn url(self, page: &str) -> String {
        format!("{page}?done={}", self.key())
    }

    /// Back to `page`, showing this notice.
    pub fn redirect(self, page: &str) -> Redirect {
        Redirect::to(&self.url(page))
    }
}

/// The notice a page was asked to show (`?done=`), if it is one; any other query is ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Done(pub Option<Notice>);

impl Done {
    pub fn localized(self) -> Option<String> {
        self.0.map(Notice::localized)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Done {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        #[derive(Deserialize)]
        struct Q {
            done: Option<String>,
        }
        let q = Query::<Q>::from_request_parts(parts, state).await.ok();
        Ok(Done(q.and_then(|Query(q)| q.done).as_deref().and_then(Notice::from_key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_has_its_own_key_and_comes_back_from_its_url() {
        for n in Notice::ALL {
            let key = n.key();
            for lang in i18n::Lang::ALL {
                assert!(i18n::has(lang, &format!("notice-{key}")), "notice-{key} is not in every catalogue");
            }
            assert_eq!(Notice::ALL.iter().filter(|m| m.key() == key).count(), 1, "{key} is used twice");
            let url = n.url("/profile");
            let key = url.split_once("?done=").map(|(_, k)| k).unwrap();
            assert_eq!(Notice::from_key(key), Some(n));
        }
        assert_eq!(Notice::from_key("<script>"), None);
    }
}
