//! One HTTP request made ON the host with `curl`, for `get_url` and `uri`. Everything that may
//! be secret (URL, headers, credentials, body) goes in a curl config fed on stdin (`curl -K -`),
//! never in the command line where `ps` would show it. The host prints the curl status, the
//! response headers and the body, split by NUL bytes, and this file parses them.

use crate::connection::quote::quote;
use crate::connection::{self, ExecRequest};
use crate::modules::ModuleCtx;
use base64::Engine;
use std::time::Duration;

/// What to ask for.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub url: String,
    /// `GET` when empty.
    pub method: String,
    /// A `HEAD` request (curl's `--head`, which does not wait for a body).
    pub head: bool,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Seconds for the whole transfer.
    pub timeout: u64,
    pub validate_certs: bool,
    pub follow_redirects: bool,
    /// Basic credentials, sent as an `Authorization` header built here.
    pub auth: Option<(String, String)>,
    pub agent: String,
    /// A host path the body is written to; `None`: the body comes back in [`Response::body`].
    pub output: Option<String>,
    /// A host file whose mtime is sent as `If-Modified-Since`.
    pub time_cond: Option<String>,
    /// `use_proxy: false`: ignore the host's proxy variables.
    pub no_proxy: bool,
    /// Ask for a compressed body and decompress it (Ansible's `decompress`).
    pub compressed: bool,
}

/// What came back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    /// curl's exit status: 0 when a response arrived.
    pub curl_rc: i32,
    /// curl's error text when `curl_rc != 0`.
    pub error: String,
    pub status: i64,
    /// The reason phrase of the status line (`Not Found`).
    pub reason: String,
    /// The final response's headers, names lower-cased, repeated names joined with `, `.
    pub headers: Vec<(String, String)>,
    /// The URL after redirects.
    pub url: String,
    pub redirects: u64,
    pub size: u64,
    pub body: Vec<u8>,
    /// Each `Set-Cookie` value of the final response.
    pub cookies: Vec<String>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Ansible's message for a response it accepted: `OK (<Content-Length> bytes)`.
    pub fn ok_msg(&self) -> String {
        format!("OK ({} bytes)", self.header("content-length").unwrap_or("unknown"))
    }

    /// Ansible's message for an error status (`HTTP Error 404: Not Found`) or a failed
    /// connection.
    pub fn error_msg(&self) -> String {
        if self.curl_rc != 0 {
            format!("Request failed: <urlopen error {}>", self.error)
        } else {
            format!("HTTP Error {}: {}", self.status, self.reason)
        }
    }
}

/// A value in curl's config syntax: double-quoted with backslash escapes.
pub fn conf_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The curl config for `req`.
pub fn config(req: &Request) -> String {
    let mut c = format!("url = {}\n", conf_str(&req.url));
    if req.head {
        c.push_str("head\n");
    } else if !req.method.is_empty() && req.method != "GET" {
        c.push_str(&format!("request = {}\n", conf_str(&req.method)));
    }
    if let Some((user, pass)) = &req.auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        c.push_str(&format!(
            "header = {}\n",
            conf_str(&format!("Authorization: Basic {token}"))
        ));
    }
    for (k, v) in &req.headers {
        c.push_str(&format!("header = {}\n", conf_str(&format!("{k}: {v}"))));
    }
    if let Some(body) = &req.body {
        c.push_str(&format!("data-binary = {}\n", conf_str(body)));
    }
    if !req.agent.is_empty() {
        c.push_str(&format!("user-agent = {}\n", conf_str(&req.agent)));
    }
    if req.timeout > 0 {
        c.push_str(&format!("max-time = {}\n", req.timeout));
    }
    if !req.validate_certs {
        c.push_str("insecure\n");
    }
    if req.follow_redirects {
        c.push_str("location\nmax-redirs = 10\n");
    }
    if req.no_proxy {
        c.push_str("noproxy = \"*\"\n");
    }
    if req.compressed {
        c.push_str("compressed\n");
    }
    if let Some(p) = &req.time_cond {
        c.push_str(&format!("time-cond = {}\n", conf_str(p)));
    }
    c
}

const WRITE_OUT: &str = "%{http_code} %{num_redirects} %{size_download} %{url_effective}";

/// The marker between the curl config and the wget config on stdin.
const WGET_MARK: &str = "#--wget--";

/// Whether `wget` can stand in for a missing curl: a plain GET or HEAD.
fn wget_can(req: &Request) -> bool {
    req.body.is_none() && (req.method.is_empty() || req.method == "GET")
}

/// The wgetrc lines for `req` (first line: the URL, moved to its own input file on the host).
/// wgetrc values run to the end of the line, so line breaks are dropped.
pub fn wget_config(req: &Request) -> String {
    let one = |s: &str| s.replace(['\n', '\r'], " ");
    let mut c = format!("{}\n", one(&req.url));
    c.push_str("server_response = on\ntries = 1\n");
    if let Some((user, pass)) = &req.auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        c.push_str(&format!("header = Authorization: Basic {token}\n"));
    }
    for (k, v) in &req.headers {
        c.push_str(&format!("header = {}: {}\n", one(k), one(v)));
    }
    if !req.agent.is_empty() {
        c.push_str(&format!("user_agent = {}\n", one(&req.agent)));
    }
    if req.timeout > 0 {
        c.push_str(&format!("timeout = {}\n", req.timeout));
    }
    if !req.validate_certs {
        c.push_str("check_certificate = off\n");
    }
    c.push_str(if req.follow_redirects {
        "max_redirect = 10\n"
    } else {
        "max_redirect = 0\n"
    });
    if req.no_proxy {
        c.push_str("use_proxy = off\n");
    }
    c
}

/// The host command: runs curl (or wget for a plain GET when curl is missing); prints
/// `<rc> <write-out>\0<headers>\0<body>`. stdin holds both configs, split by a marker line.
pub fn script(req: &Request) -> Result<String, String> {
    let out = match &req.output {
        Some(p) => quote(p).map_err(|e| e.to_string())?,
        None => "\"$b\"".to_string(),
    };
    let tc = match &req.time_cond {
        Some(p) => quote(p).map_err(|e| e.to_string())?,
        None => "''".to_string(),
    };
    let wget = if wget_can(req) {
        let spider = if req.head { "--spider" } else { "" };
        format!(
            "elif command -v wget >/dev/null 2>&1; then \
               sed '1,/^{WGET_MARK}$/d' \"$k\" > \"$k.w\"; head -n1 \"$k.w\" > \"$k.u\"; sed -i 1d \"$k.w\"; \
               t={tc}; if [ -n \"$t\" ] && [ -e \"$t\" ]; then \
                 echo \"header = If-Modified-Since: $(LC_ALL=C date -u -r \"$t\" '+%a, %d %b %Y %H:%M:%S GMT')\" >> \"$k.w\"; fi; \
               wget --config=\"$k.w\" {spider} -O {out} -i \"$k.u\" 2> \"$k.e\"; rc=$?; \
               sed -n 's/^  //p' \"$k.e\" > \"$h\"; \
               n=$(grep -c '^HTTP/' \"$h\"); s=$(grep '^HTTP/' \"$h\" | tail -n1 | cut -d' ' -f2); \
               if [ -n \"$s\" ]; then rc=0; else s=000; n=1; grep -v '^  ' \"$k.e\" | tail -n1 >&2; fi; \
               z=$(wc -c < {out} 2>/dev/null || echo 0); w=\"$s $((n - 1)) $z $(cat \"$k.u\")\"; "
        )
    } else {
        String::new()
    };
    Ok(format!(
        "k=$(mktemp) && h=$(mktemp) && b=$(mktemp) || exit 1; \
         trap 'rm -f \"$k\" \"$k.w\" \"$k.u\" \"$k.e\" \"$h\" \"$b\"' EXIT; cat > \"$k\"; \
         if command -v curl >/dev/null 2>&1; then \
           w=$(sed '/^{WGET_MARK}$/,$d' \"$k\" | curl -K - -sS -D \"$h\" -o {out} -w '{WRITE_OUT}'); rc=$?; \
         {wget}else echo 'curl: command not found' >&2; exit 127; fi; \
         printf '%s %s\\000' \"$rc\" \"$w\"; cat \"$h\"; printf '\\000'; cat \"$b\""
    ))
}

/// stdin for [`script`].
pub fn stdin(req: &Request) -> String {
    format!("{}{WGET_MARK}\n{}", config(req), wget_config(req))
}

/// Parse what [`script`] printed (`stderr` holds curl's error text).
pub fn parse(stdout: &[u8], stderr: &str) -> Result<Response, String> {
    let mut parts = stdout.splitn(3, |b| *b == 0);
    let head = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let headers = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default().to_vec();
    let mut w = head.splitn(5, ' ');
    let curl_rc = w
        .next()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .ok_or_else(|| format!("unexpected output from curl: {head:?} {}", stderr.trim()))?;
    let status = w.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let redirects = w.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let size = w.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let url = w.next().unwrap_or_default().to_string();
    let (reason, headers) = parse_headers(&headers);
    let cookies = set_cookies(&String::from_utf8_lossy(
        stdout.split(|b| *b == 0).nth(1).unwrap_or_default(),
    ));
    let error = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches("curl: ").to_string())
        .unwrap_or_default();
    Ok(Response {
        curl_rc,
        error,
        status: if curl_rc == 0 { status } else { -1 },
        reason,
        headers,
        url,
        redirects,
        size,
        body,
        cookies,
    })
}

/// The `Set-Cookie` values of the last header block.
fn set_cookies(dump: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in dump.lines() {
        if line.starts_with("HTTP/") {
            out.clear();
        } else if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case("set-cookie")
        {
            out.push(v.trim().to_string());
        }
    }
    out
}

/// The last header block of a `-D` dump (earlier ones are redirects or `100 Continue`).
fn parse_headers(dump: &str) -> (String, Vec<(String, String)>) {
    let mut reason = String::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in dump.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with("HTTP/") {
            headers.clear();
            reason = line.splitn(3, ' ').nth(2).unwrap_or_default().to_string();
        } else if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            match headers.iter_mut().find(|(n, _)| *n == k) {
                Some((_, old)) => {
                    old.push_str(", ");
                    old.push_str(&v);
                }
                None => headers.push((k, v)),
            }
        }
    }
    (reason, headers)
}

/// Run `req` on the host. `Ok(Err(msg))`: curl is missing or printed nothing usable.
pub async fn fetch(ctx: &ModuleCtx<'_>, req: &Request) -> connection::Result<Result<Response, String>> {
    let line = match script(req) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    let mut exec = ExecRequest::new(line).stdin(stdin(req));
    // curl enforces `timeout`; this only guards against a host that stops answering.
    exec.timeout = Some(Duration::from_secs(req.timeout.max(1) + 60));
    let out = ctx.conn.exec(&exec).await?;
    if out.rc == 127 {
        return Ok(Err(
            "curl (or wget, for a plain download) is needed on the host for this module and was not found in PATH"
                .to_string(),
        ));
    }
    if out.rc != 0 {
        return Ok(Err(format!("could not run curl: {}", out.stderr_lossy().trim())));
    }
    Ok(parse(&out.stdout, &out.stderr_lossy()))
}

/// The file name at the end of a URL's path (Ansible's `url_filename`), `index.html` if none.
pub fn url_filename(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    let path = match no_query.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or(""),
        None => no_query,
    };
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() => percent_decode(name),
        _ => "index.html".to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `filename` parameter of a `Content-Disposition` header, without any directory part.
pub fn disposition_filename(header: &str) -> Option<String> {
    let at = header.to_ascii_lowercase().find("filename=")?;
    let raw = header.get(at + "filename=".len()..)?.trim();
    let name = match raw.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or_default(),
        None => raw.split(';').next().unwrap_or_default().trim(),
    };
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    (!base.is_empty() && base != "." && base != "..").then(|| base.to_string())
}

/// `headers:` as name/value pairs (a map of strings).
pub fn headers_arg(args: &super::args::Args<'_>) -> Result<Vec<(String, String)>, String> {
    match args.get("headers") {
        None => Ok(Vec::new()),
        Some(crate::value::Value::Map(m)) => Ok(m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
                )
            })
            .collect()),
        Some(v) => Err(format!(
            "argument 'headers' is of type {} and we were unable to convert to dict",
            v.type_name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_quotes_and_hides_credentials() {
        let req = Request {
            url: "http://h/a b".into(),
            method: "POST".into(),
            headers: vec![("X-A".into(), "q\"uo\\te".into())],
            body: Some("line1\nline2".into()),
            auth: Some(("u".into(), "p:w".into())),
            timeout: 5,
            ..Request::default()
        };
        let c = config(&req);
        assert!(c.contains("url = \"http://h/a b\"\n"), "{c}");
        assert!(c.contains("request = \"POST\""));
        assert!(c.contains("header = \"X-A: q\\\"uo\\\\te\""), "{c}");
        assert!(c.contains("data-binary = \"line1\\nline2\""), "{c}");
        assert!(c.contains("Authorization: Basic dTpwOnc="), "{c}");
        assert!(c.contains("insecure") && c.contains("max-time = 5"));
        let s = script(&req).unwrap_or_default();
        assert!(!s.contains("p:w") && !s.contains("http://h"), "{s}");
    }

    /// The same script with curl hidden from PATH: wget answers a GET, with the headers asked.
    #[test]
    fn wget_stands_in_when_curl_is_missing() {
        use crate::modules::test_http::{Reply, Server};
        let srv = Server::start(|r| Reply::new(200, r.header("x-k").unwrap_or("-").to_string()));
        let bin = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for tool in [
            "mktemp", "rm", "cat", "sed", "head", "date", "wget", "grep", "tail", "cut", "wc",
        ] {
            let found = std::process::Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            assert!(!found.is_empty(), "{tool} is needed for this test");
            let _ = std::os::unix::fs::symlink(&found, bin.path().join(tool));
        }
        let req = Request {
            url: srv.url("/x"),
            headers: vec![("X-K".into(), "v1".into())],
            auth: Some(("u".into(), "p".into())),
            timeout: 5,
            ..Request::default()
        };
        let run = |req: &Request| {
            use std::io::Write;
            let mut child = std::process::Command::new("/bin/sh")
                .args(["-c", &script(req).unwrap_or_default()])
                .env("PATH", bin.path())
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{e}"));
            if let Some(mut i) = child.stdin.take() {
                let _ = i.write_all(stdin(req).as_bytes());
            }
            let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
            parse(&out.stdout, &String::from_utf8_lossy(&out.stderr)).unwrap_or_default()
        };
        let r = run(&req);
        assert_eq!(
            (r.curl_rc, r.status, r.body.as_slice()),
            (0, 200, b"v1".as_slice()),
            "{r:?}"
        );
        assert_eq!(r.header("content-length"), Some("2"));
        assert_eq!(
            srv.requests()
                .last()
                .and_then(|s| s.header("authorization").map(str::to_string)),
            Some("Basic dTpw".to_string())
        );
        let refused = run(&Request {
            url: "http://127.0.0.1:1/".into(),
            ..req.clone()
        });
        assert_eq!(refused.status, -1, "{refused:?}");
    }

    #[test]
    fn output_parses_last_header_block() {
        let out = b"0 200 1 5 http://h/b\0HTTP/1.1 302 Found\r\nLocation: /b\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n\0hello";
        let r = parse(out, "").unwrap_or_default();
        assert_eq!((r.status, r.redirects, r.size), (200, 1, 5));
        assert_eq!(r.url, "http://h/b");
        assert_eq!(r.body, b"hello");
        assert_eq!(r.header("set-cookie"), Some("a=1, b=2"));
        assert_eq!(r.header("location"), None);
        assert_eq!(r.ok_msg(), "OK (5 bytes)");
        let failed = parse(b"7 000 0 0 http://h/\0\0", "curl: (7) Failed to connect\n").unwrap_or_default();
        assert_eq!(failed.status, -1);
        assert_eq!(
            failed.error_msg(),
            "Request failed: <urlopen error (7) Failed to connect>"
        );
    }

    #[test]
    fn file_names_from_urls_and_headers() {
        let table = [
            ("http://h/dir/file.tar.gz?x=1", "file.tar.gz"),
            ("http://h/", "index.html"),
            ("http://h", "index.html"),
            ("https://h/a%20b.txt", "a b.txt"),
        ];
        for (url, name) in table {
            assert_eq!(url_filename(url), name, "{url}");
        }
        assert_eq!(
            disposition_filename("attachment; filename=\"../../etc/x.bin\"").as_deref(),
            Some("x.bin")
        );
        assert_eq!(
            disposition_filename("attachment; filename=y.txt; size=3").as_deref(),
            Some("y.txt")
        );
        assert_eq!(disposition_filename("inline"), None);
    }
}
