//! `uri` against a real HTTP server on 127.0.0.1, through the local connection.

use super::*;
use crate::modules::file_tests::{Harness, p, s, tmp};
use crate::modules::test_http::{Reply, Seen, Server};
use serde_json::json;

fn server() -> Server {
    Server::start(|r: &Seen| match r.path.as_str() {
        "/json" => Reply::new(200, "{\"a\": [1, 2], \"b\": \"x\"}")
            .header("Content-Type", "application/json")
            .header("Set-Cookie", "sid=abc; Path=/")
            .header("X-Custom-Thing", "yes"),
        "/echo" => Reply::new(201, r.body.clone())
            .header("Content-Type", "text/plain")
            .header("X-Method", &r.method)
            .header("X-Type", r.header("content-type").unwrap_or("-"))
            .header("X-Auth", r.header("authorization").unwrap_or("-")),
        "/moved" => Reply::new(302, "").header("Location", "/json"),
        _ => Reply::new(404, "nope").header("Content-Type", "text/plain"),
    })
}

#[test]
fn get_returns_status_headers_and_json() {
    let srv = server();
    let h = Harness::new(vec![]);
    let r = h.run(run, json!({"url": srv.url("/json")}));
    assert!(!r.changed && !r.failed, "{r:?}");
    assert_eq!(s(&r, "status"), "200");
    assert_eq!(r.msg.as_deref(), Some("OK (23 bytes)"));
    assert_eq!(s(&r, "content_type"), "application/json");
    assert_eq!(s(&r, "content_length"), "23");
    assert_eq!(s(&r, "x_custom_thing"), "yes");
    assert_eq!(s(&r, "redirected"), "False");
    assert_eq!(s(&r, "cookies_string"), "sid=abc");
    assert!(!r.data.contains_key("content"), "content only with return_content");
    let j = r.data.get("json").cloned().unwrap_or_default();
    assert_eq!(j, Value::from(json!({"a": [1, 2], "b": "x"})));
    let with = h.run(run, json!({"url": srv.url("/json"), "return_content": true}));
    assert_eq!(s(&with, "content"), "{\"a\": [1, 2], \"b\": \"x\"}");
    // A redirect is followed for GET (safe) and reported.
    let moved = h.run(run, json!({"url": srv.url("/moved")}));
    assert!(!moved.failed && s(&moved, "redirected") == "True", "{moved:?}");
    assert_eq!(s(&moved, "url"), srv.url("/json"));
    let stay = h.run(
        run,
        json!({"url": srv.url("/moved"), "follow_redirects": "none", "status_code": [302]}),
    );
    assert!(!stay.failed && s(&stay, "location") == srv.url("/json"), "{stay:?}");
}

#[test]
fn bodies_methods_and_status_codes() {
    let srv = server();
    let h = Harness::new(vec![]);
    let r = h.run(
        run,
        json!({"url": srv.url("/echo"), "method": "POST", "body_format": "json", "body": {"k": "v w"},
               "status_code": "200,201", "return_content": true, "url_username": "u", "url_password": "p"}),
    );
    assert!(!r.failed, "{r:?}");
    assert_eq!(s(&r, "content"), "{\"k\":\"v w\"}");
    assert_eq!(s(&r, "x_method"), "POST");
    assert_eq!(s(&r, "x_type"), "application/json");
    assert_eq!(s(&r, "x_auth"), "Basic dTpw");
    let f = h.run(
        run,
        json!({"url": srv.url("/echo"), "method": "put", "body_format": "form-urlencoded",
               "body": {"a": "1 2", "b": "&"}, "status_code": 201, "return_content": true}),
    );
    assert_eq!(s(&f, "content"), "a=1+2&b=%26");
    assert_eq!(s(&f, "x_type"), "application/x-www-form-urlencoded");
    let raw = h.run(
        run,
        json!({"url": srv.url("/echo"), "method": "POST", "body": "line1\nline2 \"q\" \\", "status_code": [201], "return_content": true}),
    );
    assert_eq!(s(&raw, "content"), "line1\nline2 \"q\" \\");
    let missing = h.run(run, json!({"url": srv.url("/x")}));
    assert!(missing.failed, "{missing:?}");
    assert_eq!(
        missing.msg.as_deref(),
        Some("Status code was 404 and not [200]: HTTP Error 404: Not Found")
    );
    assert_eq!(s(&missing, "status"), "404");
    let refused = h.run(run, json!({"url": "http://127.0.0.1:1/"}));
    assert!(
        refused
            .msg
            .as_deref()
            .unwrap_or_default()
            .starts_with("Status code was -1 and not [200]: Request failed: <urlopen error"),
        "{refused:?}"
    );
}

#[test]
fn check_mode_creates_and_bad_args() {
    let srv = server();
    let h = Harness::new(vec![]);
    let c = h.check(run, json!({"url": srv.url("/json"), "method": "DELETE"}));
    assert!(c.skipped && !c.changed, "{c:?}");
    assert!(srv.requests().is_empty(), "check mode sent a request");
    let d = tmp();
    let r = h.run(run, json!({"url": srv.url("/json"), "creates": d.path()}));
    assert_eq!(
        s(&r, "stdout"),
        format!("skipped, since '{}' exists", d.path().display())
    );
    let r = h.run(run, json!({"url": srv.url("/json"), "removes": p(d.path(), "no")}));
    assert!(s(&r, "stdout").ends_with("does not exist"), "{r:?}");
    assert!(srv.requests().is_empty());
    let table = [
        (json!({"method": "GET"}), "missing required arguments: url"),
        (
            json!({"url": "http://h/", "method": "GET POST"}),
            "Parameter 'method' needs to be a single word",
        ),
        (
            json!({"url": "http://h/", "body_format": "xml", "body": "x"}),
            "value of body_format must be one of",
        ),
        (
            json!({"url": "http://h/", "status_code": "abc"}),
            "Elements value for option 'status_code'",
        ),
        (
            json!({"url": "http://h/", "nope": 1}),
            "Unsupported parameters for (uri) module: nope",
        ),
    ];
    for (args, msg) in table {
        let r = h.run(run, args.clone());
        assert!(
            r.failed && r.msg.as_deref().unwrap_or_default().starts_with(msg),
            "{args}: {r:?}"
        );
    }
}

#[test]
fn locations_join_like_urljoin() {
    assert_eq!(url_join("http://h:1/a/b", "/c"), "http://h:1/c");
    assert_eq!(url_join("http://h/a/b", "c"), "http://h/a/c");
    assert_eq!(url_join("http://h/a", "https://x/y"), "https://x/y");
}
