//! Cryptographic building blocks: randomness, token hashing, the master key, password
//! hashing and signing keys. Everything uses aws-lc-rs except Argon2.

pub mod keystore;
pub mod locator;
pub mod master_key;
pub mod password;
pub mod signing;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use locator::{Located, LocatorMask};
pub use master_key::MasterKey;
pub use password::PasswordHasher;
pub use signing::{KeyRing, SigningKey};

/// A token, code or secret. `Debug` shows that one is there, never its value (DESIGN §7), so
/// a stray `{:?}` in a log line or a panic message cannot leak it; there is deliberately no
/// `Display`. The value is read as a `&str` (`Deref`) where it is used — a cookie, a hash, a
/// comparison — and serialised as itself only into the one answer that hands it over.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct Secret(String);

impl Secret {
    /// A new 256-bit random token (`random_token`).
    pub fn random() -> Secret {
        Secret(random_token())
    }

    /// The value, to show it once (a CLI printing a new client's secret).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}

/// `n` random bytes from the system CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::fill(&mut buf).expect("system randomness is available");
    buf
}

/// The length of a `random_token`: 32 bytes in base64url without padding.
pub const RANDOM_TOKEN_CHARS: usize = 43;

/// A 256-bit random token, base64url without padding (`RANDOM_TOKEN_CHARS`). Used for every
/// bearer artefact: session cookies, codes, refresh tokens (ASVS 3.2.2: at least 64 bits of
/// entropy).
pub fn random_token() -> String {
    b64url(&random_bytes::<32>())
}

/// SHA-256 of a token, hex-encoded: what the database stores instead of the token itself.
pub fn token_hash(token: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// `b64url` appended to `out` (a JWS is three of these in one string).
pub fn b64url_into(data: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(data, out);
}

pub fn b64url_decode(data: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(data).ok()
}

/// Constant-time equality for secrets of possibly different lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = random_token();
        assert_eq!(b64url_decode(&a).unwrap().len(), 32);
        assert_eq!(a.len(), RANDOM_TOKEN_CHARS);
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a).len(), 64);
    }
}
