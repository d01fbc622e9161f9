//! `template`: render a controller template (`src:`, looked up under `templates/`) with the
//! host's variables and write it like `copy` does.

use super::args::Args;
use super::file_attrs::Wanted;
use super::write_file::{COMMON_FILE_ARGS, WriteRequest, write};
use super::{ModuleCtx, Outcome};
use crate::connection::{self, BoxFuture};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        match request(ctx) {
            Ok(req) => write(ctx, req).await,
            Err(msg) => Ok(Outcome::fail(msg)),
        }
    })
}

fn request(ctx: &ModuleCtx<'_>) -> Result<WriteRequest, String> {
    let args = Args::new("template", ctx.args);
    let mut known = vec![
        "src",
        "dest",
        "newline_sequence",
        "trim_blocks",
        "lstrip_blocks",
        "output_encoding",
        "block_start_string",
        "block_end_string",
        "variable_start_string",
        "variable_end_string",
        "comment_start_string",
        "comment_end_string",
    ];
    known.extend_from_slice(COMMON_FILE_ARGS);
    args.only(&known)?;
    unsupported_settings(&args)?;
    let src = args.required_str("src")?;
    let dest = args.required_str("dest")?;
    let path = ctx
        .find_source("templates", &src)
        .ok_or_else(|| format!("Could not find or access '{src}'"))?;
    let extra = super::template_vars::template_vars(&src, &path, &dest, ctx.vars);
    let vars: std::sync::Arc<dyn crate::template::Vars> =
        std::sync::Arc::new(crate::template::MapVars::over(ctx.vars.clone(), extra));
    let rendered = ctx
        .templar
        .render_template_file(&path, &vars)
        .map_err(|e| format!("AnsibleError: {e}"))?;
    let content = match args.str("newline_sequence")?.as_deref() {
        None | Some("\n") | Some("\\n") => rendered,
        Some("\r\n") | Some("\\r\\n") => rendered.replace('\n', "\r\n"),
        Some("\r") | Some("\\r") => rendered.replace('\n', "\r"),
        Some(other) => {
            return Err(format!(
                "newline_sequence must be one of \\n, \\r, \\r\\n, not {other:?}"
            ));
        }
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| src.clone());
    Ok(WriteRequest {
        content: content.into_bytes(),
        dest,
        src_name: Some(name),
        src_label: path.display().to_string(),
        want: Wanted::from_args_preserving(&args, &path)?,
        force: args.bool("force", true)?,
        backup: args.bool("backup", false)?,
        validate: args.str("validate")?,
        directory_mode: super::write_file::directory_mode(&args)?,
        remote_src: None,
    })
}

/// Jinja settings the renderer cannot change per task: refused rather than rendered into
/// different bytes than Ansible would write.
fn unsupported_settings(args: &Args<'_>) -> Result<(), String> {
    let defaults = [
        ("block_start_string", "{%"),
        ("block_end_string", "%}"),
        ("variable_start_string", "{{"),
        ("variable_end_string", "}}"),
        ("comment_start_string", "{#"),
        ("comment_end_string", "#}"),
    ];
    for (key, default) in defaults {
        if args.str(key)?.is_some_and(|v| v != default) {
            return Err(format!("template: {key} other than '{default}' is not supported yet"));
        }
    }
    if !args.bool("trim_blocks", true)? {
        return Err("template: trim_blocks: false is not supported yet".into());
    }
    if args.bool("lstrip_blocks", false)? {
        return Err("template: lstrip_blocks: true is not supported yet".into());
    }
    if let Some(enc) = args.str("output_encoding")?
        && !enc.eq_ignore_ascii_case("utf-8")
        && !enc.eq_ignore_ascii_case("utf8")
    {
        return Err(format!("template: output_encoding '{enc}' is not supported yet"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::modules::file_tests::{Harness, mode_of, p, s, tmp};
    use serde_json::json;
    use std::path::Path;

    /// What ansible-core 2.19 writes for the benchmark's template (sha1 checked against it).
    const KUBELET: &str = "# managed by the playbook engine\nversion: v1.29.4\nnode: localhost\n\
flag: --rotate-certificates\nflag: --cgroup-driver=systemd\n";

    #[test]
    fn renders_like_ansible_keeping_trailing_newlines() {
        let d = tmp();
        let t = d.path().join("templates");
        let _ = std::fs::create_dir_all(&t);
        let bench = "# managed by the playbook engine\nversion: {{ kube_version }}\nnode: {{ inventory_hostname }}\n\
{% for flag in ['--rotate-certificates', '--cgroup-driver=systemd'] %}\nflag: {{ flag }}\n{% endfor %}\n";
        let _ = std::fs::write(t.join("kubelet.conf.j2"), bench);
        let _ = std::fs::write(t.join("nonl.j2"), "no newline {{ x }}");
        let _ = std::fs::write(t.join("twonl.j2"), "two nl {{ x }}\n\n");
        let _ = std::fs::write(t.join("managed.j2"), "# {{ ansible_managed }} {{ template_path }}\n");
        let h = Harness::new(vec![d.path().to_path_buf()]);
        let table = [
            ("kubelet.conf.j2", KUBELET, "44211d2271010609c65525cc4ac04607686c2143"),
            ("nonl.j2", "no newline X", "f4e6851b54a1097d877cd233a860cbe2c8e76ed3"),
            ("twonl.j2", "two nl X\n\n", "e5d10e9d4abd53b572f3a15dcce10f6236bdd6fd"),
            (
                "managed.j2",
                "# Ansible managed managed.j2\n",
                "919777ce88d27251a41c8598d2d6025782fc37af",
            ),
        ];
        for (src, want, sum) in table {
            let dest = p(d.path(), src.trim_end_matches(".j2"));
            let args = json!({"src": src, "dest": dest});
            let r = h.run(run, args.clone());
            assert!(r.changed && s(&r, "checksum") == sum, "{src}: {r:?}");
            assert_eq!(std::fs::read_to_string(&dest).unwrap_or_default(), want);
            assert_eq!(mode_of(Path::new(&dest)), 0o644);
            assert!(!h.run(run, args).changed, "{src} not idempotent");
        }
        let r = h.run(run, json!({"src": "missing.j2", "dest": p(d.path(), "m")}));
        assert!(r.failed);
        let r = h.run(
            run,
            json!({"src": "nonl.j2", "dest": p(d.path(), "m"), "lstrip_blocks": true}),
        );
        assert!(r.failed && !d.path().join("m").exists(), "{r:?}");
    }
}
