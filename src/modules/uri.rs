//! `uri`: one HTTP request made on the host with curl. The result carries the status, the
//! response headers as top-level fields (lower-cased, `-` made `_`), `content` when asked, and
//! `json` for a JSON response, as Ansible's module returns them. A status outside
//! `status_code` fails the task.

use super::args::Args;
use super::http_client::{self, Request, Response};
use super::{ModuleCtx, Outcome};
use crate::connection::quote::quote;
use crate::connection::{self, BoxFuture};
use crate::value::{Map, Value};
use std::time::Instant;

const KNOWN: &[&str] = &[
    "url",
    "method",
    "body",
    "body_format",
    "headers",
    "status_code",
    "return_content",
    "timeout",
    "validate_certs",
    "url_username",
    "user",
    "url_password",
    "password",
    "force_basic_auth",
    "follow_redirects",
    "http_agent",
    "use_proxy",
    "use_netrc",
    "decompress",
    "creates",
    "removes",
];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let plan = match parse(ctx) {
            Ok(p) => p,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        if ctx.check {
            // Ansible's uri does not support check mode: the task is skipped.
            let mut out = Outcome::ok().msg("remote module (uri) does not support check mode");
            out.skipped = true;
            return Ok(out);
        }
        call(ctx, plan).await
    })
}

struct Plan {
    req: Request,
    status_code: Vec<i64>,
    return_content: bool,
    creates: Option<String>,
    removes: Option<String>,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Plan, String> {
    let args = Args::new("uri", ctx.args);
    args.only(KNOWN)?;
    let url = args.required_str("url")?;
    let method = args.str("method")?.unwrap_or_else(|| "GET".into()).to_uppercase();
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return Err("Parameter 'method' needs to be a single word in uppercase, like GET or POST.".into());
    }
    let mut headers = http_client::headers_arg(&args)?;
    let has_type = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let format = args.str("body_format")?.unwrap_or_else(|| "raw".into()).to_lowercase();
    let body = match (format.as_str(), args.get("body")) {
        (_, None) => None,
        ("json", Some(v)) => {
            if !has_type {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(match v.as_str() {
                Some(s) => s.to_string(),
                None => serde_json::to_string(v).map_err(|e| e.to_string())?,
            })
        }
        ("form-urlencoded", Some(v)) => {
            if !has_type {
                headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
            }
            Some(form_urlencoded(v)?)
        }
        ("raw", Some(v)) => Some(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())),
        ("form-multipart", Some(_)) => return Err("body_format: form-multipart is not supported".into()),
        (other, Some(_)) => {
            return Err(format!(
                "value of body_format must be one of: form-urlencoded, json, raw, form-multipart, got: {other}"
            ));
        }
    };
    let follow = match args.str("follow_redirects")?.as_deref().unwrap_or("safe") {
        "all" | "yes" | "urllib2" => true,
        "safe" => method == "GET" || method == "HEAD",
        "no" | "none" => false,
        other => {
            return Err(format!(
                "value of follow_redirects must be one of: all, no, none, safe, urllib2, yes, got: {other}"
            ));
        }
    };
    let status_code = match args.list("status_code")? {
        None => vec![200],
        Some(items) => items
            .iter()
            .map(|s| s.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                "Elements value for option 'status_code' is of type str and we were unable to convert to int"
                    .to_string()
            })?,
    };
    let user = args.str("url_username")?.or(args.str("user")?);
    let pass = args.str("url_password")?.or(args.str("password")?);
    Ok(Plan {
        req: Request {
            url,
            head: method == "HEAD",
            method,
            headers,
            body,
            timeout: args.int("timeout")?.unwrap_or(30).max(0) as u64,
            validate_certs: args.bool("validate_certs", true)?,
            follow_redirects: follow,
            auth: user.map(|u| (u, pass.unwrap_or_default())),
            agent: args.str("http_agent")?.unwrap_or_else(|| "ansible-httpget".into()),
            no_proxy: !args.bool("use_proxy", true)?,
            compressed: args.bool("decompress", true)?,
            ..Request::default()
        },
        status_code,
        return_content: args.bool("return_content", false)?,
        creates: args.str("creates")?,
        removes: args.str("removes")?,
    })
}

/// `key=value&...` with Python's `quote_plus` escaping, for a map or a list of pairs.
fn form_urlencoded(v: &Value) -> Result<String, String> {
    let pairs: Vec<(String, String)> = match v {
        Value::Map(m) => m.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        Value::List(items) => items
            .iter()
            .map(|i| match i.as_list() {
                Some([k, v]) => Ok((text(k), text(v))),
                _ => Err("failed to parse body as form_urlencoded: each item must be a pair".to_string()),
            })
            .collect::<Result<_, _>>()?,
        other => return Ok(text(other)),
    };
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn quote_plus(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `creates`/`removes`: `Some(stdout)` when the request is to be skipped.
async fn skip_reason(ctx: &ModuleCtx<'_>, plan: &Plan) -> connection::Result<Result<Option<String>, String>> {
    for (path, wants_exists) in [(&plan.creates, true), (&plan.removes, false)] {
        let Some(path) = path else { continue };
        let q = match quote(path) {
            Ok(q) => q,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let exists = ctx.exec(format!("test -e {q}")).await?.rc == 0;
        if exists == wants_exists {
            let why = if wants_exists { "exists" } else { "does not exist" };
            return Ok(Ok(Some(format!("skipped, since '{path}' {why}"))));
        }
    }
    Ok(Ok(None))
}

async fn call(ctx: &ModuleCtx<'_>, plan: Plan) -> connection::Result<Outcome> {
    match skip_reason(ctx, &plan).await? {
        Ok(Some(stdout)) => return Ok(Outcome::ok().with("stdout", stdout)),
        Ok(None) => {}
        Err(e) => return Ok(Outcome::fail(e)),
    }
    let started = Instant::now();
    let resp = match http_client::fetch(ctx, &plan.req).await? {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let elapsed = started.elapsed().as_secs() as i64;
    Ok(outcome(&plan, &resp, elapsed))
}

/// The result fields for `resp`, and the failure when its status is not accepted.
fn outcome(plan: &Plan, resp: &Response, elapsed: i64) -> Outcome {
    let mut data = Map::new();
    for (k, v) in &resp.headers {
        data.insert(k.replace('-', "_"), Value::str(v));
    }
    if let Some(loc) = resp.header("location") {
        data.insert("location".into(), Value::str(url_join(&plan.req.url, loc)));
    }
    let url = if resp.redirects > 0 && !resp.url.is_empty() {
        resp.url.clone()
    } else {
        plan.req.url.clone()
    };
    let mut cookies = Map::new();
    for c in &resp.cookies {
        if let Some((k, v)) = c.split(';').next().and_then(|kv| kv.split_once('=')) {
            cookies.insert(k.trim().to_string(), Value::str(v.trim()));
        }
    }
    let cookies_string = cookies
        .iter()
        .map(|(k, v)| format!("{k}={}", text(v)))
        .collect::<Vec<_>>()
        .join("; ");
    let msg = if resp.curl_rc != 0 || !(200..300).contains(&resp.status) {
        resp.error_msg()
    } else {
        resp.ok_msg()
    };
    // urllib raises for other statuses, and Ansible then reports no cookies.
    if resp.curl_rc == 0 && (200..300).contains(&resp.status) {
        data.insert("cookies".into(), Value::Map(cookies));
        data.insert("cookies_string".into(), Value::str(cookies_string));
    }
    data.insert("url".into(), Value::str(&url));
    data.insert("status".into(), Value::Int(resp.status));
    data.insert("redirected".into(), Value::Bool(resp.redirects > 0));
    data.insert("elapsed".into(), Value::Int(elapsed));
    let content = String::from_utf8_lossy(&resp.body).into_owned();
    if is_json(resp.header("content-type"))
        && let Ok(j) = serde_json::from_str::<serde_json::Value>(&content)
    {
        data.insert("json".into(), Value::from(j));
    }
    let accepted = plan.status_code.contains(&resp.status);
    if plan.return_content {
        data.insert("content".into(), Value::str(content));
    }
    let mut out = Outcome { data, ..Outcome::ok() };
    if accepted {
        out.msg = Some(msg);
    } else {
        let list: Vec<String> = plan.status_code.iter().map(i64::to_string).collect();
        out.failed = true;
        out.msg = Some(format!(
            "Status code was {} and not [{}]: {msg}",
            resp.status,
            list.join(", ")
        ));
    }
    out
}

/// `application/json`, `text/javascript`, `application/problem+json`, ...
fn is_json(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let mime = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let sub = mime.split_once('/').map(|(_, s)| s).unwrap_or_default();
    let sub = sub.rsplit_once('+').map(|(_, s)| s).unwrap_or(sub);
    sub == "json" || sub == "javascript"
}

/// A `Location` made absolute against the request URL.
fn url_join(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let host = rest.split('/').next().unwrap_or(rest);
    if let Some(abs) = loc.strip_prefix('/') {
        return format!("{scheme}://{host}/{abs}");
    }
    let dir = match rest.rsplit_once('/') {
        Some((d, _)) if d.contains('/') || d != host => d.to_string(),
        _ => host.to_string(),
    };
    format!("{scheme}://{dir}/{loc}")
}

#[cfg(test)]
#[path = "uri_tests.rs"]
mod tests;
