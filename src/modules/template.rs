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
    let src = args.required_str("src")?;
    let dest = args.required_str("dest")?;
    let path = ctx
        .find_source("templates", &src)
        .ok_or_else(|| format!("Could not find or access '{src}'"))?;
    let rendered = ctx
        .templar
        .render_template_file(&path, ctx.vars)
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
        want: Wanted::from_args(&args)?,
        force: args.bool("force", true)?,
        backup: args.bool("backup", false)?,
    })
}
