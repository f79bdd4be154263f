"""The AWS credential chain, source by source, against real implementations where they exist here.

  - STS AssumeRole / AssumeRoleWithWebIdentity and Secrets Manager: moto server on loopback.
  - EC2 instance metadata (IMDSv2): Amazon's amazon-ec2-metadata-mock, built by scripts/setup
    (build/tools/ec2-metadata-mock), run IMDSv2-only on loopback.
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
import urllib.parse

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


class Stand:
    """A loopback HTTP server standing in for an AWS endpoint with no real implementation here.
    `answer(handler)` returns (status, dict) for each GET; requests are recorded."""

    def __init__(self, answer):
        self.requests = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers.items())))
                status, body = answer(self)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


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
    with open(os.path.join(tmp_dir, "credentials"), "w") as f:
        f.write("[base]\naws_access_key_id=AKIABASE\naws_secret_access_key=basesecret\n")
    with open(os.path.join(tmp_dir, "config"), "w") as f:
        f.write("[profile deploy]\nrole_arn=arn:aws:iam::123456789012:role/deployer\nsource_profile=base\n"
                "role_session_name=momento-test\nduration_seconds=900\n"
                "[profile loop1]\nrole_arn=arn:aws:iam::1:role/x\nsource_profile=loop2\n"
                "[profile loop2]\nrole_arn=arn:aws:iam::1:role/y\nsource_profile=loop1\n")
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
    err, _ = error_of(tool, dict(env, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://example.com/creds"))
    assert "https" in err["message"]


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


@pytest.fixture
def imds(tmp_dir):
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
        proc = subprocess.Popen([MOCK, "--imdsv2", "-n", "127.0.0.1", "-p", str(port), "-c", cfg],
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
    try:
        yield "http://127.0.0.1:%d" % port, expires
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
    # An endpoint that does not answer fails within AWS_METADATA_SERVICE_TIMEOUT.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never answers
    try:
        err, _ = error_of(tool, dict(env, AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:%d" % silent.getsockname()[1],
                                     AWS_METADATA_SERVICE_TIMEOUT="1"))
        assert "no AWS credentials" in err["message"]
    finally:
        silent.close()
