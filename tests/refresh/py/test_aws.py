"""AWS Secrets Manager store: SigV4 against botocore's signer, and the store against moto."""
import datetime
import hashlib
import json
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

CASES = [
    # endpoint, region, session token, time
    ("https://secretsmanager.us-east-1.amazonaws.com", "us-east-1", "", datetime.datetime(2015, 8, 30, 12, 36, 0)),
    ("https://secretsmanager.eu-central-1.amazonaws.com", "eu-central-1", "FwoGZXIvYXdzEXAMPLETOKEN//+=",
     datetime.datetime(2024, 2, 29, 23, 59, 59)),
    ("http://127.0.0.1:4566", "us-west-2", "", datetime.datetime(2026, 1, 1, 0, 0, 0)),
    ("https://secretsmanager.ap-south-1.amazonaws.com:443", "ap-south-1", "tok", datetime.datetime(2030, 6, 15, 8, 5, 9)),
]


def botocore_sign(endpoint, action, body, region, token, when):
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token or None)
    req = AWSRequest(method="POST", url=endpoint + "/", data=body.encode(),
                     headers={"Content-Type": "application/x-amz-json-1.1",
                              "X-Amz-Target": "secretsmanager." + action})
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(creds, "secretsmanager", region).add_auth(req)
    return {k.lower(): v for k, v in req.headers.items()}


@pytest.mark.parametrize("endpoint,region,token,when", CASES)
@pytest.mark.parametrize("action,body", REQUESTS)
def test_sigv4_matches_botocore(tool, endpoint, region, token, when, action, body):
    mine = tool.json("sign", stdin=json.dumps({
        "endpoint": endpoint, "action": action, "body": body, "region": region,
        "access_key": "AKIDEXAMPLE", "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "session_token": token, "date": when.strftime("%Y%m%dT%H%M%SZ")}))
    expected = botocore_sign(endpoint, action, body, region, token, when)
    got = {k.lower(): v for k, v in mine["headers"]}
    assert got["authorization"] == expected["authorization"]
    assert got["x-amz-date"] == expected["x-amz-date"]
    assert got.get("x-amz-security-token") == expected.get("x-amz-security-token")
    assert mine["url"] == endpoint + "/"
    assert mine["body"] == body
    # The Host we send is the one botocore signed for.
    host = endpoint.split("://", 1)[1]
    if host.endswith(":443"):
        host = host[:-4]
    assert got["host"] == host


def test_sigv4_signature_changes_with_every_input(tool):
    base = {"endpoint": "https://secretsmanager.us-east-1.amazonaws.com", "action": "GetSecretValue",
            "body": "{}", "region": "us-east-1", "access_key": "AKID", "secret_key": "s",
            "session_token": "", "date": "20200101T000000Z"}

    def sig(**kw):
        hdrs = dict((k.lower(), v) for k, v in tool.json("sign", stdin=json.dumps(dict(base, **kw)))["headers"])
        return hdrs["authorization"].rsplit("Signature=", 1)[1]

    ref = sig()
    for change in [{"body": "{ }"}, {"region": "us-east-2"}, {"secret_key": "t"},
                   {"date": "20200101T000001Z"}, {"action": "PutSecretValue"}]:
        assert sig(**change) != ref, change


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
