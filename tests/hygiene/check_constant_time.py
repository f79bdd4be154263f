#!/usr/bin/env python3
"""Fails when server code compares a secret with an ordinary comparison.

Secrets the server compares: MACs of keys (jwt.cpp), refresh-token hashes (registry.cpp), the
console's sign-in code and CSRF token. Each comparison must go through constant_time_equal
(CRYPTO_memcmp). Keys and refresh tokens are otherwise found by the SQLite index on their SHA-256
hash, which reveals nothing about the secret. Usage: check_constant_time.py SERVER_DIR"""
import pathlib
import re
import sys

secret = re.compile(r"\b(mac|expected|token_hash|rt_hash|refresh_hash|csrf|code_|secret|signature)\b"
                    r"|\bcode\.reveal\(\)")
compare = re.compile(r"==|!=|\bmemcmp\s*\(|\bstrcmp\s*\(|\bstrncmp\s*\(|\.compare\s*\(")
# Comparisons that involve such a name but not its value.
harmless = re.compile(r"\.(empty|size|length)\(\)|\bnullptr\b|npos|\.end\(\)|\bkind_case\(\)")

root = pathlib.Path(sys.argv[1])
bad, checked = [], 0
for path in sorted(list(root.rglob("*.cpp")) + list(root.rglob("*.hpp"))):
    for n, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("//")[0]
        if not compare.search(code) or not secret.search(code):
            continue
        checked += 1
        if "constant_time_equal" in code or harmless.search(code):
            continue
        bad.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
uses = sum(p.read_text().count("constant_time_equal") for p in root.rglob("*.cpp"))
print(f"{checked} lines compare values named like secrets; constant_time_equal used {uses} times")
if uses < 4:
    bad.append("fewer constant-time comparisons than the four secrets compared (MAC, refresh hash, code, CSRF)")
for b in bad:
    print("FAIL: not constant-time:", b)
sys.exit(1 if bad else 0)
