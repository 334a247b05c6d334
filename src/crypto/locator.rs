//! Refresh tokens that name their row. A token is the row's key under a keyed permutation
//! (11 characters) followed by a 256-bit random secret (43 characters), all base64url, so a
//! rotation finds the presented token by its primary key, a token newer than the ones before it,
//! instead of through an index of random hashes; the secret is stored only as its hash and is
//! compared with it as before.
//!
//! The key is masked so that a token does not show how many were issued before it (a client
//! holding two tokens would otherwise read the provider's traffic off their difference): a
//! four-round Feistel network over the 64-bit key, each round HMAC-SHA256 under a key derived
//! from the master key, which every node shares. A forged or altered token names some row at
//! random, whose hash it does not match.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{Secret, token_hash};

/// Characters of the masked key: 8 bytes in base64url without padding.
const KEY_CHARS: usize = 11;
/// Characters of the secret (`random_token`).
const SECRET_CHARS: usize = super::RANDOM_TOKEN_CHARS;
const ROUNDS: u8 = 4;

/// The keyed permutation of row keys (see the module's note).
pub struct LocatorMask {
    key: hmac::Key,
}

impl std::fmt::Debug for LocatorMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocatorMask(..)")
    }
}

/// What a refresh token in the locating form says: its row's key and its secret's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub id: i64,
    pub hash: String,
}

impl LocatorMask {
    /// The mask of the master key `master` (its 32 bytes), under a label of its own so that
    /// the derived key serves nothing else.
    pub fn derive(master: &[u8]) -> LocatorMask {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master), b"portcullis refresh-token locator v1");
        LocatorMask { key: hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref()) }
    }

    fn round(&self, round: u8, half: u32) -> u32 {
        let mut input = [0u8; 5];
        input[0] = round;
        input[1..].copy_from_slice(&half.to_be_bytes());
        let tag = hmac::sign(&self.key, &input);
        u32::from_be_bytes(tag.as_ref()[..4].try_into().expect("a tag has 32 bytes"))
    }

    fn mask(&self, id: u64) -> u64 {
        let (mut left, mut right) = ((id >> 32) as u32, id as u32);
        for round in 0..ROUNDS {
            (left, right) = (right, left ^ self.round(round, right));
        }
        (u64::from(left) << 32) | u64::from(right)
    }

    fn unmask(&self, masked: u64) -> u64 {
        let (mut left, mut right) = ((masked >> 32) as u32, masked as u32);
        for round in (0..ROUNDS).rev() {
            (left, right) = (right ^ self.round(round, left), left);
        }
        (u64::from(left) << 32) | u64::from(right)
    }

    /// The token that hands `secret` over for the row `id`.
    pub fn token(&self, id: i64, secret: &Secret) -> Secret {
        let mut token = URL_SAFE_NO_PAD.encode(self.mask(id as u64).to_be_bytes());
        token.push_str(secret);
        Secret::from(token)
    }

    /// The row and hash a token in this form names; `None` for any other string (a token
    /// issued before the form existed is found by its hash instead).
    pub fn locate(&self, token: &str) -> Option<Located> {
        if token.len() != KEY_CHARS + SECRET_CHARS || !token.is_char_boundary(KEY_CHARS) {
            return None;
        }
        let (key, secret) = token.split_at(KEY_CHARS);
        // The decoder refuses stray bits in the last character, so each key has one spelling.
        let bytes: [u8; 8] = URL_SAFE_NO_PAD.decode(key).ok()?.try_into().ok()?;
        let well_formed = secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Located { id: self.unmask(u64::from_be_bytes(bytes)) as i64, hash: token_hash(secret) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask() -> LocatorMask {
        LocatorMask::derive(&[7u8; 32])
    }

    #[test]
    fn a_token_names_its_row_and_its_secret() {
        let m = mask();
        for id in [1, 2, 41, 1 << 40, i64::MAX] {
            let secret = Secret::random();
            let token = m.token(id, &secret);
            assert_eq!(token.len(), 54);
            assert_eq!(m.locate(&token), Some(Located { id, hash: token_hash(&secret) }));
        }
    }

    #[test]
    fn neighbouring_rows_do_not_look_alike() {
        let m = mask();
        let masked: Vec<u64> = (1..=1000).map(|id| m.mask(id)).collect();
        let distinct: std::collections::HashSet<&u64> = masked.iter().collect();
        assert_eq!(distinct.len(), masked.len(), "a permutation");
        // Consecutive keys differ in about half their bits, not in the last few.
        let flipped: u32 = masked.windows(2).map(|w| (w[0] ^ w[1]).count_ones()).sum();
        let mean = f64::from(flipped) / 999.0;
        assert!((28.0..36.0).contains(&mean), "{mean} bits differ on average");
        assert!((1..=1000).all(|id| m.unmask(m.mask(id)) == id));
        // Another master key, another permutation.
        assert_ne!(LocatorMask::derive(&[8u8; 32]).mask(1), m.mask(1));
    }

    #[test]
    fn other_strings_name_no_row() {
        let m = mask();
        let token: String = (*m.token(5, &Secret::random())).to_owned();
        assert!(m.locate(&token[1..]).is_none(), "too short");
        assert!(m.locate(&format!("{token}A")).is_none(), "too long");
        assert!(m.locate(&Secret::random()).is_none(), "a 43-character token of the earlier form");
        let mut bad = token.clone();
        bad.replace_range(20..21, "*");
        assert!(m.locate(&bad).is_none(), "not base64url");
        // 'B' after ten characters sets a bit that 8 bytes do not have.
        let mut stray = token.clone();
        stray.replace_range(10..11, "B");
        assert!(m.locate(&stray).is_none());
        let multibyte = format!("{}é{}", &token[..10], &token[12..]);
        assert!(m.locate(&multibyte).is_none());
    }
}
