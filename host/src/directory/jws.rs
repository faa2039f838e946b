//! The two signed JWTs an Okta service app sends: the `private_key_jwt` client assertion
//! (signed with the operator's key, RS256 or ES256) and DPoP proofs (signed with a P-256 key
//! generated at start-up and never stored). Signed with ring, which the TLS stack already uses.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

/// Lifetime of a client assertion; Okta accepts at most one hour.
const ASSERTION_LIFETIME_S: u64 = 300;

/// The operator's key for `private_key_jwt`.
pub enum ClientKey {
    /// RS256.
    Rsa(RsaKeyPair),
    /// ES256.
    Ec(EcdsaKeyPair),
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material.
        f.write_str(match self {
            Self::Rsa(_) => "ClientKey(RS256)",
            Self::Ec(_) => "ClientKey(ES256)",
        })
    }
}

impl ClientKey {
    /// Reads a PEM private key: PKCS#8 (RSA or P-256) or PKCS#1 RSA.
    pub fn from_pem_file(path: &Path) -> anyhow::Result<Self> {
        let der = PrivateKeyDer::from_pem_file(path)
            .map_err(|e| anyhow::anyhow!("no PEM private key in {}: {e}", path.display()))?;
        Self::from_der(&der).with_context(|| format!("unusable private key in {}", path.display()))
    }

    fn from_der(der: &PrivateKeyDer<'_>) -> anyhow::Result<Self> {
        match der {
            PrivateKeyDer::Pkcs8(pkcs8) => {
                let bytes = pkcs8.secret_pkcs8_der();
                if let Ok(rsa) = RsaKeyPair::from_pkcs8(bytes) {
                    return Ok(Self::Rsa(rsa));
                }
                EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    bytes,
                    &SystemRandom::new(),
                )
                .map(Self::Ec)
                .map_err(|e| anyhow::anyhow!("neither an RSA nor a P-256 key ({e})"))
            }
            PrivateKeyDer::Pkcs1(pkcs1) => RsaKeyPair::from_der(pkcs1.secret_pkcs1_der())
                .map(Self::Rsa)
                .map_err(|e| anyhow::anyhow!("not an RSA key ({e})")),
            _ => anyhow::bail!("use a PKCS#8 (BEGIN PRIVATE KEY) or PKCS#1 RSA key"),
        }
    }

    fn alg(&self) -> &'static str {
        match self {
            Self::Rsa(_) => "RS256",
            Self::Ec(_) => "ES256",
        }
    }

    fn sign(&self, input: &[u8]) -> anyhow::Result<Vec<u8>> {
        let rng = SystemRandom::new();
        match self {
            Self::Rsa(key) => {
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &rng, input, &mut signature)
                    .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
                Ok(signature)
            }
            Self::Ec(key) => Ok(key
                .sign(&rng, input)
                .map_err(|_| anyhow::anyhow!("ECDSA signing failed"))?
                .as_ref()
                .to_vec()),
        }
    }

    /// A `private_key_jwt` client assertion for `client_id` at `token_url`.
    pub fn assertion(
        &self,
        client_id: &str,
        key_id: Option<&str>,
        token_url: &str,
    ) -> anyhow::Result<String> {
        let now = unix_now();
        let mut header = json!({ "alg": self.alg(), "typ": "JWT" });
        if let Some(kid) = key_id {
            header["kid"] = json!(kid);
        }
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_S,
            "jti": random_id()?,
        });
        let input = signing_input(&header, &claims);
        let signature = self.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The DPoP key: generated per process, its public half sent in every proof.
pub struct DpopKey {
    key: EcdsaKeyPair,
    jwk: Value,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopKey(ES256)")
    }
}

impl DpopKey {
    /// A fresh P-256 key.
    pub fn generate() -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("cannot generate the DPoP key"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| anyhow::anyhow!("cannot load the DPoP key"))?;
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = key.public_key().as_ref();
        anyhow::ensure!(point.len() == 65, "unexpected P-256 public key size");
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        Ok(Self { key, jwk })
    }

    /// A proof for `method` on `url` (no query), bound to `access_token` when calling an API
    /// (`ath`), carrying the server's `nonce` when it asked for one.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> anyhow::Result<String> {
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk });
        let mut claims = json!({
            "htm": method,
            "htu": url,
            "iat": unix_now(),
            "jti": random_id()?,
        });
        if let Some(token) = access_token {
            let hash = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(hash.as_ref()));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        let input = signing_input(&header, &claims);
        let signature = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| anyhow::anyhow!("DPoP signing failed"))?;
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn random_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(jwt: &str, index: usize) -> Value {
        let segment = jwt.split('.').nth(index).expect("segment");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64")).expect("json")
    }

    #[test]
    fn a_dpop_proof_carries_the_public_key_the_hash_of_the_token_and_the_nonce() {
        let key = DpopKey::generate().expect("key");
        let proof = key
            .proof(
                "GET",
                "https://org.example/api/v1/users/a",
                Some("tok"),
                Some("n1"),
            )
            .expect("proof");
        let header = part(&proof, 0);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["jwk"]["crv"], "P-256");
        assert!(header["jwk"].get("d").is_none(), "no private part");
        let claims = part(&proof, 1);
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["nonce"], "n1");
        let ath = ring::digest::digest(&ring::digest::SHA256, b"tok");
        assert_eq!(claims["ath"], URL_SAFE_NO_PAD.encode(ath.as_ref()));
        // The signature verifies with the key in the header.
        let x = URL_SAFE_NO_PAD
            .decode(header["jwk"]["x"].as_str().expect("x"))
            .expect("x");
        let y = URL_SAFE_NO_PAD
            .decode(header["jwk"]["y"].as_str().expect("y"))
            .expect("y");
        let public = [&[4u8][..], &x, &y].concat();
        let (input, signature) = proof.rsplit_once('.').expect("signature");
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public)
            .verify(
                input.as_bytes(),
                &URL_SAFE_NO_PAD.decode(signature).expect("base64"),
            )
            .expect("valid signature");
    }

    #[test]
    fn a_client_assertion_names_the_client_and_the_token_url() {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("pkcs8");
        let der = PrivateKeyDer::Pkcs8(pkcs8.as_ref().to_vec().into());
        let key = ClientKey::from_der(&der).expect("key");
        let jwt = key
            .assertion("0oa1", Some("k1"), "https://org.example/oauth2/v1/token")
            .expect("jwt");
        let header = part(&jwt, 0);
        assert_eq!(
            (header["alg"].as_str(), header["kid"].as_str()),
            (Some("ES256"), Some("k1"))
        );
        let claims = part(&jwt, 1);
        assert_eq!(claims["iss"], "0oa1");
        assert_eq!(claims["sub"], "0oa1");
        assert_eq!(claims["aud"], "https://org.example/oauth2/v1/token");
        assert!(claims["exp"].as_u64() > claims["iat"].as_u64());
    }
}
