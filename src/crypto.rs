//! Encryption of personal data at rest and the keyed hashes used to look it up.
//!
//! One master key (`RENFANG_DATA_KEY`, never in the database) yields three sub-keys through
//! HKDF-SHA-256, so that the blind index and the token hashes cannot be turned into each other
//! or into the encryption key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Sealed values start with this byte so that a later key or cipher can sit beside this one.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;

/// What a sealed value is; bound into the ciphertext so one column's value cannot be pasted
/// into another.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    DocumentNumber,
    Phone,
    QrToken,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::DocumentNumber => b"document-number",
            Purpose::Phone => b"phone",
            Purpose::QrToken => b"qr-token",
        }
    }
}

/// Bytes of a self-service link's tag: 128 bits.
pub const SELF_SERVICE_TAG_BYTES: usize = 16;

/// Holds the derived keys; cheap to share behind an `Arc`.
pub struct Vault {
    cipher: Aes256Gcm,
    index_key: [u8; 32],
    token_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

/// A sealed value could not be opened: wrong key, or a damaged value.
#[derive(Debug, thiserror::Error)]
#[error("a stored value could not be decrypted (wrong RENFANG_DATA_KEY or damaged data)")]
pub struct OpenError;

impl Vault {
    /// Derives the sub-keys from the 32-byte master key.
    pub fn new(master: &[u8; 32]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"renfang/v1"), master);
        let mut enc = [0u8; 32];
        let mut index_key = [0u8; 32];
        let mut token_key = [0u8; 32];
        // Expanding 32 bytes from SHA-256 HKDF cannot fail.
        hk.expand(b"aes-256-gcm", &mut enc).expect("hkdf length");
        hk.expand(b"blind-index", &mut index_key)
            .expect("hkdf length");
        hk.expand(b"qr-token-hash", &mut token_key)
            .expect("hkdf length");
        Self {
            cipher: Aes256Gcm::new(&enc.into()),
            index_key,
            token_key,
        }
    }

    /// Encrypts with AES-256-GCM under a fresh random nonce: `version | nonce | ciphertext`.
    pub fn seal(&self, purpose: Purpose, plaintext: &str) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.label(),
                },
            )
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts a value made by [`Vault::seal`] for the same purpose.
    pub fn open(&self, purpose: Purpose, sealed: &[u8]) -> Result<String, OpenError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != FORMAT_V1 {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: purpose.label(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }

    /// The blind index (HMAC-SHA-256) of a normalised value, for equality look-ups.
    pub fn blind_index(&self, purpose: Purpose, value: &str) -> Vec<u8> {
        hmac(&self.index_key, purpose.label(), value)
    }

    /// The look-up hash of a poster token; a database dump holds only this.
    pub fn token_hash(&self, token: &str) -> Vec<u8> {
        hmac(&self.token_key, b"token", token)
    }

    /// The 128-bit tag that makes a registration's receipt number into its tenants'
    /// self-service link: nothing of the link is stored, and only this key can make one.
    pub fn self_service_tag(&self, receipt: &str) -> [u8; SELF_SERVICE_TAG_BYTES] {
        let full = hmac(&self.token_key, b"self-service", receipt);
        let mut tag = [0u8; SELF_SERVICE_TAG_BYTES];
        tag.copy_from_slice(&full[..SELF_SERVICE_TAG_BYTES]);
        tag
    }

    /// Whether `tag` is the self-service tag of `receipt`, compared in constant time.
    pub fn verify_self_service(&self, receipt: &str, tag: &[u8]) -> bool {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.token_key).expect("any key length");
        mac.update(b"self-service");
        mac.update(&[0]);
        mac.update(receipt.as_bytes());
        tag.len() == SELF_SERVICE_TAG_BYTES && mac.verify_truncated_left(tag).is_ok()
    }
}

use crate::domain::tip::{CHECK_ALPHABET, CHECK_CHARS};

impl Vault {
    /// The check its sender holds beside a tip's reference (`K7QD9X`): 30 bits of a keyed
    /// hash of the reference. References are sequential, so the reference alone proves
    /// nothing; with the check it shows who filed the tip (for the reward scheme) and opens
    /// its status. Nothing of it is stored.
    pub fn tip_check(&self, reference: &str) -> String {
        let mac = hmac(&self.token_key, b"tip-check", reference);
        let bits = u64::from_be_bytes(mac[..8].try_into().expect("8 bytes of 32"));
        (0..CHECK_CHARS)
            .map(|i| char::from(CHECK_ALPHABET[((bits >> (59 - 5 * i)) & 31) as usize]))
            .collect()
    }

    /// Whether `check` is the check of `reference`, compared in constant time.
    pub fn verify_tip_check(&self, reference: &str, check: &str) -> bool {
        let want = self.tip_check(reference);
        want.len() == check.len()
            && want
                .bytes()
                .zip(check.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

/// A 32-byte key for `label`, derived from the master key as the vault's own keys are.
pub fn sub_key(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(b"renfang/v1"), master)
        .expand(label, &mut key)
        .expect("hkdf length");
    key
}

fn hmac(key: &[u8; 32], domain: &[u8], value: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(domain);
    mac.update(&[0]);
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// HMAC-SHA-256 of some bytes under a sub-key (the audit chain's links).
pub fn hmac_sha256(key: &[u8; 32], bytes: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(bytes);
    mac.finalize().into_bytes().to_vec()
}

/// SHA-256 of some bytes (request fingerprints, session ids).
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    Sha256::digest(bytes).to_vec()
}

/// An Argon2id hash of a password, in PHC string form. CPU-heavy: call it off the async
/// workers (`spawn_blocking`).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| anyhow::anyhow!("making a salt: {e}"))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` matches a PHC hash; a malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of a random password, checked when the user does not exist so that a wrong
/// username takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| hash_password(&format!("{:x}", rand::random::<u128>())).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(byte: u8) -> Vault {
        Vault::new(&[byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_purpose_only() {
        let v = vault(7);
        let sealed = v.seal(Purpose::DocumentNumber, "11010519491231002X");
        assert_eq!(
            v.open(Purpose::DocumentNumber, &sealed).unwrap(),
            "11010519491231002X"
        );
        assert!(v.open(Purpose::Phone, &sealed).is_err());
        assert!(vault(8).open(Purpose::DocumentNumber, &sealed).is_err());
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let v = vault(1);
        assert_ne!(
            v.seal(Purpose::Phone, "13800138000"),
            v.seal(Purpose::Phone, "13800138000")
        );
    }

    #[test]
    fn a_damaged_value_does_not_open() {
        let v = vault(1);
        let mut sealed = v.seal(Purpose::Phone, "13800138000");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(v.open(Purpose::Phone, &sealed).is_err());
        assert!(v.open(Purpose::Phone, &[1, 2, 3]).is_err());
    }

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong"));
        assert!(!verify_password("not a hash", "correct horse"));
    }

    #[test]
    fn blind_indexes_are_stable_and_keyed() {
        let a = vault(1).blind_index(Purpose::DocumentNumber, "X1");
        assert_eq!(a, vault(1).blind_index(Purpose::DocumentNumber, "X1"));
        assert_ne!(a, vault(2).blind_index(Purpose::DocumentNumber, "X1"));
        assert_ne!(a, vault(1).blind_index(Purpose::Phone, "X1"));
        assert_ne!(a, vault(1).token_hash("X1"));
    }
}
