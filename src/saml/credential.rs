//! The IdP's SAML signing credential: an RSA-2048 key and a self-signed certificate that
//! service providers pin from the metadata. It is made on first use, stored with the private
//! key encrypted under the master key, and shared by every node (the first insert wins).

use std::fmt;

use zeroize::Zeroizing;

use crate::crypto::MasterKey;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, saml::StoredCredential};

/// Associated data for the encrypted key, so it cannot be swapped for another secret.
const AAD: &str = "saml-credential:idp";
/// Certificates are pinned, not chained: a long validity spares every SP a re-pin.
const CERTIFICATE_DAYS: u32 = 3650;

pub struct Credential {
    /// PKCS#1 DER, as xmlsec loads it.
    private_key_der: Zeroizing<Vec<u8>>,
    pub certificate_der: Vec<u8>,
    pub not_after: i64,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential").field("not_after", &self.not_after).finish_non_exhaustive()
    }
}

impl Credential {
    pub fn private_key_der(&self) -> &[u8] {
        &self.private_key_der
    }

    /// The certificate as it appears in `ds:X509Certificate` (base64 DER, one line).
    pub fn certificate_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.certificate_der)
    }
}

/// Reads the credential, making it first when there is none.
pub async fn load_or_create(db: &Db, mk: &MasterKey, common_name: &str, now: i64) -> AppResult<Credential> {
    let stored = match store::saml::find_credential(db).await? {
        Some(c) => c,
        None => {
            let cn = common_name.to_owned();
            let (key, cert) = tokio::task::spawn_blocking(move || generate(&cn))
                .await
                .map_err(|e| AppError::internal(format!("SAML key generation task: {e}")))??;
            let fresh = StoredCredential {
                private_key: mk.encrypt(AAD, &key),
                certificate: cert,
                created_at: now,
                not_after: now + i64::from(CERTIFICATE_DAYS) * 86_400,
            };
            let stored = store::saml::insert_credential(db, &fresh).await?;
            tracing::info!("generated the SAML signing credential");
            stored
        }
    };
    let key = mk.decrypt(AAD, &stored.private_key).map_err(AppError::Internal)?;
    Ok(Credential {
        private_key_der: Zeroizing::new(key),
        certificate_der: stored.certificate,
        not_after: stored.not_after,
    })
}

fn generate(common_name: &str) -> AppResult<(Vec<u8>, Vec<u8>)> {
    use samael::idp::{CertificateParams, IdentityProvider, KeyType, Rsa};
    let fail = |e: samael::idp::error::Error| AppError::internal(format!("SAML credential: {e}"));
    let idp = IdentityProvider::generate_new(KeyType::Rsa(Rsa::Rsa2048)).map_err(fail)?;
    let cert = idp
        .create_certificate(&CertificateParams {
            common_name,
            issuer_name: common_name,
            days_until_expiration: CERTIFICATE_DAYS,
        })
        .map_err(fail)?;
    let key = idp.export_private_key_der().map_err(fail)?;
    Ok((key, cert.der_data().to_vec()))
}
