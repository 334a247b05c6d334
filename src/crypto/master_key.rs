//! The master key encrypts secrets at rest (signing keys now; TOTP secrets later) with
//! AES-256-GCM. It is configured, or generated into the data dir with mode 0600 on first start.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub struct MasterKey {
    key: RandomizedNonceKey,
    /// Masks the row keys that refresh tokens carry (`locator`).
    locator: super::LocatorMask,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(bytes.len() == 32, "master key must be 32 bytes, got {}", bytes.len());
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes).map_err(|_| anyhow::anyhow!("invalid master key"))?;
        Ok(MasterKey { key, locator: super::LocatorMask::derive(bytes) })
    }

    /// Reads the key file (base64 of 32 bytes), or creates it with mode 0600 when absent.
    /// Returns the key and whether it was created.
    pub fn load_or_create(path: &Path) -> anyhow::Result<(Self, bool)> {
        if path.exists() {
            return Ok((Self::read(path)?, false));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Several nodes may start at once on one data directory: each writes a whole key to a
        // file of its own, then links it into place. The link is atomic and never replaces,
        // so exactly one key wins, and no node ever reads a half-written file.
        let bytes = super::random_bytes::<32>();
        let tmp = path.with_extension(format!("new-{}", hex::encode(super::random_bytes::<8>())));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let written = (|| -> std::io::Result<()> {
            let mut f = opts.open(&tmp)?;
            writeln!(f, "{}", STANDARD.encode(bytes))?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            anyhow::bail!("cannot create master key {}: {e}", path.display());
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok((Self::from_bytes(&bytes)?, true)),
            // Another process won: use its key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((Self::read(path)?, false)),
            Err(e) => anyhow::bail!("cannot create master key {}: {e}", path.display()),
        }
    }

    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read master key {}: {e}", path.display()))?;
        let bytes =
            STANDARD.decode(text.trim()).map_err(|_| anyhow::anyhow!("master key {} is not base64", path.display()))?;
        Self::from_bytes(&bytes)
    }

    /// The permutation that masks the row keys refresh tokens carry, the same on every node
    /// that shares this key.
    pub fn locator(&self) -> &super::LocatorMask {
        &self.locator
    }

    /// nonce ‖ ciphertext ‖ tag. `context` is bound as associated data so a ciphertext
    /// cannot be moved to another row or purpose.
    pub fn encrypt(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buf)
            .expect("AES-GCM sealing does not fail for in-memory buffers");
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&buf);
        out
    }

    pub fn decrypt(&self, context: &str, data: &[u8]) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(data.len() > NONCE_LEN, "ciphertext too short");
        let (nonce, ct) = data.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| anyhow::anyhow!("decryption failed: wrong master key or tampered data ({context})"))?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_context_binding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (k, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let ct = k.encrypt("a", b"secret");
        assert_eq!(k.decrypt("a", &ct).unwrap(), b"secret");
        assert!(k.decrypt("b", &ct).is_err());
        let (k2, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(k2.decrypt("a", &ct).unwrap(), b"secret");
    }

    #[test]
    fn nodes_starting_together_share_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let (k, created) = MasterKey::load_or_create(&path).unwrap();
                    (k.encrypt("x", b"same key?"), created)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1, "one key is made");
        let (k, _) = MasterKey::load_or_create(&path).unwrap();
        for (ct, _) in &results {
            assert_eq!(k.decrypt("x", ct).unwrap(), b"same key?", "every node uses the winner's key");
        }
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary files are left");
    }
}
