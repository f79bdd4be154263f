#!/usr/bin/env python3
"""The drift check fails on header changes a binding misses (a changed signature, a changed
constant, a removed function) and passes on the header as it is. Go takes its constants from the
header and cgo compiles against it, so only a removed name is the drift check's to catch there."""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = HERE.parent / "capi" / "include" / "momento" / "auth.h"
which = sys.argv[1:] or ["node", "go"]


def run(header: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HERE / "check_drift.py"), "--header", str(header), *which],
                          capture_output=True, text=True, env=os.environ)


text = HEADER.read_text()
assert run(HEADER).returncode == 0, run(HEADER).stdout
mutations = {
    "a changed signature": ("momento_redact(char **out, const char *secret,",
                            "momento_redact(char **out, const char *secret, int32_t flags,", {"node", "rust"}),
    "a changed constant": ("MOMENTO_ERR_PERMISSION = -3,", "MOMENTO_ERR_PERMISSION = -30,", {"node", "rust"}),
    "a removed function": ("MOMENTO_API uint32_t momento_abi_version(void);", "", {"node", "go", "rust"}),
}
failures = checks = 0
with tempfile.TemporaryDirectory() as tmp:
    for name, (old, new, noticed_by) in mutations.items():
        assert old in text, old
        h = Path(tmp) / "auth.h"
        h.write_text(text.replace(old, new))
        r = run(h)
        for w in noticed_by & set(which):
            checks += 1
            if not re.search(rf"^{w}: ", r.stdout, re.M):
                print(f"{w}: {name} went unnoticed\n{r.stdout}")
                failures += 1
print(f"{checks - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
