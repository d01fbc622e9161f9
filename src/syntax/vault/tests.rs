//! Vectors made by ansible-vault (ansible-core 2.19.14), so we know we read and write what it does.

use super::*;
use crate::syntax::ErrorKind;
use crate::syntax::node::NodeKind;
use crate::syntax::span::{SourceFile, Span};
use crate::syntax::yaml;
use crate::value::Value;

const HUNTER2: &str = "hunter2";
const HORSE: &str = "correct horse";

/// `printf 'secret value' | ansible-vault encrypt_string --vault-password-file pw1` (hunter2)
const V11_SECRET_VALUE: &str = "$ANSIBLE_VAULT;1.1;AES256
65666434333337303364383230326662616463636132353731336462383531383131343639666364
6631313362306436623930653634373030366166346236340a353332316232666531363330396231
32306436343730626365393963653338306535653232653038323861393735633865666166623364
6561343434373031320a386233356634376634393339353338633537653738383736646135333538
6335
";

/// `printf 'multi\nline\n' | ansible-vault encrypt_string --vault-id prod@pw2` (correct horse)
const V12_PROD_MULTILINE: &str = "$ANSIBLE_VAULT;1.2;AES256;prod
62383161616436366535353035663333613733626364383833623830616665663930363866633732
3563626539333965636264663363656365313863643030310a656333633364346462313961613161
35323964363635323634376435666633383231633663383439616438303563623332656531353562
3764363565616134630a373830626662393833353332643937633564306535306331626262633639
6535
";

/// `ansible-vault encrypt --vault-password-file pw1 vars.yml` (hunter2)
const V11_FILE: &str = "$ANSIBLE_VAULT;1.1;AES256
61636561396331353630653132643135343666383162336465323038303836356663613839343134
6265323133666135636331396337323863663031383962610a303861653031653537613164313561
61653531343239366564393535666634396166396162306563353034313038656335643963633337
3762323436326566320a613964323165353437356161666263656431643631373266623739626538
64666332616664653365346364653334303763643030343864623162306231363034
";
const V11_FILE_PLAIN: &str = "admin_user: root\nports: [1, 2]\n";

/// `ansible-vault encrypt --vault-id dev@pw2 f2.yml` (correct horse)
const V12_FILE: &str = "$ANSIBLE_VAULT;1.2;AES256;dev
37623466613563356633333232363433623165616361633934336630343234386634326135336261
3637623838663136366465663032613066623634643565640a313266376334313266313934653438
37663830623661363066356631383334373438316264336634366335346364306637643164663033
3065616535303834360a306664613265386563346130646536353135303335643264366439323339
3262
";

/// Sixteen bytes of plaintext: a whole block of padding (hunter2).
const V11_SIXTEEN: &str = "$ANSIBLE_VAULT;1.1;AES256
62643835643532663730356464643237646466303231636637343966356534383539393762366439
3866623265323861393164386538333830323435656266650a366131333231363239626465363865
39393931663062366664366535383639616362623536336564373236366333316538353663363938
3031353765623362320a636135613237623031643764363238383864303139306135373332336330
35333366383361643364373330356539313134666165666535383966633965633933
";

/// `ANSIBLE_VAULT_ENCRYPT_SALT=fixedsalt`, plaintext `x`, hunter2: our encryption must match.
const V11_SALTED: &str = "$ANSIBLE_VAULT;1.1;AES256
3636363937383635363437333631366337340a656637323835626338326462663038653135616535
37323930313630323639646533616265343539363231303162323338363235623230343230626330
3466340a3938346662313835326265343439313134353832326664353630633738616364
";

/// The same with `--vault-id lbl@pw2` (correct horse).
const V12_SALTED: &str = "$ANSIBLE_VAULT;1.2;AES256;lbl
3636363937383635363437333631366337340a333239613261623333316133663738323930643834
61666565666661333435633330633738643061346433663763393131643861343033336334356231
3137300a6366643333643834346336323036333736393762363862656533653235323964
";

fn secrets(entries: &[(&str, &str)]) -> VaultSecrets {
    let mut s = VaultSecrets::new();
    for (label, pw) in entries {
        s.add(*label, Secret::new(pw.as_bytes().to_vec()));
    }
    s
}

fn span() -> Span {
    Span::new(SourceFile::new("group_vars/all.yml", "db_password: !vault |\n"), 1, 14)
}

/// (label, password) pairs.
type Passwords = &'static [(&'static str, &'static str)];

#[test]
fn ansible_vault_vectors_decrypt() {
    let cases: &[(&str, Passwords, &str)] = &[
        (V11_SECRET_VALUE, &[("default", HUNTER2)], "secret value"),
        (V12_PROD_MULTILINE, &[("prod", HORSE)], "multi\nline\n"),
        // A 1.2 label that matches no password still tries every password.
        (
            V12_PROD_MULTILINE,
            &[("default", HUNTER2), ("other", HORSE)],
            "multi\nline\n",
        ),
        (V11_FILE, &[("default", HUNTER2)], V11_FILE_PLAIN),
        (V12_FILE, &[("dev", HORSE)], "token: \"abc\"\n"),
        (V11_SIXTEEN, &[("x", "nope"), ("default", HUNTER2)], "0123456789abcdef"),
        (V11_SALTED, &[("default", HUNTER2)], "x"),
        (V12_SALTED, &[("lbl", HORSE)], "x"),
    ];
    for (text, pws, want) in cases {
        let got = decrypt_text(text, &secrets(pws), &span()).expect("decrypts");
        assert_eq!(String::from_utf8_lossy(&got), *want);
    }
}

#[test]
fn encryption_matches_ansible_vault_byte_for_byte() {
    assert_eq!(
        encrypt_with_salt(b"x", HUNTER2.as_bytes(), b"fixedsalt", None),
        V11_SALTED
    );
    assert_eq!(
        encrypt_with_salt(b"x", HORSE.as_bytes(), b"fixedsalt", Some("lbl")),
        V12_SALTED
    );
}

#[test]
fn random_salt_round_trips() {
    for (plain, label) in [
        ("", None),
        ("a", Some("prod")),
        ("0123456789abcdef", None),
        ("ünïcode\n", Some("default")),
    ] {
        let text = encrypt(plain.as_bytes(), b"pw", label).expect("encrypts");
        let s = secrets(&[(label.unwrap_or("default"), "pw")]);
        assert_eq!(decrypt_text(&text, &s, &span()).expect("decrypts"), plain.as_bytes());
        assert_ne!(
            encrypt(plain.as_bytes(), b"pw", label).expect("encrypts"),
            text,
            "salt must be random"
        );
    }
}

fn flip_hex_digit(text: &str, line: usize, col: usize) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if let Some(l) = lines.get_mut(line) {
        let mut chars: Vec<char> = l.chars().collect();
        if let Some(c) = chars.get_mut(col) {
            *c = if *c == '3' { '6' } else { '3' };
        }
        *l = chars.into_iter().collect();
    }
    lines.join("\n")
}

#[test]
fn wrong_password_or_changed_data_is_a_vault_error_never_garbage() {
    let cases: Vec<(String, VaultSecrets)> = vec![
        (V11_SECRET_VALUE.to_string(), secrets(&[("default", "hunter3")])),
        (V12_PROD_MULTILINE.to_string(), secrets(&[("prod", HUNTER2)])),
        // Last ciphertext byte changed (hex digit inside the outer hex layer).
        (flip_hex_digit(V11_SECRET_VALUE, 5, 1), secrets(&[("default", HUNTER2)])),
        // A salt byte changed.
        (flip_hex_digit(V11_SECRET_VALUE, 1, 1), secrets(&[("default", HUNTER2)])),
        // An HMAC byte changed.
        (
            flip_hex_digit(V11_SECRET_VALUE, 2, 61),
            secrets(&[("default", HUNTER2)]),
        ),
    ];
    for (text, pws) in cases {
        let e = decrypt_text(&text, &pws, &span()).expect_err("must fail");
        assert!(matches!(e.kind, ErrorKind::Vault { .. }), "{e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with("group_vars/all.yml:1:14: ")
                && (shown.contains("wrong vault password or the data was changed")
                    || shown.contains("malformed vault data")),
            "{shown}"
        );
        assert!(!shown.contains(HUNTER2) && !shown.contains("secret value"), "{shown}");
    }
}

#[test]
fn no_password_is_an_error_that_says_how_to_give_one() {
    let e = decrypt_text(V11_SECRET_VALUE, &VaultSecrets::new(), &span()).expect_err("must fail");
    assert!(e.to_string().contains("--vault-password-file"), "{e}");
}

fn indent(text: &str, by: usize) -> String {
    text.lines().map(|l| format!("{}{l}\n", " ".repeat(by))).collect()
}

#[test]
fn inline_vault_values_decrypt_in_place() {
    let text = format!(
        "db:\n  password: !vault |\n{}  user: app\nlist:\n  - !vault |\n{}",
        indent(V11_SECRET_VALUE, 4),
        indent(V11_SECRET_VALUE, 6)
    );
    let mut node = yaml::parse(SourceFile::new("vars.yml", text)).expect("parses");
    // Without a password nothing changes and nothing fails.
    decrypt_in_place(&mut node, &VaultSecrets::new()).expect("no-op");
    assert!(
        matches!(&node.get("list").and_then(|l| l.as_seq()).and_then(|s| s.first()).map(|n| &n.kind), Some(NodeKind::Vault(v)) if v.plaintext.is_none())
    );
    decrypt_in_place(&mut node, &secrets(&[("default", HUNTER2)])).expect("decrypts");
    let v = node.to_value();
    let m = v.as_map().expect("map");
    assert_eq!(
        m["db"].as_map().expect("map")["password"].as_str(),
        Some("secret value")
    );
    assert_eq!(m["db"].as_map().expect("map")["user"], Value::str("app"));
    assert_eq!(m["list"].as_list().expect("list")[0].as_str(), Some("secret value"));
    // Debug output of the value never shows the plaintext.
    assert!(!format!("{v:?}").contains("secret value"));
}

#[test]
fn inline_vault_with_a_wrong_password_points_at_the_value() {
    let mut node = yaml::parse(SourceFile::new(
        "vars.yml",
        format!("x: 1\npw: !vault |\n{}", indent(V11_SECRET_VALUE, 2)),
    ))
    .expect("parses");
    let at = node.get("pw").map(|n| n.span.clone());
    let e = decrypt_in_place(&mut node, &secrets(&[("default", "bad")])).expect_err("must fail");
    assert_eq!(e.span, at, "{e}");
    assert!(e.to_string().starts_with("vars.yml:"), "{e}");
}

#[test]
fn whole_encrypted_files_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let enc = dir.path().join("secrets.yml");
    std::fs::write(&enc, V11_FILE).expect("write");
    let node = load_maybe_encrypted_yaml(&enc, &secrets(&[("default", HUNTER2)])).expect("loads");
    let v = node.to_value();
    assert_eq!(v.as_map().expect("map")["admin_user"], Value::str("root"));
    assert_eq!(
        v.as_map().expect("map")["ports"],
        Value::List(vec![Value::Int(1), Value::Int(2)])
    );
    // Spans keep the line but no text to quote.
    let ports = node.get("ports").expect("ports");
    assert_eq!(ports.span.line, 2);
    assert!(ports.span.snippet().is_empty());

    let plain = dir.path().join("plain.yml");
    std::fs::write(&plain, "a: 1\n").expect("write");
    let v = load_maybe_encrypted_yaml(&plain, &VaultSecrets::new())
        .expect("loads")
        .to_value();
    assert_eq!(v.as_map().expect("map")["a"], Value::Int(1));

    let e = load_maybe_encrypted_yaml(&enc, &VaultSecrets::new()).expect_err("must fail");
    let shown = e.to_string();
    assert!(
        shown.contains("secrets.yml") && shown.contains("--vault-password-file"),
        "{shown}"
    );

    let e = load_maybe_encrypted_yaml(&enc, &secrets(&[("default", "wrong")])).expect_err("must fail");
    let shown = e.to_string();
    // Where (the header at 1:1), what happened, and what to do about either cause.
    assert!(shown.contains("secrets.yml:1:1"), "{shown}");
    assert!(shown.contains("wrong vault password"), "{shown}");
    assert!(shown.contains("restore it from version control"), "{shown}");
}

#[test]
fn yaml_errors_inside_encrypted_files_do_not_quote_the_plaintext() {
    let dir = tempfile::tempdir().expect("tempdir");
    let enc = dir.path().join("bad.yml");
    std::fs::write(
        &enc,
        encrypt(b"ok: 1\npassword: [topsecret\n", b"pw", None).expect("encrypts"),
    )
    .expect("write");
    let e = load_maybe_encrypted_yaml(&enc, &secrets(&[("default", "pw")])).expect_err("must fail");
    assert!(matches!(e.kind, ErrorKind::Yaml { .. }), "{e}");
    assert!(!e.to_string().contains("topsecret"), "{e}");
}

#[test]
fn password_files_scripts_and_prompts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pw");
    std::fs::write(&file, "  hunter2 \n\n").expect("write");
    let script = dir.path().join("pw.sh");
    std::fs::write(&script, "#!/bin/sh\necho hunter2\n").expect("write");
    let client = dir.path().join("vault-client.sh");
    std::fs::write(&client, "#!/bin/sh\n[ \"$1\" = --vault-id ] && echo \"pw-for-$2\"\n").expect("write");
    let failing = dir.path().join("fail.sh");
    std::fs::write(&failing, "#!/bin/sh\nexit 3\n").expect("write");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").expect("write");
    #[cfg(unix)]
    for p in [&script, &client, &failing] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let ids = vec![
        VaultId::parse("pw", dir.path()),
        VaultId::parse("s@pw.sh", dir.path()),
        VaultId::parse("prod@vault-client.sh", dir.path()),
        VaultId::parse("ask@prompt", dir.path()),
    ];
    assert_eq!(ids[0].label, "default");
    let mut asked = Vec::new();
    let s = VaultSecrets::load(&ids, &mut |p: &str| {
        asked.push(p.to_string());
        Ok("typed\n".to_string())
    })
    .expect("loads");
    assert_eq!(asked, ["Vault password (ask): "]);
    let got: Vec<Vec<u8>> = s.candidates(Some("prod")).map(|s| s.expose().to_vec()).collect();
    assert_eq!(
        got,
        [
            b"pw-for-prod".to_vec(),
            b"hunter2".to_vec(),
            b"hunter2".to_vec(),
            b"typed".to_vec()
        ]
    );
    assert!(!format!("{s:?}").contains("hunter2"));

    let no_prompt =
        &mut |_: &str| -> std::io::Result<String> { Err(std::io::Error::other("standard input is not a terminal")) };
    for (id, want) in [
        ("fail.sh", "failed"),
        ("empty", "is empty"),
        ("missing", "cannot read vault password file"),
        ("prompt", "not a terminal"),
        ("", "is a directory"),
    ] {
        let e = VaultSecrets::load(&[VaultId::parse(id, dir.path())], no_prompt).expect_err("must fail");
        assert!(
            matches!(e.kind, ErrorKind::Vault { .. }) && e.to_string().contains(want),
            "{id}: {e}"
        );
    }
}

#[test]
fn closed_values_read_at_run_time_open_or_fail_naming_their_file() {
    use crate::value::VaultValue;
    use std::sync::Arc;
    let closed = |text: &str| {
        Value::Vault(Arc::new(VaultValue {
            ciphertext: text.to_string(),
            plaintext: None,
        }))
    };
    let sealed = encrypt_with_salt(b"hunter2", b"pw", &[7u8; 32], None);
    let mut facts = Value::Map(
        [
            ("a".to_string(), closed(&sealed)),
            ("nested".to_string(), Value::List(vec![closed(&sealed)])),
        ]
        .into_iter()
        .collect(),
    );
    // No password: left closed, as at load time.
    open_value(&mut facts, &VaultSecrets::new(), "v.yml").expect("no password is not an error");
    assert!(matches!(&facts.as_map().expect("map")["a"], Value::Vault(v) if v.plaintext.is_none()));
    open_value(&mut facts, &secrets(&[("default", "pw")]), "v.yml").expect("opens");
    let m = facts.as_map().expect("map");
    assert_eq!(m["a"].as_str(), Some("hunter2"));
    assert_eq!(m["nested"].as_list().expect("list")[0].as_str(), Some("hunter2"));

    let mut wrong = closed(&sealed);
    let e = open_value(&mut wrong, &secrets(&[("default", "nope")]), "a vault value in v.yml").expect_err("must fail");
    let shown = e.to_string();
    assert!(
        shown.contains("v.yml") && shown.contains("wrong vault password"),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");
}
