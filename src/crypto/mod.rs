//! Cryptographic building blocks: randomness, token hashing, the master key, password
//! hashing and signing keys. Everything uses aws-lc-rs except Argon2.

pub mod keystore;
pub mod master_key;
pub mod password;
pub mod signing;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use master_key::MasterKey;
pub use password::PasswordHasher;
pub use signing::{KeyRing, SigningKey};

/// Shows in `Debug` that a secret is there, never the secret (DESIGN §7).
pub struct Redacted<'a, T: ?Sized>(pub &'a T);

impl std::fmt::Debug for Redacted<'_, String> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl std::fmt::Debug for Redacted<'_, Option<String>> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Some(<redacted>)" } else { "None" })
    }
}

/// `impl Debug` for a struct that holds tokens, codes or secrets: the `shown` fields as they
/// are, the `secret` ones (a `String` or `Option<String>`) as `<redacted>`.
#[macro_export]
macro_rules! debug_redacted {
    ($ty:ty { shown: [$($shown:ident),* $(,)?], secret: [$($secret:ident),* $(,)?] $(,)? }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($secret), &$crate::crypto::Redacted(&self.$secret)))*
                    .finish()
            }
        }
    };
}

/// `n` random bytes from the system CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::fill(&mut buf).expect("system randomness is available");
    buf
}

/// A 256-bit random token, base64url without padding (43 characters). Used for every bearer
/// artefact: session cookies, codes, refresh tokens (ASVS 3.2.2: at least 64 bits of entropy).
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
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a).len(), 64);
    }
}
