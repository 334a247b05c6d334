//! Token signing keys: RS256 (RSA-2048) by default, ES256 available. Keys are parsed once and
//! kept for the life of the process (re-parsing per signature costs 3x, TOOLCHAIN.md); the
//! private halves are stored encrypted under the master key. The JWKS publishes every key
//! that is active or retired but not yet expired (RFC 7517), each with its `kid`.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair, UnparsedPublicKey,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::{b64url, b64url_decode};
use crate::config::SigningAlg;

enum KeyMaterial {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    material: KeyMaterial,
    public_jwk: Value,
    /// The public key bytes as `UnparsedPublicKey` wants them.
    public_raw: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a new key; returns it with its PKCS#8 encoding for storage.
    pub fn generate(alg: SigningAlg) -> anyhow::Result<(SigningKey, Vec<u8>)> {
        let pkcs8 = match alg {
            SigningAlg::RS256 => {
                let kp =
                    RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
                let der = kp.as_der().map_err(|_| anyhow::anyhow!("RSA key encoding failed"))?;
                der.as_ref().to_vec()
            }
            SigningAlg::ES256 => {
                let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| anyhow::anyhow!("EC key generation failed"))?;
                kp.to_pkcs8v1().map_err(|_| anyhow::anyhow!("EC key encoding failed"))?.as_ref().to_vec()
            }
        };
        let kid = b64url(&super::random_bytes::<12>());
        let key = SigningKey::from_pkcs8(kid, alg, &pkcs8)?;
        Ok((key, pkcs8))
    }

    pub fn from_pkcs8(kid: String, alg: SigningAlg, pkcs8: &[u8]) -> anyhow::Result<SigningKey> {
        let (material, public_jwk, public_raw) = match alg {
            SigningAlg::RS256 => {
                let kp = RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| anyhow::anyhow!("bad RSA key {kid}: {e}"))?;
                let pk = kp.public_key();
                let jwk = json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                    "n": b64url(pk.modulus().big_endian_without_leading_zero()),
                    "e": b64url(pk.exponent().big_endian_without_leading_zero()),
                });
                let raw = pk.as_ref().to_vec();
                (KeyMaterial::Rsa(kp), jwk, raw)
            }
            SigningAlg::ES256 => {
                let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(|e| anyhow::anyhow!("bad EC key {kid}: {e}"))?;
                let point = kp.public_key().as_ref().to_vec();
                anyhow::ensure!(point.len() == 65 && point[0] == 4, "unexpected EC public key encoding");
                let jwk = json!({
                    "kty": "EC", "use": "sig", "alg": "ES256", "kid": kid, "crv": "P-256",
                    "x": b64url(&point[1..33]), "y": b64url(&point[33..65]),
                });
                (KeyMaterial::Ec(kp), jwk, point)
            }
        };
        Ok(SigningKey { kid, alg, material, public_jwk, public_raw })
    }

    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    fn sign_bytes(&self, msg: &[u8]) -> Vec<u8> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.material {
            KeyMaterial::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig).expect("RSA signing of an in-memory message");
                sig
            }
            KeyMaterial::Ec(kp) => kp.sign(&rng, msg).expect("ECDSA signing of an in-memory message").as_ref().to_vec(),
        }
    }

    fn verify_bytes(&self, msg: &[u8], sig: &[u8]) -> bool {
        let alg: &dyn signature::VerificationAlgorithm = match self.material {
            KeyMaterial::Rsa(_) => &signature::RSA_PKCS1_2048_8192_SHA256,
            KeyMaterial::Ec(_) => &ECDSA_P256_SHA256_FIXED,
        };
        UnparsedPublicKey::new(alg, &self.public_raw).verify(msg, sig).is_ok()
    }

    /// Compact JWS (RFC 7515) of `claims` with header `{alg, kid, typ}`, written into one
    /// string sized for it: a token is signed for every grant, so nothing is built twice.
    pub fn sign_jwt<C: Serialize>(&self, typ: &str, claims: &C) -> String {
        #[derive(Serialize)]
        struct Header<'a> {
            alg: &'a str,
            kid: &'a str,
            typ: &'a str,
        }
        let header =
            serde_json::to_vec(&Header { alg: self.alg.as_str(), kid: &self.kid, typ }).expect("a header serialises");
        let mut payload = Vec::with_capacity(768);
        serde_json::to_writer(&mut payload, claims).expect("claims serialise");
        let signature_len = match &self.material {
            KeyMaterial::Rsa(kp) => kp.public_modulus_len(),
            KeyMaterial::Ec(_) => 64,
        };
        let encoded = |n: usize| n.div_ceil(3) * 4;
        let mut out =
            String::with_capacity(encoded(header.len()) + encoded(payload.len()) + encoded(signature_len) + 2);
        super::b64url_into(&header, &mut out);
        out.push('.');
        super::b64url_into(&payload, &mut out);
        let sig = self.sign_bytes(out.as_bytes());
        out.push('.');
        super::b64url_into(&sig, &mut out);
        out
    }
}

/// The keys a node knows: which one signs, and which are published.
#[derive(Debug, Clone)]
pub struct KeyRing {
    /// Every published key with the window in which it signs: `[from, until)`.
    keys: Vec<(Arc<SigningKey>, i64, Option<i64>)>,
    published: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    /// A ring of one key that signs from the beginning of time (tests, benches).
    pub fn new(active: Arc<SigningKey>, published: Vec<Arc<SigningKey>>) -> Self {
        let mut keys = vec![(active.clone(), i64::MIN, None)];
        keys.extend(published.iter().filter(|k| k.kid != active.kid).map(|k| (k.clone(), i64::MIN, Some(i64::MIN))));
        KeyRing { keys, published }
    }

    /// A ring from stored keys: each signs from `from` until `until` (exclusive); keys whose
    /// window has not begun are published already, so every node's JWKS has them before
    /// anyone signs with them.
    pub fn with_windows(keys: Vec<(Arc<SigningKey>, i64, Option<i64>)>) -> Option<Self> {
        if keys.is_empty() {
            return None;
        }
        let published = keys.iter().map(|(k, _, _)| k.clone()).collect();
        Some(KeyRing { keys, published })
    }

    /// The key that signs at `now`: the latest-starting key whose window holds `now`. If
    /// none does (clocks or a retired set), the latest one that has started.
    pub fn active_at(&self, now: i64) -> &Arc<SigningKey> {
        let started = self.keys.iter().filter(|(_, from, _)| *from <= now);
        let in_window = started.clone().filter(|(_, _, until)| until.is_none_or(|u| now < u));
        in_window
            .max_by_key(|(_, from, _)| *from)
            .or_else(|| started.max_by_key(|(_, from, _)| *from))
            .or_else(|| self.keys.iter().min_by_key(|(_, from, _)| *from))
            .map(|(k, _, _)| k)
            .expect("a key ring is never empty")
    }

    /// Whether a JWT names a key this ring does not have (another node may have a newer
    /// ring: worth a reload before refusing it).
    pub fn lacks_kid_of(&self, token: &str) -> bool {
        let Some(h) = token.split('.').next().and_then(b64url_decode) else { return false };
        let Ok(header) = serde_json::from_slice::<Value>(&h) else { return false };
        header.get("kid").and_then(Value::as_str).is_some_and(|kid| !self.published.iter().any(|k| k.kid == kid))
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": self.published.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>() })
    }

    pub fn algs(&self) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = self.published.iter().map(|k| k.alg.as_str()).collect();
        algs.sort_unstable();
        algs.dedup();
        algs
    }

    /// Verifies a compact JWS signed by one of our published keys and returns its header
    /// `typ` and claims. Only the algorithms we sign with are accepted (RFC 8725 §3.1): the
    /// header's `alg` must equal the key's.
    pub fn verify_jwt(&self, token: &str) -> Option<(String, Value)> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&b64url_decode(h)?).ok()?;
        let kid = header.get("kid")?.as_str()?;
        let alg = header.get("alg")?.as_str()?;
        let key = self.published.iter().find(|k| k.kid == kid)?;
        if key.alg.as_str() != alg {
            return None;
        }
        let sig = b64url_decode(s)?;
        let signed = &token[..h.len() + 1 + p.len()];
        if !key.verify_bytes(signed.as_bytes(), &sig) {
            return None;
        }
        let claims: Value = serde_json::from_slice(&b64url_decode(p)?).ok()?;
        let typ = header.get("typ").and_then(Value::as_str).unwrap_or("").to_string();
        Some((typ, claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_both_algs() {
        for alg in [SigningAlg::RS256, SigningAlg::ES256] {
            let (key, pkcs8) = SigningKey::generate(alg).unwrap();
            let reloaded = Arc::new(SigningKey::from_pkcs8(key.kid.clone(), alg, &pkcs8).unwrap());
            let ring = KeyRing::new(reloaded.clone(), vec![reloaded]);
            let jwt = key.sign_jwt("JWT", &json!({"sub": "x"}));
            let (typ, claims) = ring.verify_jwt(&jwt).unwrap();
            assert_eq!(typ, "JWT");
            assert_eq!(claims["sub"], "x");
            // Flip one character of the payload: must fail.
            let mut bad: Vec<char> = jwt.chars().collect();
            let i = jwt.find('.').unwrap() + 2;
            bad[i] = if bad[i] == 'A' { 'B' } else { 'A' };
            assert!(ring.verify_jwt(&bad.into_iter().collect::<String>()).is_none());
            assert_eq!(ring.jwks()["keys"][0]["kid"], key.kid);
        }
    }

    #[test]
    fn the_signing_key_follows_the_windows() {
        let old = Arc::new(SigningKey::generate(SigningAlg::ES256).unwrap().0);
        let new = Arc::new(SigningKey::generate(SigningAlg::ES256).unwrap().0);
        let ring = KeyRing::with_windows(vec![(new.clone(), 100, None), (old.clone(), 0, Some(100))]).unwrap();
        assert_eq!(ring.active_at(99).kid, old.kid, "the new key is published but does not sign yet");
        assert_eq!(ring.active_at(100).kid, new.kid);
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
        let jwt = new.sign_jwt("JWT", &json!({"sub": "x"}));
        let only_old = KeyRing::with_windows(vec![(old.clone(), 0, None)]).unwrap();
        assert!(only_old.lacks_kid_of(&jwt) && !ring.lacks_kid_of(&jwt));
    }

    #[test]
    fn alg_confusion_refused() {
        let (key, _) = SigningKey::generate(SigningAlg::ES256).unwrap();
        let key = Arc::new(key);
        let ring = KeyRing::new(key.clone(), vec![key.clone()]);
        let jwt = key.sign_jwt("JWT", &json!({"sub": "x"}));
        let (_, rest) = jwt.split_once('.').unwrap();
        let forged_header = b64url(json!({"alg": "none", "kid": key.kid}).to_string().as_bytes());
        assert!(ring.verify_jwt(&format!("{forged_header}.{rest}")).is_none());
    }
}
