//! Vault's AES256 scheme: PBKDF2-HMAC-SHA256 (10000 rounds) turns password and salt into an
//! AES-256 key, an HMAC key and a CTR counter block; the HMAC-SHA256 of the ciphertext is
//! checked, in constant time, before anything is decrypted; the plaintext carries PKCS#7 padding.

use super::envelope::{self, Envelope};
use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;
type HmacSha256 = Hmac<Sha256>;

const ROUNDS: u32 = 10_000;
const BLOCK: usize = 16;

struct Keys {
    aes: [u8; 32],
    mac: [u8; 32],
    iv: [u8; 16],
}

fn derive(password: &[u8], salt: &[u8]) -> Keys {
    let mut out = [0u8; 80];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, ROUNDS, &mut out);
    let mut keys = Keys {
        aes: [0; 32],
        mac: [0; 32],
        iv: [0; 16],
    };
    keys.aes.copy_from_slice(&out[..32]);
    keys.mac.copy_from_slice(&out[32..64]);
    keys.iv.copy_from_slice(&out[64..]);
    keys
}

fn mac(keys: &Keys) -> HmacSha256 {
    // HMAC takes keys of any length; 32 bytes cannot be refused.
    <HmacSha256 as KeyInit>::new_from_slice(&keys.mac).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn keystream(keys: &Keys, buf: &mut [u8]) {
    let mut c =
        Aes256Ctr::new_from_slices(&keys.aes, &keys.iv).unwrap_or_else(|_| unreachable!("fixed key and IV sizes"));
    c.apply_keystream(buf);
}

/// Decrypt with one password. `None` when the HMAC does not match (wrong password or changed
/// data) or the padding is not valid: the caller never sees garbage.
pub fn decrypt(env: &Envelope, password: &[u8]) -> Option<Vec<u8>> {
    let keys = derive(password, &env.salt);
    let mut m = mac(&keys);
    m.update(&env.ciphertext);
    m.verify_slice(&env.hmac).ok()?;
    let mut buf = env.ciphertext.clone();
    keystream(&keys, &mut buf);
    let pad = usize::from(*buf.last()?);
    if pad == 0 || pad > BLOCK || pad > buf.len() || !buf.len().is_multiple_of(BLOCK) {
        return None;
    }
    if !buf[buf.len() - pad..].iter().all(|b| usize::from(*b) == pad) {
        return None;
    }
    buf.truncate(buf.len() - pad);
    Some(buf)
}

/// Encrypt with a given salt (`ansible-vault` uses 32 random bytes, or the configured
/// `VAULT_ENCRYPT_SALT` as bytes). Returns envelope text.
pub fn encrypt_with_salt(plaintext: &[u8], password: &[u8], salt: &[u8], label: Option<&str>) -> String {
    let keys = derive(password, salt);
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut buf = plaintext.to_vec();
    buf.extend(std::iter::repeat_n(pad as u8, pad));
    keystream(&keys, &mut buf);
    let mut m = mac(&keys);
    m.update(&buf);
    let tag = m.finalize().into_bytes();
    envelope::format(salt, &tag, &buf, label)
}

/// Encrypt with a fresh random 32-byte salt from the operating system.
pub fn encrypt(plaintext: &[u8], password: &[u8], label: Option<&str>) -> std::io::Result<String> {
    use std::io::Read;
    let mut salt = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut salt)?;
    Ok(encrypt_with_salt(plaintext, password, &salt, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An envelope whose HMAC is right but whose plaintext padding is `last`-terminated garbage.
    fn with_padding(block: [u8; 16]) -> Envelope {
        let keys = derive(b"pw", b"salt");
        let mut buf = block.to_vec();
        keystream(&keys, &mut buf);
        let mut m = mac(&keys);
        m.update(&buf);
        let hmac = m.finalize().into_bytes().to_vec();
        Envelope {
            version: "1.1".into(),
            label: None,
            salt: b"salt".to_vec(),
            hmac,
            ciphertext: buf,
        }
    }

    #[test]
    fn padding_is_validated_after_the_hmac() {
        let mut good = [b'a'; 16];
        good[14] = 2;
        good[15] = 2;
        assert_eq!(decrypt(&with_padding(good), b"pw"), Some(vec![b'a'; 14]));
        let mut bad_byte = good;
        bad_byte[14] = 3;
        let cases: &[(&str, [u8; 16])] = &[("zero", [0; 16]), ("too long", [17; 16]), ("inconsistent", bad_byte)];
        for (what, block) in cases {
            assert_eq!(decrypt(&with_padding(*block), b"pw"), None, "{what}");
        }
        let mut empty = with_padding(good);
        empty.ciphertext.clear();
        assert_eq!(decrypt(&empty, b"pw"), None);
    }
}
