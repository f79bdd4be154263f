#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus from spec/vectors.json and the shapes real keys,
token files and server messages have. Run it again after changing an input layout; the files it
writes are committed (findings are added next to them by hand, named finding-*)."""
import base64
import hashlib
import json
import pathlib
import struct

here = pathlib.Path(__file__).resolve().parent
root = here.parent.parent
vectors = {v["id"]: v for v in json.loads((root / "spec/vectors.json").read_text())["vectors"]}
SEP = b"\xff"  # field separator of fuzz::Input


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(header: dict, payload: dict, sig: bytes = b"\x01" * 32) -> str:
    seg = lambda d: b64url(json.dumps(d, separators=(",", ":")).encode())
    return f"{seg(header)}.{seg(payload)}.{b64url(sig)}"


def envelope(endpoint: str, key: str) -> str:
    return base64.b64encode(json.dumps({"endpoint": endpoint, "api_key": key},
                                       separators=(",", ":")).encode()).decode()


legacy = vectors["cred-legacy-jwt"]["input"]
v1 = vectors["cred-v1-envelope"]["input"]
v2 = vectors["cred-v2-api-key"]["input"]
inner = jwt({"alg": "HS256", "typ": "JWT", "kid": "k1"},
            {"jti": "T1V2ZXJ0aGVXaXJlMTIzNDU2", "iat": 1700000000, "exp": 1700003600})
server_v1 = envelope("127.0.0.1:8080", inner)
session = jwt({"alg": "HS256"}, {"sub": "someone", "exp": 1700003600})
token_file = json.dumps({"authToken": server_v1, "refreshToken": "cmVmcmVzaC10b2tlbi0xMjM0NTY3OA",
                         "validUntil": "1700003600"}, separators=(",", ":"))

corpus = {
    "fuzz_credential": {
        "legacy": b"\x00" + SEP + SEP + legacy.encode(),
        "v1": b"\x00" + SEP + SEP + v1.encode(),
        "v1-server": b"\x00" + SEP + SEP + server_v1.encode(),
        "v1-base-override": bytes([0 | (1 << 2)]) + b"base.foo" + SEP + SEP + v1.encode(),
        "session-single-override": bytes([0 | (3 << 2)]) + b"127.0.0.1:8080" + SEP + SEP + session.encode(),
        "disposable": b"\x01" + SEP + SEP + server_v1.encode(),
        "v2": b"\x02" + SEP + b"testEndpoint" + SEP + v2.encode(),
        "v2-explicit-override": bytes([2 | (2 << 2)]) + b"h:1" + SEP + b"e.com" + SEP + v2.encode(),
        "envelope-build": b"\x03" + SEP + b"cache.example.com" + SEP + inner.encode(),
        "missing-api-key": b"\x00" + SEP + SEP + vectors["cred-v1-missing-api-key"]["input"].encode(),
        "literal": b"\x00" + SEP + SEP + b"Invalid token",
    },
    "fuzz_decode": {
        "object-envelope": b"\x00" + json.dumps({"endpoint": "a.b", "api_key": "k"}).encode(),
        "object-escapes": b"\x00" + b'{"a\\u0041":"x\\n\\"y","n":-0,"f":1.5e9,"o":{},"l":[1]}',
        "object-exp": b"\x00" + b' {"exp":1700000000,"t":"g"} \n',
        "object-dup": b"\x00" + b'{"k":"1","k":"2"}',
        "base64-envelope": b"\x01" + v1.encode(),
        "base64-url": b"\x01" + b"_-8A",
        "base64-pad": b"\x01" + b"QQ==",
        "jwt-legacy": b"\x02" + legacy.encode(),
        "jwt-v2": b"\x02" + v2.encode(),
        "jwt-server": b"\x02" + inner.encode(),
        "jwt-empty-sig": b"\x02" + (inner.rsplit(".", 1)[0] + ".").encode(),
    },
    "fuzz_token_file": {
        "parse": b"\x00" + token_file.encode(),
        "parse-number": b"\x00" + b'{"apiKey":"' + v2.encode() + b'","validUntil":1700003600}',
        "parse-never": b"\x00" + b'{"authToken":"' + v1.encode() + b'","refreshToken":null,"validUntil":0}',
        "secrets-manager": b"\x01" + json.dumps({
            "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:momento-AbCdEf",
            "Name": "momento", "SecretString": token_file,
            "VersionId": "b7f4e1c2-0000-4000-8000-000000000001", "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1.7e9}).encode(),
        "secrets-manager-binary": b"\x01" + b'{"Name":"m","SecretBinary":"AAEC"}',
        "file": b"\x02" + token_file.encode(),
        "journal": b"\x03" + b'{"keyFingerprint":"' + hashlib.sha256(b"k").hexdigest().encode() +
                   b'","startedAtMs":1700000000000}',
    },
    "fuzz_server": {
        # mode 0: cache, item key, serialized Permissions
        **{f"perm-{vid}": b"\x00" + b"my-cache" + SEP + b"key" + SEP + bytes.fromhex(vectors[vid]["input"])
           for vid in ("proto-permissions-super-user", "proto-permissions-cache-read-only")},
        # mode 1: now (int64 little endian), a raw token
        "jwt-raw": b"\x01" + struct.pack("<q", 1700000000) + inner.encode(),
        "jwt-none": b"\x01" + struct.pack("<q", 0) + jwt({"alg": "none"}, {"jti": "x", "iat": 1}, b"").encode(),
        # mode 2: now, header with $kid, payload; signed by the target
        "jwt-signed": b"\x02" + struct.pack("<q", 1700000000) +
                      b'{"alg":"HS256","typ":"JWT","kid":"$kid"}' + SEP +
                      b'{"jti":"T1V2ZXJ0aGVXaXJlMTIzNDU2","iat":1700000000,"exp":1700003600}',
        "jwt-signed-never": b"\x02" + struct.pack("<q", 1700000000) +
                            b'{"alg":"HS256","kid":"$kid"}' + SEP + b'{"jti":"a","iat":1}',
    },
}


def s(text: bytes) -> bytes:  # a string argument of fuzz_capi (tag byte, text, separator)
    return b"\x00" + text + SEP


ERR = b"\x01"  # ask for the error object
corpus["fuzz_capi"] = {
    "parse-all": b"".join([
        b"\x00\x00" + s(v1.encode()) + b"\x01" + ERR,
        b"\x05" + struct.pack("<i", 1) + ERR + struct.pack("<i", 0) + ERR + ERR,
        b"\x01\x01" + s(server_v1.encode()) + b"\x01" + ERR,
        b"\x02" + s(v2.encode()) + s(b"testEndpoint") + ERR,
        b"\x05" + struct.pack("<i", 2) + ERR + struct.pack("<i", 2) + ERR + ERR,
        b"\x00\x00" + s(b"Invalid token") + b"\x01" + ERR,
        b"\x03" + s(b"127.0.0.1") + struct.pack("<H", 8080) + ERR,
    ]),
    "overrides": b"".join([
        b"\x04\x00" + struct.pack("<i", 1) + s(b"base.foo") + s(b"") + s(b"") + ERR,
        b"\x00\x00" + s(legacy.encode()) + b"\x01" + ERR,
        b"\x04\x02" + struct.pack("<i", 0) + s(b"127.0.0.1:8080") + s(b"") + s(b"") + ERR,
        b"\x00\x00" + s(session.encode()) + b"\x01" + ERR,
        b"\x05" + struct.pack("<i", 0) + ERR + struct.pack("<i", 1) + ERR + ERR,
    ]),
    "scope": b"".join([
        b"\x07\x00" + struct.pack("<i", 0) + ERR,
        b"\x08\x00" + struct.pack("<i", 1) + struct.pack("<i", 0) + s(b"my-cache") + s(b"") + ERR,
        b"\x08\x01" + struct.pack("<i", 1) + struct.pack("<i", 1) + b"\xee" + SEP + s(b"topic") + ERR,
        b"\x08\x03" + struct.pack("<i", 2) + struct.pack("<i", 1) + s(b"c") + s(b"item") + ERR,
        b"\x09" + ERR + struct.pack("<i", 1),
        b"\x07\x01" + struct.pack("<i", 1) + ERR,
    ]),
    "options": b"".join([
        b"\x0b" + ERR,
        b"\x0b\x00" + struct.pack("<d", float("nan")) + struct.pack("<qq", 0, 0) + ERR,
        b"\x0b\x00" + struct.pack("<d", 0.5) + struct.pack("<qq", 0, 0) + ERR,
        b"\x0b\x02" + struct.pack("<d", 0) + struct.pack("<qq", 1000, 500) + ERR,
        b"\x0b\x06" + struct.pack("<d", 0) + struct.pack("<qq", 0, 0) + ERR,
        b"\x0c" + s(b"file:/tmp/token.json") + ERR + struct.pack("<i", 1),
        b"\x0d" + ERR, b"\x0d\x01" + struct.pack("<q", -1) + struct.pack("<i", 0) + ERR,
        b"\x0a" + s(inner.encode()) + b"\x01" + ERR,
        b"\x06" + struct.pack("<i", 1) + struct.pack("<q", 3600) + ERR,
        b"\x0e" + struct.pack("<i", -3) + struct.pack("<i", 9),
        b"\x0f\x01",
    ]),
}

for target, files in corpus.items():
    d = here / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("seed-*"):
        old.unlink()
    for name, data in files.items():
        (d / f"seed-{name}").write_bytes(data)
print("wrote", sum(len(f) for f in corpus.values()), "seeds")
