//! The MFA step (DESIGN §1–2): the one place that decides whether a login needs a second
//! factor, which factors qualify and how fresh a verification must be; and the factors
//! themselves. No axum here.

pub mod assurance;
pub mod backup;
pub mod decision_log;
pub mod devices;
pub mod limits;
pub mod manage;
pub mod oob;
pub mod passkey;
pub mod policy;
pub mod recovery;
pub mod selector;
pub mod step;
pub mod totp;
