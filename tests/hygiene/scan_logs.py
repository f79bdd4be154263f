#!/usr/bin/env python3
"""Searches captured logs and test output for secrets in the shapes this project mints.

usage: scan_logs.py [--known DIR] PATH...

Every file under each PATH is read as text and searched for:
  - JWTs: three base64url segments whose header decodes to a JSON object naming "alg" and whose
    payload decodes to a JSON object, with a signature of 16+ characters (API keys, the inner key
    of an envelope, session tokens);
  - v1 envelopes: base64 text that decodes to a JSON object with an "api_key" member;
  - refresh tokens and signing keys: 43-character base64url strings (32 random bytes), confirmed
    against what the servers of the run held: their SHA-256 among the hashes in a state.db, or
    equal to a key of a signing-keys.json (both copied under --known by the test harnesses);
  - PEM private keys and symmetric JWKs ("kty":"oct" with a "k").
Files under --known are the secrets themselves and are not searched. Exit status 1 names each
finding (file, line, kind and a 12-character prefix, never the whole secret); 0 when none.
"""
import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sqlite3
import sys

JWT = re.compile(rb"(?<![A-Za-z0-9_-])([A-Za-z0-9_-]{8,})\.([A-Za-z0-9_-]{8,})\.([A-Za-z0-9_-]{16,})")
B64 = re.compile(rb"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,}={0,2}")
TOKEN32 = re.compile(rb"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
PEM = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----")
JWK = re.compile(rb'"kty"\s*:\s*"oct"[^{}]*"k"\s*:\s*"[A-Za-z0-9_-]{16,}|"k"\s*:\s*"[A-Za-z0-9_-]{16,}"[^{}]*"kty"\s*:\s*"oct"')


def b64url(s):
    s = s if isinstance(s, bytes) else s.encode()
    try:
        return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        return None


def json_object(raw):
    if raw is None:
        return None
    try:
        v = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return v if isinstance(v, dict) else None


def is_jwt(header, payload):
    h = json_object(b64url(header))
    return h is not None and "alg" in h and json_object(b64url(payload)) is not None


class Known:
    """Hashes and signing keys the run's servers held."""

    def __init__(self):
        self.hashes = set()
        self.signing_keys = set()

    def load(self, root):
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                if name.endswith(".db"):
                    self._db(path)
                elif name.endswith(".json"):
                    try:
                        with open(path) as f:
                            keys = json.load(f).get("keys", [])
                        self.signing_keys.update(k["secret"] for k in keys if isinstance(k.get("secret"), str))
                    except (OSError, ValueError, AttributeError, TypeError, KeyError):
                        pass

    def _db(self, path):
        try:
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for t in tables:
                for col in [r[1] for r in db.execute('PRAGMA table_info("%s")' % t)]:
                    for (v,) in db.execute('SELECT "%s" FROM "%s" WHERE typeof("%s")=\'blob\' AND length("%s")=32'
                                           % (col, t, col, col)):
                        self.hashes.add(bytes(v))
            db.close()
        except sqlite3.Error:
            pass


def findings(data, known):
    """(offset, kind, text) for each secret in data."""
    out = []
    for m in JWT.finditer(data):
        if is_jwt(m.group(1), m.group(2)):
            out.append((m.start(), "JWT (API key)", m.group(0)))
    for m in B64.finditer(data):
        try:
            raw = base64.b64decode(m.group(0) + b"=" * (-len(m.group(0)) % 4))
        except (binascii.Error, ValueError):
            continue
        obj = json_object(raw)
        if obj is not None and isinstance(obj.get("api_key"), str):
            out.append((m.start(), "v1 envelope", m.group(0)))
    for m in TOKEN32.finditer(data):
        t = m.group(0)
        if t.decode() in known.signing_keys:
            out.append((m.start(), "signing key", t))
        elif hashlib.sha256(t).digest() in known.hashes:
            out.append((m.start(), "refresh token", t))
    for m in PEM.finditer(data):
        out.append((m.start(), "PEM private key", m.group(0)))
    for m in JWK.finditer(data):
        out.append((m.start(), "symmetric JWK", m.group(0)))
    return out


def scan(paths, known_dir):
    known = Known()
    if known_dir and os.path.isdir(known_dir):
        known.load(known_dir)
    skip = os.path.realpath(known_dir) if known_dir else None
    files = []
    for p in paths:
        if os.path.isfile(p):
            files.append(p)
        for dirpath, dirs, names in os.walk(p):
            if skip and os.path.realpath(dirpath).startswith(skip):
                dirs[:] = []
                continue
            files.extend(os.path.join(dirpath, n) for n in names)
    report = []
    for path in files:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        for off, kind, text in findings(data, known):
            line = data.count(b"\n", 0, off) + 1
            report.append("%s:%d: %s %s..." % (path, line, kind, text[:12].decode("ascii", "replace")))
    return files, known, report


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--known", help="directory of state.db / signing-keys.json copies (not searched)")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    files, known, report = scan(a.paths, a.known)
    for r in report:
        print(r)
    print("scan_logs: %d files, %d known hashes, %d signing keys: %d secrets found"
          % (len(files), len(known.hashes), len(known.signing_keys), len(report)))
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
