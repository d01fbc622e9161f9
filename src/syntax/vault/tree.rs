//! Decrypting what the YAML loader found: inline `!vault` values in a tree, and whole files
//! written by `ansible-vault encrypt`.

use super::envelope;
use super::secrets::VaultSecrets;
use crate::syntax::error::{Error, ErrorKind, Result};
use crate::syntax::node::{Node, NodeKind};
use crate::syntax::span::{SourceFile, Span};
use crate::syntax::yaml;
use crate::value::{Value, VaultValue};
use std::path::Path;
use std::sync::Arc;

const WRONG: &str = "decryption failed: wrong vault password or the data was changed";
const WRONG_HELP: &str = "check the vault password (and vault id label) you gave; if it is right, the encrypted data was altered: restore it from version control or re-encrypt it with ansible-vault";
const HOW: &str = "give the vault password with --vault-password-file FILE, --vault-id label@FILE or --ask-vault-pass";

/// Decrypt vault envelope text; errors point at `span` and never carry plaintext.
pub fn decrypt_text(text: &str, secrets: &VaultSecrets, span: &Span) -> Result<Vec<u8>> {
    let env = envelope::parse(text).map_err(|reason| {
        Error::at(
            ErrorKind::Vault {
                message: format!("malformed vault data: {reason}"),
            },
            span,
        )
        .with_help("the encrypted data is damaged: restore it from version control or re-encrypt it with ansible-vault")
    })?;
    if secrets.is_empty() {
        return Err(Error::at(
            ErrorKind::Vault {
                message: "this is vault-encrypted and no vault password was given".into(),
            },
            span,
        )
        .with_help(HOW));
    }
    secrets
        .candidates(env.label.as_deref())
        .find_map(|s| super::cipher::decrypt(&env, s.expose()))
        .ok_or_else(|| Error::at(ErrorKind::Vault { message: WRONG.into() }, span).with_help(WRONG_HELP))
}

/// The text of one vault value; errors point at `span` and never carry plaintext.
fn open_text(ciphertext: &str, secrets: &VaultSecrets, span: &Span) -> Result<String> {
    let bytes = decrypt_text(ciphertext, secrets, span)?;
    String::from_utf8(bytes).map_err(|_| {
        Error::at(
            ErrorKind::Vault {
                message: "the decrypted vault value is not UTF-8 text".into(),
            },
            span,
        )
    })
}

/// Fill in the plaintext of every `!vault` value in the tree. Without any password the values
/// stay encrypted (using one later is the error); with passwords, one that none of them
/// opens is an error here, before anything runs.
pub fn decrypt_in_place(node: &mut Node, secrets: &VaultSecrets) -> Result<()> {
    if secrets.is_empty() {
        return Ok(());
    }
    // The span given here is replaced by the value's own.
    let anywhere = Span::synthetic("");
    decrypt_in_place_with(node, &|text| open_text(text, secrets, &anywhere))
}

/// Fill in every `!vault` value of the tree with `open` (given the envelope text), for loaders
/// that hold a decryption hook rather than the passwords. An error points at the value.
pub fn decrypt_in_place_with(node: &mut Node, open: &dyn Fn(&str) -> Result<String>) -> Result<()> {
    match &mut node.kind {
        NodeKind::Vault(v) if v.plaintext.is_none() => {
            let text = open(&v.ciphertext).map_err(|mut e| {
                e.span = Some(node.span.clone());
                e
            })?;
            *v = Arc::new(VaultValue {
                ciphertext: v.ciphertext.clone(),
                plaintext: Some(text),
            });
        }
        NodeKind::Seq(items) => {
            for item in items {
                decrypt_in_place_with(item, open)?;
            }
        }
        NodeKind::Map(entries) => {
            for (_, value) in entries {
                decrypt_in_place_with(value, open)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Open every closed vault value inside `value` (one read at run time, with no spans left).
/// Without passwords they stay closed, as in [`decrypt_in_place`]; errors say `what` held them.
pub fn open_value(value: &mut Value, secrets: &VaultSecrets, what: &str) -> Result<()> {
    if secrets.is_empty() {
        return Ok(());
    }
    match value {
        Value::Vault(v) if v.plaintext.is_none() => {
            let text = open_text(&v.ciphertext, secrets, &Span::synthetic(what))?;
            *v = Arc::new(VaultValue {
                ciphertext: v.ciphertext.clone(),
                plaintext: Some(text),
            });
        }
        Value::List(items) => {
            for item in items {
                open_value(item, secrets, what)?;
            }
        }
        Value::Map(m) => {
            for (_, item) in m.iter_mut() {
                open_value(item, secrets, what)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `span` in the same file and place, without the text: errors about decrypted content must
/// not quote it.
pub fn blind_span(span: &Span) -> Span {
    Span::new(SourceFile::new(span.source.path.clone(), ""), span.line, span.col)
}

/// The plaintext of a file written by `ansible-vault encrypt`; errors name the file (never its
/// content) and say how to give a password.
pub fn decrypt_file_text(path: &Path, text: &str, secrets: &VaultSecrets) -> Result<String> {
    // Line 1, column 1: the `$ANSIBLE_VAULT` header the whole file hangs on.
    let file_span = Span::new(SourceFile::new(path, ""), 1, 1);
    if secrets.is_empty() {
        return Err(Error::at(
            ErrorKind::Vault {
                message: format!("{} is vault-encrypted and no vault password was given", path.display()),
            },
            &file_span,
        )
        .with_help(format!(
            "run with --vault-password-file FILE (or --vault-id label@FILE, or --ask-vault-pass) to decrypt {}",
            path.display()
        )));
    }
    let bytes = decrypt_text(text, secrets, &file_span)?;
    String::from_utf8(bytes).map_err(|_| {
        Error::at(
            ErrorKind::Vault {
                message: "the decrypted file is not UTF-8 text".into(),
            },
            &file_span,
        )
    })
}

/// Load a YAML file that may be encrypted as a whole. Spans into a decrypted file keep
/// path, line and column but carry no text, so no error can quote the secret content.
pub fn load_maybe_encrypted_yaml(path: &Path, secrets: &VaultSecrets) -> Result<Node> {
    let source = yaml::read_source(path)?;
    if !envelope::is_encrypted(&source.text) {
        let mut node = yaml::parse(source)?;
        decrypt_in_place(&mut node, secrets)?;
        return Ok(node);
    }
    let text = decrypt_file_text(path, &source.text, secrets)?;
    let blind = SourceFile::new(path, "");
    let mut node = match yaml::parse(SourceFile::new(path, text)) {
        Ok(n) => n,
        Err(mut e) => {
            e.span = e.span.map(|s| Span::new(blind.clone(), s.line, s.col));
            return Err(e);
        }
    };
    reanchor(&mut node, &blind);
    decrypt_in_place(&mut node, secrets)?;
    Ok(node)
}

fn reanchor(node: &mut Node, source: &Arc<SourceFile>) {
    node.span = Span::new(source.clone(), node.span.line, node.span.col);
    match &mut node.kind {
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| reanchor(n, source)),
        NodeKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            reanchor(k, source);
            reanchor(v, source);
        }),
        _ => {}
    }
}
