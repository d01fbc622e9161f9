//! Ansible Vault, format 1.1 and 1.2 (AES256): reading envelopes, decrypting inline `!vault`
//! values and encrypted files, and gathering vault passwords.

mod cipher;
pub mod envelope;
mod secrets;
mod tree;

pub use cipher::{encrypt, encrypt_with_salt};
pub use envelope::is_encrypted;
pub use secrets::{DEFAULT_LABEL, Secret, Source, VaultId, VaultSecrets, prompt_password, read_password_file};
pub use tree::{
    blind_span, decrypt_file_text, decrypt_in_place, decrypt_in_place_with, decrypt_text, load_maybe_encrypted_yaml,
    open_value,
};

#[cfg(test)]
mod tests;
