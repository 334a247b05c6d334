//! Backup codes: a set of one-time recovery codes, shown once, stored only as hashes.
//! They have 50 bits of entropy each and are rate-limited like every second factor, so a
//! fast hash (SHA-256) is enough.

use crate::crypto;
use crate::error::{AppError, AppResult, Msg};
use crate::state::AppState;
use crate::store;

/// Alphabet without look-alikes (no 0/o, 1/l/i).
const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789#";

/// Remaining codes below which the user is warned.
pub const LOW_WATER: i64 = 3;

fn normalise(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn hash(user_id: &str, code: &str) -> String {
    crypto::token_hash(&format!("{user_id}:{}", normalise(code)))
}

fn new_code() -> String {
    // 10 characters from 31 symbols (the `#` slot is rejected below): ~49.5 bits.
    let mut out = String::with_capacity(11);
    while out.len() < 11 {
        for b in crypto::random_bytes::<16>() {
            let c = ALPHABET[(b & 31) as usize];
            if c == b'#' {
                continue;
            }
            if out.len() == 5 {
                out.push('-');
            }
            out.push(c as char);
            if out.len() == 11 {
                break;
            }
        }
    }
    out
}

/// Generates a new set, replacing (invalidating) the old one. The codes are returned once.
pub async fn generate(state: &AppState, user_id: &str, count: i64) -> AppResult<Vec<String>> {
    if count < 1 {
        return Err(AppError::Forbidden(Msg::key("refuse-backup-off")));
    }
    let codes: Vec<String> = (0..count).map(|_| new_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| hash(user_id, c)).collect();
    store::factors::replace_backup_codes(&state.db, user_id, &hashes, state.now()).await?;
    Ok(codes)
}

/// Uses a code once.
pub async fn verify(state: &AppState, user_id: &str, code: &str) -> AppResult<bool> {
    if normalise(code).len() != 10 {
        return Ok(false);
    }
    store::factors::use_backup_code(&state.db, user_id, &hash(user_id, code), state.now()).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_well_formed_and_normalised() {
        for _ in 0..100 {
            let c = super::new_code();
            assert_eq!(c.len(), 11);
            assert_eq!(&c[5..6], "-");
            assert!(!c.contains('#'));
        }
        assert_eq!(super::normalise(" AbCde-fghjk "), "abcdefghjk");
    }
}
