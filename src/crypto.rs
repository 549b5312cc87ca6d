//! Secrets at rest and in cookies: the process key, AES-256-GCM sealing, password hashes, tokens.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{anyhow, bail};
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha512};
use std::sync::OnceLock;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The 32-byte key from `LEVERBRIDGE_SECRET_KEY`. Its bytes never appear in logs.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    pub fn from_base64(raw: &str) -> anyhow::Result<Self> {
        let bytes = B64
            .decode(raw.trim())
            .map_err(|_| anyhow!("it is not base64; make one with `openssl rand -base64 32`"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            anyhow!(
                "it decodes to {} bytes, 32 are needed; make one with `openssl rand -base64 32`",
                b.len()
            )
        })?;
        Ok(SecretKey(bytes))
    }

    pub fn generate() -> Self {
        SecretKey(rand::random())
    }

    /// 64 bytes derived for one purpose (e.g. signing session cookies), so the raw key is used
    /// for nothing but sealing secrets.
    pub fn derive(&self, purpose: &str) -> [u8; 64] {
        let mut hasher = Sha512::new();
        hasher.update(b"leverbridge:");
        hasher.update(purpose.as_bytes());
        hasher.update(self.0);
        hasher.finalize().into()
    }

    /// Encrypts `plaintext` as base64(nonce ‖ ciphertext), bound to `context` (e.g. the row it
    /// belongs to) so a sealed value copied to another row does not open.
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.0).expect("32-byte key");
        let nonce_bytes: [u8; 12] = rand::random();
        let payload = aes_gcm::aead::Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), payload)
            .expect("AES-GCM encryption cannot fail for in-memory data");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ciphertext);
        B64.encode(out)
    }

    /// Opens a value made by [`SecretKey::seal`] with the same context.
    pub fn open(&self, context: &str, sealed: &str) -> anyhow::Result<String> {
        let bytes = B64
            .decode(sealed)
            .map_err(|_| anyhow!("sealed secret is not base64"))?;
        if bytes.len() < 12 + 16 {
            bail!("sealed secret is too short");
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let cipher = Aes256Gcm::new_from_slice(&self.0).expect("32-byte key");
        let payload = aes_gcm::aead::Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| {
                anyhow!(
                    "a stored secret could not be decrypted: was LEVERBRIDGE_SECRET_KEY changed?"
                )
            })?;
        String::from_utf8(plain).map_err(|_| anyhow!("decrypted secret is not UTF-8"))
    }
}

/// A random URL-safe token of `len` alphanumeric characters.
pub fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// An argon2id hash in PHC string form.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::thread_rng());
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("failed to hash password: {e}"))
}

/// Checks a password against a stored hash; with no hash (unknown user) it checks against a
/// fixed dummy hash so that both cases take the same time.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    verify_password_in(password, stored, &mut Vec::new())
}

/// The largest argon2 memory a stored hash may ask for (64 MiB); a larger one does not verify.
const MAX_HASH_BLOCKS: usize = 64 * 1024;

/// [`verify_password`] with argon2's working memory (about 19 MiB) supplied by the caller, so a
/// few buffers reused for every sign-in replace an allocation per attempt, which the allocator's
/// per-thread arenas would otherwise keep around.
pub fn verify_password_in(
    password: &str,
    stored: Option<&str>,
    memory: &mut Vec<argon2::Block>,
) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not-a-real-password").expect("hash"));
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(&parsed) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_HASH_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut computed = vec![0u8; expected.len()];
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut computed, &mut memory[..])
        .is_err()
    {
        return false;
    }
    let matches: bool =
        subtle::ConstantTimeEq::ct_eq(computed.as_slice(), expected.as_bytes()).into();
    matches && real
}

/// The last four characters of a secret, the only part ever shown again.
pub fn last_four(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_context() {
        let key = SecretKey::generate();
        let sealed = key.seal("org:1", "lever-key-1234");
        assert_ne!(sealed, "lever-key-1234");
        assert_eq!(key.open("org:1", &sealed).unwrap(), "lever-key-1234");
        assert!(key.open("org:2", &sealed).is_err());
        assert!(SecretKey::generate().open("org:1", &sealed).is_err());
    }

    #[test]
    fn key_must_be_32_bytes_of_base64() {
        assert!(SecretKey::from_base64("nope!").is_err());
        assert!(SecretKey::from_base64(&B64.encode([1u8; 16])).is_err());
        assert!(SecretKey::from_base64(&B64.encode([1u8; 32])).is_ok());
    }

    #[test]
    fn passwords_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong", Some(&hash)));
        assert!(!verify_password("correct horse", None));
        let mut memory = Vec::new();
        assert!(verify_password_in(
            "correct horse",
            Some(&hash),
            &mut memory
        ));
        assert!(!verify_password_in("wrong", Some(&hash), &mut memory));
        assert!(!verify_password_in("correct horse", None, &mut memory));
        assert_eq!(memory.len(), argon2::Params::default().block_count());
    }

    #[test]
    fn last_four_shows_only_the_tail() {
        assert_eq!(last_four("abcdef123"), "f123");
        assert_eq!(last_four("ab"), "ab");
    }
}
