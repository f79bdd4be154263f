"""The AWS credential chain, source by source, against real implementations where they exist here.

  - STS AssumeRole / AssumeRoleWithWebIdentity and Secrets Manager: moto server on loopback.
  - EC2 instance metadata: Amazon's amazon-ec2-metadata-mock, built by scripts/setup
    (build/tools/ec2-metadata-mock), run on loopback IMDSv2-only or with IMDSv1 allowed. For the
    IMDSv1 fallback, a loopback front (ImdsFront) stands in for the network in between: it refuses
    or drops the token request and passes every GET on to the mock.
  - credential_process: a real script run by the library.
  - ECS/EKS container credentials and the SSO portal have no real implementation here: a small
    loopback HTTP server in this file stands in for each, answering in the documented shapes.

The test driver prints only the access key id, whether a session token came and the expiry: the
assertions that no secret reaches output or errors look at everything it prints.
"""
import datetime
import hashlib
import http.server
import json
import os
import socket
import stat
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

MOCK = os.environ.get("MOMENTO_EC2_METADATA_MOCK", "")


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def base_env(tmp_dir):
    """No credentials anywhere, no real AWS files, no instance metadata."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "HOME": tmp_dir,
        "AWS_CONFIG_FILE": os.path.join(tmp_dir, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp_dir, "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "us-east-1",
    })
    return env


BASE_KEYS = "[base]\naws_access_key_id=AKIABASE\naws_secret_access_key=basesecret\n"


def aws_files(tmp_dir, credentials=None, config=None):
    """Writes the shared credentials and config files that base_env points at."""
    for name, text in (("credentials", credentials), ("config", config)):
        if text is not None:
            with open(os.path.join(tmp_dir, name), "w") as f:
                f.write(text)


def run(tool, env, *args, check=True):
    t = type(tool)(tool.path)
    t.env = dict(env)
    return t.run("credentials", *args, check=check)


def creds(tool, env, *args):
    out = run(tool, env, *args).stdout.strip().splitlines()
    return [json.loads(line) for line in out]


def error_of(tool, env, *args):
    p = run(tool, env, *args, check=False)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stdout + p.stderr


class JsonHandler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


class Loopback:
    """A threaded HTTP server on a free loopback port serving `handler`; close() stops it."""

    def __init__(self, handler):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Stand(Loopback):
    """A loopback HTTP server standing in for an AWS endpoint with no real implementation here.
    `answer(handler)` returns (status, dict) for each GET; requests are recorded."""

    def __init__(self, answer):
        self.requests = []
        outer = self

        class H(JsonHandler):
            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers.items())))
                self.reply(*answer(self))

        super().__init__(H)


@pytest.fixture
def stand():
    made = []

    def make(answer):
        s = Stand(answer)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_environment_comes_first(tool, base_env, tmp_dir):
    with open(os.path.join(tmp_dir, "credentials"), "w") as f:
        f.write("[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=filesecret\n")
    env = dict(base_env, AWS_ACCESS_KEY_ID="AKIAENV", AWS_SECRET_ACCESS_KEY="envsecret")
    (c,) = creds(tool, env)
    assert c == {"accessKeyId": "AKIAENV", "sessionToken": False, "expiresAt": None, "source": "environment"}
    (c,) = creds(tool, base_env)
    assert c["accessKeyId"] == "AKIAFILE" and c["source"] == "profile default"


def test_web_identity_through_moto_sts_then_secrets_manager(tool, base_env, tmp_dir, moto):
    token_file = os.path.join(tmp_dir, "token")
    with open(token_file, "w") as f:
        f.write("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl\n")
    env = dict(base_env, AWS_WEB_IDENTITY_TOKEN_FILE=token_file,
               AWS_ROLE_ARN="arn:aws:iam::123456789012:role/momento-refresher",
               AWS_ROLE_SESSION_NAME="fleet-host-1", AWS_ENDPOINT_URL=moto)
    (c,) = creds(tool, env)
    assert c["source"] == "web identity"
    assert c["accessKeyId"].startswith("ASIA") and c["sessionToken"] is True
    assert c["expiresAt"] > time.time() + 600
    # The temporary credentials sign real Secrets Manager calls.
    t = type(tool)(tool.path)
    t.env = env
    put = t.json("put", "--store", "aws-sm:irsa/key", "--key", "k1", "--refresh", "r1", "--valid-until", "1900000000")
    assert t.json("get", "--store", "aws-sm:irsa/key") == put
    # The environment outranks web identity.
    (c,) = creds(tool, dict(env, AWS_ACCESS_KEY_ID="AKIAENV", AWS_SECRET_ACCESS_KEY="s"))
    assert c["source"] == "environment"
    # A missing token file is a clear error naming the role, not the token.
    err, out = error_of(tool, dict(env, AWS_WEB_IDENTITY_TOKEN_FILE=token_file + ".missing"))
    assert "momento-refresher" in err["message"] and "eyJ" not in out


def test_source_profile_and_role_arn_assume_role_at_moto(tool, base_env, tmp_dir, moto):
    aws_files(tmp_dir, credentials=BASE_KEYS, config=(
        "[profile deploy]\nrole_arn=arn:aws:iam::123456789012:role/deployer\nsource_profile=base\n"
        "role_session_name=momento-test\nduration_seconds=900\n"
        "[profile loop1]\nrole_arn=arn:aws:iam::1:role/x\nsource_profile=loop2\n"
        "[profile loop2]\nrole_arn=arn:aws:iam::1:role/y\nsource_profile=loop1\n"))
    env = dict(base_env, AWS_ENDPOINT_URL_STS=moto)
    (c,) = creds(tool, env, "--profile", "deploy")
    assert c["source"] == "profile deploy (assume role)"
    assert c["accessKeyId"].startswith("ASIA") and c["sessionToken"] is True
    (c,) = creds(tool, dict(env, AWS_PROFILE="deploy"))
    assert c["source"] == "profile deploy (assume role)"
    err, _ = error_of(tool, env, "--profile", "loop1")
    assert "cycle" in err["message"]
    err, _ = error_of(tool, env, "--profile", "nosuch")
    assert err["error"] == "INVALID_ARGUMENT_ERROR" and "nosuch" in err["message"]


def test_credential_process_runs_a_real_script(tool, base_env, tmp_dir):
    script = os.path.join(tmp_dir, "creds helper.sh")  # a space: the line is split like a shell, not run by one
    expires = int(time.time()) + 3600
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                "[ \"$1\" = --role ] && [ \"$2\" = 'read only' ] || { echo \"bad args: $*\" >&2; exit 3; }\n"
                "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", \"SecretAccessKey\": \"procsecret\", "
                "\"SessionToken\": \"proctoken\", \"Expiration\": \"%s\"}'\n" % iso(expires))
    os.chmod(script, stat.S_IRWXU)
    failing = os.path.join(tmp_dir, "failing.sh")
    with open(failing, "w") as f:
        f.write("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIALEAK\", \"SecretAccessKey\": \"leaked\"}'\n"
                "echo 'helper: the vault is sealed' >&2\nexit 7\n")
    os.chmod(failing, stat.S_IRWXU)
    with open(os.path.join(tmp_dir, "config"), "w") as f:
        f.write("[profile proc]\ncredential_process = \"%s\" --role 'read only'\n"
                "[profile broken]\ncredential_process = %s\n"
                "[profile badjson]\ncredential_process = /bin/echo '{\"Version\": 2}'\n" % (script, failing))
    (c,) = creds(tool, base_env, "--profile", "proc")
    assert c == {"accessKeyId": "AKIAPROC", "sessionToken": True, "expiresAt": expires,
                 "source": "profile proc (credential_process)"}
    err, out = error_of(tool, base_env, "--profile", "broken")
    assert "exited with status 7" in err["message"] and "the vault is sealed" in err["message"]
    assert "leaked" not in out and "AKIALEAK" not in out
    err, _ = error_of(tool, base_env, "--profile", "badjson")
    assert "Version" in err["message"]


def test_container_credentials_with_a_token_file(tool, base_env, tmp_dir, stand):
    # No ECS agent or EKS Pod Identity agent here: a loopback stand-in answers in their shape.
    expires = int(time.time()) + 3600

    def answer(h):
        if h.headers.get("Authorization") != "pod-identity-token":
            return 401, {"message": "bad token"}
        return 200, {"AccessKeyId": "AKIACONTAINER", "SecretAccessKey": "containersecret",
                     "Token": "containertoken", "Expiration": iso(expires)}

    s = stand(answer)
    token_file = os.path.join(tmp_dir, "eks-pod-identity-token")
    with open(token_file, "w") as f:
        f.write("pod-identity-token\n")
    env = dict(base_env, AWS_CONTAINER_CREDENTIALS_FULL_URI=s.url + "/v1/credentials",
               AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token_file,
               AWS_CONTAINER_AUTHORIZATION_TOKEN="ignored-when-the-file-is-set")
    (c,) = creds(tool, env)
    assert c == {"accessKeyId": "AKIACONTAINER", "sessionToken": True, "expiresAt": expires, "source": "container"}
    assert s.requests[0][0] == "/v1/credentials"
    env2 = dict(env, AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong-token")
    del env2["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    err, out = error_of(tool, env2)
    assert "HTTP 401" in err["message"] and "wrong-token" not in out
    # Plain http is for loopback and the ECS/EKS link-local hosts only.
    for url in ("http://example.com/creds", "http://127.evil.example/creds", "http://127.0.0.1.example/creds"):
        err, _ = error_of(tool, dict(env, AWS_CONTAINER_CREDENTIALS_FULL_URI=url))
        assert "https" in err["message"], url


def test_container_relative_uri_and_the_order_of_the_chain(tool, base_env, tmp_dir, stand, moto):
    # The ECS agent's address (169.254.170.2) is moved to the loopback stand-in by the driver's
    # --container-base (CredentialChainOptions::container_base); the rest is as on ECS.
    s = stand(lambda h: (200, {"AccessKeyId": "AKIARELATIVE", "SecretAccessKey": "x", "Token": "t",
                               "Expiration": iso(time.time() + 3600)}))
    env = dict(base_env, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/task-role-id",
               AWS_CONTAINER_AUTHORIZATION_TOKEN="ecs-token")
    (c,) = creds(tool, env, "--container-base", s.url)
    assert c["accessKeyId"] == "AKIARELATIVE" and c["source"] == "container"
    assert s.requests[-1][0] == "/v2/credentials/task-role-id"
    assert s.requests[-1][1].get("Authorization") == "ecs-token"
    # Container credentials outrank the profile...
    with open(os.path.join(tmp_dir, "credentials"), "w") as f:
        f.write("[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=filesecret\n")
    assert creds(tool, env, "--container-base", s.url)[0]["source"] == "container"
    # ...web identity outranks container credentials...
    token_file = os.path.join(tmp_dir, "token")
    with open(token_file, "w") as f:
        f.write("header.payload.signature")
    wi = dict(env, AWS_WEB_IDENTITY_TOKEN_FILE=token_file, AWS_ROLE_ARN="arn:aws:iam::123456789012:role/r",
              AWS_ENDPOINT_URL_STS=moto)
    assert creds(tool, wi, "--container-base", s.url)[0]["source"] == "web identity"
    # ...and a profile named explicitly skips all three.
    (c,) = creds(tool, dict(wi, AWS_ACCESS_KEY_ID="AKIAENV", AWS_SECRET_ACCESS_KEY="e"),
                 "--profile", "default", "--container-base", s.url)
    assert c["accessKeyId"] == "AKIAFILE" and c["source"] == "profile default"


def test_temporary_credentials_are_cached_and_fetched_again_before_they_expire(tool, base_env, stand):
    state = {"n": 0, "ttl": 3600, "fail_after": None}

    def answer(h):
        state["n"] += 1
        if state["fail_after"] is not None and state["n"] > state["fail_after"]:
            return 500, {"message": "agent restarting"}
        return 200, {"AccessKeyId": "AKIA%04d" % state["n"], "SecretAccessKey": "s%d" % state["n"],
                     "Token": "t", "Expiration": iso(time.time() + state["ttl"])}

    s = stand(answer)
    env = dict(base_env, AWS_CONTAINER_CREDENTIALS_FULL_URI=s.url + "/creds")
    got = creds(tool, env, "--times", "3")
    assert [c["accessKeyId"] for c in got] == ["AKIA0001"] * 3  # one fetch, then the cache
    # Credentials inside the refresh margin (5 minutes) are fetched again on every get...
    state.update(n=0, ttl=120)
    got = creds(tool, env, "--times", "3")
    assert [c["accessKeyId"] for c in got] == ["AKIA0001", "AKIA0002", "AKIA0003"]
    # ...and while they are still valid, a failing endpoint does not take them away.
    state.update(n=0, ttl=120, fail_after=1)
    got = creds(tool, env, "--times", "3")
    assert [c["accessKeyId"] for c in got] == ["AKIA0001"] * 3
    assert state["n"] == 3


def test_sso_token_cache_and_portal(tool, base_env, tmp_dir, stand):
    # No IAM Identity Center portal here: a loopback stand-in answers GetRoleCredentials.
    expires_ms = int(time.time() + 3600) * 1000

    def answer(h):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(h.path).query)
        if h.headers.get("x-amz-sso_bearer_token") != "cached-sso-access-token":
            return 401, {"message": "Session token not found or invalid"}
        if q != {"account_id": ["123456789012"], "role_name": ["MomentoRefresher"]}:
            return 400, {"message": "bad query"}
        return 200, {"roleCredentials": {"accessKeyId": "ASIASSO", "secretAccessKey": "ssosecret",
                                         "sessionToken": "ssotoken", "expiration": expires_ms}}

    s = stand(answer)
    with open(os.path.join(tmp_dir, "config"), "w") as f:
        f.write("[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = MomentoRefresher\n"
                "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
                "[profile legacy]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\n"
                "sso_account_id = 123456789012\nsso_role_name = MomentoRefresher\n")
    cache = os.path.join(tmp_dir, ".aws", "sso", "cache")
    os.makedirs(cache)

    def cache_token(key, token, expires_at):
        with open(os.path.join(cache, hashlib.sha1(key.encode()).hexdigest() + ".json"), "w") as f:
            json.dump({"accessToken": token, "expiresAt": expires_at, "region": "us-east-1"}, f)

    env = dict(base_env, AWS_ENDPOINT_URL_SSO=s.url)
    err, out = error_of(tool, env, "--profile", "sso")
    assert "aws sso login --profile sso" in err["message"]
    cache_token("corp", "cached-sso-access-token", iso(time.time() + 3600))
    (c,) = creds(tool, env, "--profile", "sso")
    assert c == {"accessKeyId": "ASIASSO", "sessionToken": True, "expiresAt": expires_ms // 1000,
                 "source": "profile sso (sso)"}
    assert s.requests[-1][0].startswith("/federation/credentials?")
    # The legacy form keys the cache by start URL.
    cache_token("https://old.awsapps.com/start", "cached-sso-access-token", iso(time.time() + 3600))
    assert creds(tool, env, "--profile", "legacy")[0]["accessKeyId"] == "ASIASSO"
    cache_token("corp", "expired-sso-token", iso(time.time() - 60))
    err, out = error_of(tool, env, "--profile", "sso")
    assert "expired" in err["message"] and "expired-sso-token" not in out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_aemm(tmp_dir, imdsv2):
    """amazon-ec2-metadata-mock on a free loopback port: (url, expires, process)."""
    if not MOCK or not os.access(MOCK, os.X_OK):
        pytest.skip("amazon-ec2-metadata-mock not built (scripts/setup builds it when go is installed)")
    expires = int(time.time()) + 6 * 3600
    cfg = os.path.join(tmp_dir, "aemm-config.json")
    with open(cfg, "w") as f:
        json.dump({"metadata": {"values": {"iam-security-credentials": {
            "Code": "Success", "LastUpdated": iso(time.time()), "Type": "AWS-HMAC",
            "AccessKeyId": "ASIAIMDSMOCK", "SecretAccessKey": "imdssecret", "Token": "imdstoken",
            "Expiration": iso(expires)}}}}, f)
    for _ in range(3):  # the port is free when chosen; another process may take it first
        port = free_port()
        proc = subprocess.Popen([MOCK, *(["--imdsv2"] if imdsv2 else []), "-n", "127.0.0.1", "-p", str(port),
                                 "-c", cfg],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_dir,
                                env=dict(os.environ, HOME=tmp_dir))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        if proc.poll() is None:
            break
    return "http://127.0.0.1:%d" % port, expires, proc


def stop(proc):
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def imds(tmp_dir):
    """IMDSv2 only, as instances launched with HttpTokens=required."""
    url, expires, proc = start_aemm(tmp_dir, imdsv2=True)
    try:
        yield url, expires
    finally:
        stop(proc)


def test_imdsv2_against_amazon_ec2_metadata_mock(tool, base_env, imds):
    url, expires = imds
    env = dict(base_env, AWS_EC2_METADATA_SERVICE_ENDPOINT=url)
    del env["AWS_EC2_METADATA_DISABLED"]
    (c,) = creds(tool, env)
    assert c == {"accessKeyId": "ASIAIMDSMOCK", "sessionToken": True, "expiresAt": expires,
                 "source": "instance metadata"}
    # AWS_EC2_METADATA_DISABLED turns it off, and the error says what was looked at.
    err, _ = error_of(tool, dict(env, AWS_EC2_METADATA_DISABLED="true"))
    assert err["error"] == "INVALID_ARGUMENT_ERROR" and "instance metadata is disabled" in err["message"]
    # An outage is an outage (retryable), not a bad argument: an endpoint that does not answer
    # fails within AWS_METADATA_SERVICE_TIMEOUT (token request, then the IMDSv1 fallback)...
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never answers
    try:
        err, _ = error_of(tool, dict(env, AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:%d" % silent.getsockname()[1],
                                     AWS_METADATA_SERVICE_TIMEOUT="1"))
        assert err["error"] == "TIMEOUT_ERROR" and "no AWS credentials" in err["message"], err
    finally:
        silent.close()
    # ...and one that refuses connections is a connection error.
    err, _ = error_of(tool, dict(env, AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:%d" % free_port()))
    assert err["error"] == "CONNECTION_ERROR" and "instance metadata" in err["message"], err


class ImdsFront(Loopback):
    """Stands in for the path between a host and its instance metadata: every GET goes on to
    amazon-ec2-metadata-mock unchanged, but the IMDSv2 token request (PUT) is refused with 403 (as
    IMDS refuses a request that carries X-Forwarded-For) or left unanswered (as when the answer's IP
    hop limit drops it on its way into a container behind one hop too many)."""

    def __init__(self, target, put):
        self.requests = []
        outer = self

        class H(JsonHandler):
            def do_PUT(self):
                outer.requests.append(("PUT", self.path, dict(self.headers.items())))
                if put == "drop":
                    time.sleep(2.5)  # past the client's 1 s timeout; then the connection just closes
                    self.close_connection = True
                    return
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                outer.requests.append(("GET", self.path, dict(self.headers.items())))
                req = urllib.request.Request(target + self.path, headers={
                    k: v for k, v in self.headers.items() if k.lower().startswith("x-aws-ec2-metadata-token")})
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status, body = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(H)


@pytest.mark.parametrize("put", ["403", "drop"])
def test_imdsv1_fallback_when_the_token_request_is_refused(tool, base_env, tmp_dir, put):
    url, expires, proc = start_aemm(tmp_dir, imdsv2=False)  # an instance with HttpTokens=optional
    front = ImdsFront(url, put)
    try:
        env = dict(base_env, AWS_EC2_METADATA_SERVICE_ENDPOINT=front.url)
        del env["AWS_EC2_METADATA_DISABLED"]
        (c,) = creds(tool, env)
        assert c == {"accessKeyId": "ASIAIMDSMOCK", "sessionToken": True, "expiresAt": expires,
                     "source": "instance metadata"}
        methods = [r[0] for r in front.requests]
        assert methods == ["PUT", "GET", "GET"], methods  # the token first, then IMDSv1
        assert not any(k.lower() == "x-aws-ec2-metadata-token" for r in front.requests[1:] for k in r[2])
        # AWS_EC2_METADATA_V1_DISABLED, or the profile's ec2_metadata_v1_disabled, forbids it.
        code = "PERMISSION_ERROR" if put == "403" else "TIMEOUT_ERROR"
        err, _ = error_of(tool, dict(env, AWS_EC2_METADATA_V1_DISABLED="true"))
        assert err["error"] == code and "IMDSv1 is disabled" in err["message"], err
        with open(os.path.join(tmp_dir, "config"), "w") as f:
            f.write("[default]\nec2_metadata_v1_disabled = true\n")
        err, _ = error_of(tool, env)
        assert err["error"] == code and "IMDSv1 is disabled" in err["message"], err
        os.remove(os.path.join(tmp_dir, "config"))
    finally:
        front.close()
        stop(proc)
    # An instance that requires IMDSv2 refuses the IMDSv1 fallback: the error says both steps.
    url, expires, proc = start_aemm(tmp_dir, imdsv2=True)
    front = ImdsFront(url, put)
    try:
        err, out = error_of(tool, dict(env, AWS_EC2_METADATA_SERVICE_ENDPOINT=front.url))
        assert err["error"] == "AUTHENTICATION_ERROR", err
        assert "IMDSv1" in err["message"] and "HTTP 401" in err["message"], err
        assert "imdssecret" not in out
    finally:
        front.close()
        stop(proc)


def test_a_profile_endpoint_url_and_sts_errors_at_moto(tool, base_env, tmp_dir, moto):
    # No AWS_ENDPOINT_URL*: the profile's endpoint_url sends STS and Secrets Manager to moto.
    aws_files(tmp_dir, credentials=BASE_KEYS, config=(
        "[profile deploy]\nrole_arn=arn:aws:iam::123456789012:role/deployer\nsource_profile=base\n"
        "endpoint_url = %s\n"
        "[profile toolong]\nrole_arn=arn:aws:iam::123456789012:role/deployer\nsource_profile=base\n"
        "role_session_name=%s\nendpoint_url = %s\n"
        "[profile elsewhere]\nrole_arn=arn:aws:iam::123456789012:role/deployer\nsource_profile=base\n"
        "endpoint_url = http://127.0.0.1:%d\n"
        % (moto, "s" * 65, moto, free_port())))
    (c,) = creds(tool, base_env, "--profile", "deploy")
    assert c["source"] == "profile deploy (assume role)" and c["accessKeyId"].startswith("ASIA")
    t = type(tool)(tool.path)
    t.env = dict(base_env, AWS_PROFILE="deploy")
    put = t.json("put", "--store", "aws-sm:profile/endpoint", "--key", "k1", "--refresh", "r1",
                 "--valid-until", "1900000000")
    assert t.json("get", "--store", "aws-sm:profile/endpoint") == put
    # An STS error answer (moto's own XML ErrorResponse) gives its code, message and a matching
    # error code; nothing of the request's secrets.
    err, out = error_of(tool, base_env, "--profile", "toolong")
    assert err["error"] == "INVALID_ARGUMENT_ERROR", err
    assert "HTTP 400 ValidationError" in err["message"] and "roleSessionName" in err["message"], err
    assert "basesecret" not in out
    # The environment's endpoint outranks the profile's (a dead port here).
    err, _ = error_of(tool, base_env, "--profile", "elsewhere")
    assert err["error"] == "CONNECTION_ERROR", err
    (c,) = creds(tool, dict(base_env, AWS_ENDPOINT_URL_STS=moto), "--profile", "elsewhere")
    assert c["accessKeyId"].startswith("ASIA")


def test_mfa_serial_uses_the_aws_cli_cache_or_says_why_not(tool, base_env, tmp_dir, monkeypatch):
    aws_files(tmp_dir, credentials=BASE_KEYS, config=(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n"
        "mfa_serial = arn:aws:iam::123456789012:mfa/alice\nduration_seconds = 900\n"
        "external_id = ext-1\nrole_session_name = alice\n"))
    err, out = error_of(tool, base_env, "--profile", "admin")
    assert err["error"] == "AUTHENTICATION_ERROR", err
    assert "mfa_serial" in err["message"] and "cannot prompt" in err["message"], err
    # The AWS CLI, after prompting, caches the role's credentials: under the key botocore itself
    # derives for this profile, written by botocore's own JSONFileCache.
    import botocore.session
    from botocore.utils import JSONFileCache
    for k, v in base_env.items():
        if k.startswith("AWS_") or k == "HOME":
            monkeypatch.setenv(k, v)
    session = botocore.session.Session(profile="admin")
    provider = session.get_component("credential_provider").get_provider("assume-role")
    refresher = provider.load()._refresh_using  # botocore wraps MFA roles in a one-shot _Refresher
    key = getattr(refresher, "_refresh", refresher).__self__._create_cache_key()
    cache = JSONFileCache(os.path.join(tmp_dir, ".aws", "cli", "cache"))
    expires = int(time.time()) + 600
    when = datetime.datetime.fromtimestamp(expires, datetime.timezone.utc)
    cache[key] = {"Credentials": {"AccessKeyId": "ASIAMFACACHED", "SecretAccessKey": "mfasecret",
                                  "SessionToken": "mfatoken", "Expiration": when}}
    (c,) = creds(tool, base_env, "--profile", "admin")
    assert c == {"accessKeyId": "ASIAMFACACHED", "sessionToken": True, "expiresAt": expires,
                 "source": "profile admin (assume role)"}
    cache[key] = {"Credentials": {"AccessKeyId": "ASIAMFACACHED", "SecretAccessKey": "mfasecret",
                                  "SessionToken": "mfatoken",
                                  "Expiration": datetime.datetime.now(datetime.timezone.utc)
                                  - datetime.timedelta(minutes=1)}}
    err, out = error_of(tool, base_env, "--profile", "admin")
    assert "expired" in err["message"] and "mfasecret" not in out


class IdentityCenter(Loopback):
    """No IAM Identity Center here (moto implements neither the SSO portal nor SSO OIDC): one
    loopback stand-in answers GetRoleCredentials and SSO OIDC CreateToken, and checks each
    CreateToken request against botocore's service model for sso-oidc (path, method, members)."""

    def __init__(self):
        from botocore.loaders import Loader
        model = Loader().load_service_model("sso-oidc", "service-2")
        op = model["operations"]["CreateToken"]
        shape = model["shapes"][op["input"]["shape"]]
        self.create_token = (op["http"]["method"], op["http"]["requestUri"], set(shape["members"]),
                             set(shape.get("required", [])))
        self.valid_refresh = {"refresh-1"}
        self.portal_tokens = set()
        self.oidc_calls = []
        self.oidc_down = False
        outer = self

        class H(JsonHandler):
            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.oidc_calls.append(req)
                method, uri, members, required = outer.create_token
                assert (self.command, self.path) == (method, uri)
                assert set(req) <= members and required <= set(req), req
                if outer.oidc_down:
                    return self.reply(503, {"error": "service_unavailable"})
                if req["grantType"] != "refresh_token" or req["clientId"] != "client-1" \
                        or req["clientSecret"] != "client-secret-1" or req["refreshToken"] not in outer.valid_refresh:
                    return self.reply(400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})
                outer.valid_refresh = {"refresh-2"}  # refresh tokens are rotated
                outer.portal_tokens.add("renewed-access")
                self.reply(200, {"accessToken": "renewed-access", "tokenType": "Bearer", "expiresIn": 3600,
                                 "refreshToken": "refresh-2"})

            def do_GET(self):
                if self.headers.get("x-amz-sso_bearer_token") not in outer.portal_tokens:
                    return self.reply(401, {"message": "Session token not found or invalid"})
                self.reply(200, {"roleCredentials": {"accessKeyId": "ASIASSO", "secretAccessKey": "ssosecret",
                                                     "sessionToken": "ssotoken",
                                                     "expiration": int(time.time() + 3600) * 1000}})

        super().__init__(H)


def test_an_expired_sso_token_is_renewed_through_sso_oidc(tool, base_env, tmp_dir):
    idc = IdentityCenter()
    try:
        with open(os.path.join(tmp_dir, "config"), "w") as f:
            f.write("[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n"
                    "sso_role_name = MomentoRefresher\n"
                    "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n")
        cache_dir = os.path.join(tmp_dir, ".aws", "sso", "cache")
        os.makedirs(cache_dir)
        path = os.path.join(cache_dir, hashlib.sha1(b"corp").hexdigest() + ".json")

        def write_cache(access, expires_at, refresh="refresh-1"):
            # The shape the AWS CLI writes at 'aws sso login' for an sso-session.
            with open(path, "w") as f:
                json.dump({"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1",
                           "accessToken": access, "expiresAt": iso(expires_at), "clientId": "client-1",
                           "clientSecret": "client-secret-1", "registrationExpiresAt": iso(time.time() + 86400),
                           "refreshToken": refresh}, f)

        env = dict(base_env, AWS_ENDPOINT_URL_SSO=idc.url, AWS_ENDPOINT_URL_SSO_OIDC=idc.url)
        write_cache("expired-access", time.time() - 60)
        (c,) = creds(tool, env, "--profile", "sso")
        assert c["accessKeyId"] == "ASIASSO" and c["source"] == "profile sso (sso)"
        assert len(idc.oidc_calls) == 1 and idc.oidc_calls[0]["grantType"] == "refresh_token"
        # Written back as the SDKs do: the new access token, its expiry and the rotated refresh token.
        with open(path) as f:
            cached = json.load(f)
        assert cached["accessToken"] == "renewed-access" and cached["refreshToken"] == "refresh-2"
        assert abs(datetime.datetime.strptime(cached["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
                   .replace(tzinfo=datetime.timezone.utc).timestamp() - (time.time() + 3600)) < 60
        assert cached["clientSecret"] == "client-secret-1"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        # A token valid for more than 15 minutes is used as is.
        creds(tool, env, "--profile", "sso")
        assert len(idc.oidc_calls) == 1
        # Within 15 minutes of expiry it is renewed; if SSO OIDC is down, the old one still serves.
        idc.portal_tokens.add("nearly-expired")
        write_cache("nearly-expired", time.time() + 600, refresh="refresh-2")
        idc.oidc_down = True
        assert creds(tool, env, "--profile", "sso")[0]["accessKeyId"] == "ASIASSO"
        assert len(idc.oidc_calls) == 2
        # A refused renewal of an expired token: an authentication error saying to log in again,
        # with none of the cached secrets.
        idc.oidc_down = False
        write_cache("expired-access", time.time() - 60, refresh="revoked-refresh")
        err, out = error_of(tool, env, "--profile", "sso")
        assert err["error"] == "AUTHENTICATION_ERROR", err
        assert "invalid_grant" in err["message"] and "aws sso login --profile sso" in err["message"], err
        for secret in ("revoked-refresh", "client-secret-1", "expired-access"):
            assert secret not in out
    finally:
        idc.close()
