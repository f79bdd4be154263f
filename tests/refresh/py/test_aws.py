"""AWS Secrets Manager store: libcurl's SigV4 against botocore's signer, and the store against moto."""
import datetime
import hashlib
import http.server
import json
import os
import threading
from unittest import mock

import pytest

botocore = pytest.importorskip("botocore")
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from conftest import Tool  # noqa: E402

# The requests the store sends: action and body, as the C++ code builds them.
REQUESTS = [
    ("GetSecretValue", '{"SecretId":"prod/momento","VersionStage":"AWSCURRENT"}'),
    ("PutSecretValue", '{"ClientRequestToken":"0b5c2d1e-7f3a-4c9d-8e21-3a4b5c6d7e8f","SecretId":"prod/momento",'
                       '"SecretString":"{\\"authToken\\":\\"e30=\\",\\"refreshToken\\":\\"r\\",\\"validUntil\\":\\"1\\"}",'
                       '"VersionStages":["AWSCURRENT"]}'),
    ("DescribeSecret", '{"SecretId":"arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/momento-AbCdEf"}'),
    ("CreateSecret", '{"Name":"team/ключ","SecretString":"{}"}'),
]

# region, session token
CASES = [
    ("us-east-1", ""),
    ("eu-central-1", "FwoGZXIvYXdzEXAMPLETOKEN//+="),
    ("ap-south-1", "tok"),
]

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class Recorder:
    """A loopback HTTP server that records each request and answers 200 {}: the signature libcurl
    computed is checked on what actually went over the wire."""

    def __init__(self):
        self.requests = []
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                rec.requests.append((self.path, [(k, v) for k, v in self.headers.items()], body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def botocore_signature(endpoint, path, headers, body, region, token):
    """botocore's SigV4 over the same request, the same signed headers and the same time."""
    hdrs = {k.lower(): v for k, v in headers}
    auth = hdrs["authorization"]
    signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    when = datetime.datetime.strptime(hdrs["x-amz-date"], "%Y%m%dT%H%M%SZ")
    creds = Credentials("AKIDEXAMPLE", SECRET_KEY, token or None)
    req = AWSRequest(method="POST", url=endpoint + path, data=body,
                     headers={k: v for k, v in hdrs.items()
                              if k in signed and k not in ("host", "x-amz-date", "x-amz-security-token")})
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(creds, "secretsmanager", region).add_auth(req)
    return {k.lower(): v for k, v in req.headers.items()}


@pytest.mark.parametrize("region,token", CASES)
@pytest.mark.parametrize("action,body", REQUESTS)
def test_sigv4_matches_botocore(tool, recorder, tmp_dir, region, token, action, body):
    env = {"AWS_ENDPOINT_URL_SECRETS_MANAGER": recorder.endpoint, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": token, "AWS_REGION": region,
           "AWS_CONFIG_FILE": os.path.join(tmp_dir, "none"), "HOME": tmp_dir,
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp_dir, "none")}
    assert tool.with_env(**env).json("call", "--store", "aws-sm:prod/momento", "--action", action,
                                     "--body", body) == {}
    (path, headers, sent), = recorder.requests
    assert path == "/"
    assert sent == body.encode()
    got = {k.lower(): v for k, v in headers}
    expected = botocore_signature(recorder.endpoint, path, headers, sent, region, token)
    assert got["authorization"] == expected["authorization"]
    assert got.get("x-amz-security-token") == expected.get("x-amz-security-token")
    assert got["x-amz-target"] == "secretsmanager." + action
    # What AWS needs signed is signed, including the session token when there is one.
    signed = set(got["authorization"].split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";"))
    assert {"host", "x-amz-date", "x-amz-target", "content-type"} <= signed
    assert ("x-amz-security-token" in signed) == bool(token)
    assert got["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%s/%s/secretsmanager/aws4_request" % (got["x-amz-date"][:8], region))
    assert SECRET_KEY not in json.dumps(headers)


def test_sigv4_signature_changes_with_every_input(tool, recorder, tmp_dir):
    base = {"AWS_ENDPOINT_URL_SECRETS_MANAGER": recorder.endpoint, "AWS_ACCESS_KEY_ID": "AKID",
            "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1", "HOME": tmp_dir,
            "AWS_CONFIG_FILE": os.path.join(tmp_dir, "none"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp_dir, "none")}

    def sig(body="{}", action="GetSecretValue", **kw):
        recorder.requests.clear()
        tool.with_env(**dict(base, **kw)).json("call", "--store", "aws-sm:x", "--action", action, "--body", body)
        hdrs = {k.lower(): v for k, v in recorder.requests[0][1]}
        return hdrs["x-amz-date"], hdrs["authorization"].rsplit("Signature=", 1)[1]

    date, ref = sig()
    for change in [{"body": "{ }"}, {"AWS_REGION": "us-east-2"}, {"AWS_SECRET_ACCESS_KEY": "t"},
                   {"action": "PutSecretValue"}]:
        d, s = sig(**change)
        assert s != ref or d != date, change


def fingerprint(s):
    return hashlib.sha256(s.encode()).hexdigest()


def test_store_creates_puts_and_reads_the_lambda_shape(tool, aws_env, boto_sm):
    t = tool.with_env(**aws_env)
    first = t.json("put", "--store", "aws-sm:momento/test", "--key", "k1", "--refresh", "r1",
                   "--valid-until", "1900000000")
    value = json.loads(boto_sm.get_secret_value(SecretId="momento/test")["SecretString"])
    assert set(value) == {"authToken", "refreshToken", "validUntil"}
    assert value["refreshToken"] == "r1"
    assert value["validUntil"] == "1900000000"
    assert first["fingerprint"] == fingerprint(value["authToken"])

    second = t.json("put", "--store", "aws-sm:momento/test", "--key", "k2", "--refresh", "r2",
                    "--valid-until", "1900000100")
    assert second["version"] != first["version"]
    stages = t.json("versions", "--store", "aws-sm:momento/test")
    assert stages[second["version"]] == ["AWSCURRENT"]
    assert stages[first["version"]] == ["AWSPREVIOUS"]
    got = t.json("get", "--store", "aws-sm:momento/test")
    assert got == second


def test_store_reads_secrets_written_by_other_tools(tool, aws_env, boto_sm):
    # As Momento's refresh Lambda and the console download write them: number or string
    # validUntil, extra members.
    envelope = "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJrIn0="
    boto_sm.create_secret(Name="lambda/secret", SecretString=json.dumps(
        {"authToken": envelope, "refreshToken": "rt", "validUntil": 1700000000, "restEndpoint": "x"}))
    got = tool.with_env(**aws_env).json("get", "--store", "aws-sm:lambda/secret")
    assert got["fingerprint"] == fingerprint(envelope)
    assert got["validUntil"] == 1700000000
    assert tool.with_env(**aws_env).json("get", "--store", "aws-sm:does/not/exist") == {"empty": True}


def test_wrong_credentials_and_unreachable_endpoint_fail_cleanly(tool, aws_env, tmp_dir):
    env = dict(aws_env, AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:9")  # discard port: refused
    p = tool.with_env(**env).run("get", "--store", "aws-sm:x", check=False)
    assert p.returncode == 2
    err = json.loads(p.stdout.strip().splitlines()[-1])
    assert err["error"] in ("CONNECTION_ERROR", "TIMEOUT_ERROR")
    assert "motosecret" not in p.stdout + p.stderr
    env = dict(aws_env)
    del env["AWS_ACCESS_KEY_ID"]
    clean = Tool(tool.path, {k: v for k, v in env.items()})
    clean.env.pop("AWS_ACCESS_KEY_ID", None)
    p = clean.run("get", "--store", "aws-sm:x", check=False)
    assert p.returncode == 2
    assert json.loads(p.stdout.strip().splitlines()[-1])["error"] == "INVALID_ARGUMENT_ERROR"


def test_a_reader_in_another_process_sees_every_new_version(tool, aws_env):
    t = tool.with_env(**aws_env)
    t.json("put", "--store", "aws-sm:fleet/key", "--key", "k0", "--refresh", "r0", "--valid-until", "1900000000")
    reader = t.spawn("watch", "--store", "aws-sm:fleet/key", "--period-ms", "50", "--count", "6",
                     "--timeout-ms", "60000")
    try:
        reader.wait_for(lambda ls: len(ls) >= 1, 30)
        written = [reader.lines[0]["fingerprint"]]
        for i in range(1, 6):
            w = t.json("put", "--store", "aws-sm:fleet/key", "--key", f"k{i}", "--refresh", f"r{i}",
                       "--valid-until", str(1900000000 + i))
            written.append(w["fingerprint"])
            # Wait until the reader has published this version before writing the next one.
            reader.wait_for(lambda ls, fp=w["fingerprint"]: any(x["fingerprint"] == fp for x in ls), 30)
        assert reader.drain(30) == 0
        seen = [x["fingerprint"] for x in reader.lines]
        assert seen == written
        assert [x["validUntil"] for x in reader.lines] == [1900000000 + i for i in range(6)]
    finally:
        reader.kill()
