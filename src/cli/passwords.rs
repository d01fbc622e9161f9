//! Passwords asked for before the run starts: connection (`-k`, `--connection-password-file`),
//! privilege escalation (`-K`, `--become-password-file`) and vault passwords.

use super::error::{Error, ErrorKind, Result};
use super::run_config::RunConfig;
use crate::syntax::vault::{Secret, VaultSecrets, read_password_file};

/// Reads one line from the terminal without echo, given the prompt text.
/// [`crate::syntax::vault::prompt_password`] is the real one; tests pass their own.
pub type Prompt<'a> = &'a mut dyn FnMut(&str) -> std::io::Result<String>;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Passwords {
    pub connection: Option<Secret>,
    pub r#become: Option<Secret>,
}

fn prompt_err(what: &str, e: std::io::Error, help: &str) -> Error {
    Error::new(
        ErrorKind::BadOption {
            message: format!("cannot ask for the {what} password: {e}"),
        },
        None,
    )
    .with_help(help.to_string())
}

/// Ask for or read the connection and become passwords, as ansible-playbook does at start.
/// An empty become password after `-k -K` means "the same as the SSH password".
pub fn ask_passwords(rc: &RunConfig, prompt: Prompt<'_>) -> Result<Passwords> {
    let mut out = Passwords::default();
    let mut become_prompt = "BECOME password: ";
    if rc.ask_pass {
        let pw = prompt("SSH password: ")
            .map_err(|e| prompt_err("SSH", e, "use --connection-password-file FILE when not on a terminal"))?;
        out.connection = Some(Secret::new(pw.into_bytes()));
        become_prompt = "BECOME password[defaults to SSH password]: ";
    } else if let Some(f) = &rc.connection_password_file {
        out.connection = Some(read_password_file(f, "default")?);
    }
    if rc.ask_become_pass {
        let pw = prompt(become_prompt)
            .map_err(|e| prompt_err("become", e, "use --become-password-file FILE when not on a terminal"))?;
        out.r#become = if pw.is_empty() && rc.ask_pass {
            out.connection.clone()
        } else {
            Some(Secret::new(pw.into_bytes()))
        };
    } else if let Some(f) = &rc.become_password_file {
        out.r#become = Some(read_password_file(f, "default")?);
    }
    Ok(out)
}

/// Load every vault password the run configuration points at, in Ansible's order.
pub fn vault_secrets(rc: &RunConfig, prompt: Prompt<'_>) -> Result<VaultSecrets> {
    Ok(VaultSecrets::load(&rc.vault_ids, prompt)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Environment, Options};

    fn rc(dir: &std::path::Path, f: impl FnOnce(&mut Options)) -> RunConfig {
        std::fs::write(dir.join("p.yml"), "[]").expect("write");
        let mut o = Options {
            playbooks: vec!["p.yml".into()],
            ..Options::default()
        };
        f(&mut o);
        let env = Environment {
            cwd: dir.to_path_buf(),
            system_config: dir.join("none"),
            ..Environment::default()
        };
        RunConfig::merge(o, &env, None, Vec::new()).expect("config")
    }

    /// Config, answers typed, prompts expected, connection and become passwords expected.
    type Case = (
        RunConfig,
        Vec<&'static str>,
        &'static [&'static str],
        Option<&'static str>,
        Option<&'static str>,
    );

    #[test]
    fn prompts_and_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bp"), "becomepw\n").expect("write");
        std::fs::write(dir.path().join("vp"), "vaultpw\n").expect("write");
        let cases: Vec<Case> = vec![
            (rc(dir.path(), |_| {}), vec![], &[], None, None),
            (
                rc(dir.path(), |o| o.ask_pass = true),
                vec!["sshpw"],
                &["SSH password: "],
                Some("sshpw"),
                None,
            ),
            (
                rc(dir.path(), |o| {
                    o.ask_pass = true;
                    o.ask_become_pass = true
                }),
                vec!["sshpw", ""],
                &["SSH password: ", "BECOME password[defaults to SSH password]: "],
                Some("sshpw"),
                Some("sshpw"),
            ),
            (
                rc(dir.path(), |o| o.ask_become_pass = true),
                vec!["b"],
                &["BECOME password: "],
                None,
                Some("b"),
            ),
            (
                rc(dir.path(), |o| o.become_password_file = Some("bp".into())),
                vec![],
                &[],
                None,
                Some("becomepw"),
            ),
        ];
        for (config, mut answers, want_prompts, conn, bec) in cases {
            answers.reverse();
            let mut asked = Vec::new();
            let got = ask_passwords(&config, &mut |p: &str| {
                asked.push(p.to_string());
                Ok(answers.pop().unwrap_or_default().to_string())
            })
            .expect("passwords");
            assert_eq!(asked, want_prompts);
            assert_eq!(
                got.connection.as_ref().map(|s| s.expose().to_vec()),
                conn.map(|c| c.as_bytes().to_vec())
            );
            assert_eq!(
                got.r#become.as_ref().map(|s| s.expose().to_vec()),
                bec.map(|c| c.as_bytes().to_vec())
            );
            assert!(!format!("{got:?}").contains("pw"), "{got:?}");
        }
        let config = rc(dir.path(), |o| o.vault_password_files = vec!["vp".into()]);
        let secrets = vault_secrets(&config, &mut |_: &str| Err(std::io::Error::other("no tty"))).expect("secrets");
        assert_eq!(
            secrets
                .candidates(None)
                .map(|s| s.expose().to_vec())
                .collect::<Vec<_>>(),
            [b"vaultpw".to_vec()]
        );
        let no_tty = rc(dir.path(), |o| o.ask_become_pass = true);
        let e = ask_passwords(&no_tty, &mut |_: &str| {
            Err(std::io::Error::other("standard input is not a terminal"))
        })
        .expect_err("must fail");
        assert!(e.to_string().contains("--become-password-file"), "{e}");
    }
}
