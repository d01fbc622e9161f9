//! `copy`: put `content:` or a controller file (`src:`, looked up under `files/`) at `dest`.

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
    let args = Args::new("copy", ctx.args);
    let mut known = vec!["src", "content", "dest"];
    known.extend_from_slice(COMMON_FILE_ARGS);
    args.only(&known)?;
    let dest = args.required_str("dest")?;
    if dest.is_empty() {
        return Err("dest is required".into());
    }
    let want = Wanted::from_args(&args)?;
    let force = args.bool("force", true)?;
    let backup = args.bool("backup", false)?;
    if args.bool("remote_src", false)? {
        return Err("remote_src is not supported by this engine's copy".into());
    }
    match (args.str("content")?, args.str("src")?) {
        (Some(_), Some(_)) => Err("src and content are mutually exclusive".into()),
        (None, None) => Err("src (or content) is required".into()),
        (Some(content), None) => Ok(WriteRequest {
            content: content.into_bytes(),
            dest,
            src_name: None,
            src_label: "dynamically generated".into(),
            want,
            force,
            backup,
        }),
        (None, Some(src)) => {
            let path = ctx
                .find_source("files", &src)
                .ok_or_else(|| format!("Could not find or access '{src}' on the Ansible Controller."))?;
            if path.is_dir() {
                return Err(format!(
                    "copying the directory '{src}' is not supported yet; copy its files one by one"
                ));
            }
            let content = std::fs::read(&path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| src.clone());
            Ok(WriteRequest {
                content,
                dest,
                src_name: Some(name),
                src_label: path.display().to_string(),
                want,
                force,
                backup,
            })
        }
    }
}
