"""The console's HTTP rules without a browser: sessions, CSRF, Origin and Host checks, headers,
the sign-in rate limit, and the options that keep it on loopback."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import binary, start_console


@pytest.fixture(scope="module")
def srv():
    d = Path(tempfile.mkdtemp(prefix="momento-console-http-"))
    s = start_console(d)
    yield s
    s.stop()
    shutil.rmtree(d, ignore_errors=True)


def call(srv, method: str, path: str, body=None, headers=None, origin=True, host=None):
    u = urlsplit(srv.base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    h = {"Host": host or u.netloc}
    if origin and method != "GET":
        h["Origin"] = srv.origin
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = raw.decode(errors="replace")
    return r.status, dict(r.getheaders()), payload


def sign_in(srv) -> tuple[str, str]:
    key = json.loads(srv.bootstrap.read_text())["authToken"]
    status, headers, body = call(srv, "POST", "/api/signin", {"key": key})
    assert status == 200, body
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    return cookie.split(";", 1)[0], body["csrf"]


def mint(srv, cookie, csrf, **extra):
    req = {"provider": "aws", "region": "us-west-2", "expiry": "days", "days": 7,
           "scope": "all_data_read_write"}
    req.update(extra)
    return call(srv, "POST", "/api/tokens", req, {"Cookie": cookie, "X-CSRF-Token": csrf})


def test_a_signed_in_session_mints(srv):
    cookie, csrf = sign_in(srv)
    status, _, body = mint(srv, cookie, csrf)
    assert status == 200, body
    assert set(json.loads(body["downloadJson"])) == {"authToken", "refreshToken", "validUntil"}


def test_wrong_session_is_refused(srv):
    bogus = "momento_console=" + "A" * 43
    status, _, body = call(srv, "GET", "/api/keys", headers={"Cookie": bogus})
    assert status == 401 and "Sign in again" in body["error"]
    _, csrf = sign_in(srv)
    status, _, body = mint(srv, bogus, csrf)
    assert status == 401
    status, _, body = call(srv, "GET", "/api/session")
    assert status == 401 and body["error"] == "You are not signed in."


def test_post_without_csrf_token_is_refused(srv):
    cookie, csrf = sign_in(srv)
    req = {"provider": "aws", "region": "us-west-2", "expiry": "never", "scope": "all_data_read_write"}
    status, _, body = call(srv, "POST", "/api/tokens", req, {"Cookie": cookie})
    assert status == 403 and "CSRF" in body["error"]
    # Another session's token does not do either.
    _, other_csrf = sign_in(srv)
    status, _, body = mint(srv, cookie, other_csrf)
    assert status == 403 and "CSRF" in body["error"]
    status, _, body = call(srv, "POST", "/api/keys/revoke", {"id": "0" * 16}, {"Cookie": cookie})
    assert status == 403


def test_foreign_origin_and_missing_origin_are_refused(srv):
    cookie, csrf = sign_in(srv)
    for origin in ["http://evil.example", srv.origin.replace("127.0.0.1", "localhost") + "0", "null"]:
        status, _, body = mint(srv, cookie, csrf, **{})
        status, _, body = call(srv, "POST", "/api/tokens", {}, {"Cookie": cookie, "X-CSRF-Token": csrf,
                                                                 "Origin": origin})
        assert status == 403 and "other sites" in body["error"], origin
    status, _, body = call(srv, "POST", "/api/signin", {"key": "x"}, origin=False)
    assert status == 403 and "Origin" in body["error"]
    # A form post (no JSON) cannot reach the API either.
    status, _, _ = call(srv, "POST", "/api/signin", None,
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415


def test_dns_rebinding_host_is_refused(srv):
    port = urlsplit(srv.base).port
    for host in ["evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}"]:
        status, _, body = call(srv, "GET", "/", host=host)
        assert status == 421, host
    status, _, _ = call(srv, "GET", "/", host=f"localhost:{port}")
    assert status == 200


def test_page_is_self_contained_with_a_strict_policy(srv):
    status, headers, html = call(srv, "GET", "/")
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    # No inline script or style, no event-handler attributes, nothing from another host.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag
    assert not re.search(r"<script[^>]*>(?!</script>)", html)
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html and "<style" not in html
    for path in ["/console.js", "/console.css", "/favicon.svg"]:
        status, headers, body = call(srv, "GET", path)
        assert status == 200, path
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", body), path
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    status, _, body = call(srv, "GET", "/nothing-here")
    assert status == 404


def test_signin_attempts_are_rate_limited(srv):
    statuses = [call(srv, "POST", "/api/signin", {"key": f"wrong-{i}"})[0] for i in range(12)]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    # A good key waits too: the limit is on attempts while it lasts.
    key = json.loads(srv.bootstrap.read_text())["authToken"]
    status, _, body = call(srv, "POST", "/api/signin", {"key": key})
    assert status == 429 and "Wait a minute" in body["error"]


@pytest.mark.parametrize("args,words", [
    (["--console", "0.0.0.0:0"], "--console-allow-remote"),
    (["--console", "127.evil.example:0"], "--console-allow-remote"),  # a name, not 127.0.0.0/8
    (["--console", "192.0.2.1:0", "--console-allow-remote"], "--tls-cert"),
    (["--console", "127.0.0.1"], "HOST:PORT"),
])
def test_console_stays_on_loopback_unless_told(tmp_path, args, words):
    r = subprocess.run([binary("MOMENTO_SERVER_BIN"), "--listen", "127.0.0.1:0", "--data-dir",
                        str(tmp_path / "d"), *args], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and words in r.stderr, r.stderr
    assert "listening on" not in r.stdout


def test_console_over_tls_uses_the_servers_certificate(tmp_path):
    import ssl
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-days", "1"], check=True, capture_output=True, timeout=30)
    s = start_console(tmp_path, ["--tls-cert", str(cert), "--tls-key", str(key)])
    try:
        assert s.link.startswith("https://127.0.0.1:")
        u = urlsplit(s.base)
        ctx = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10, context=ctx)
        boot = json.loads(s.bootstrap.read_text())["authToken"]
        conn.request("POST", "/api/signin", body=json.dumps({"key": boot}),
                     headers={"Host": u.netloc, "Origin": s.origin, "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        cookie = r.getheader("Set-Cookie")
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        conn.close()
    finally:
        s.stop()
