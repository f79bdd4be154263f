#!/usr/bin/env python3
"""Holds every binding's declarations to momento/auth.h, so a header change a binding misses fails.

  node   the C prototypes and constants in bindings/node/lib/ffi.js (koffi parses them at load;
         its stand-ins `momento_owned_str *` and `momento_call_id` mean `char **` and `void *`)
  go     every C.momento_* name the Go package uses exists in the header (cgo compiles against
         auth.h itself, so the types are checked by the Go build)
  rust   bindings/rust/momento-auth-sys/src/bindings.rs equals what generate.sh (bindgen, without
         the deprecated names) generates now
         (needs bindgen on PATH or $BINDGEN; scripts/setup installs it)

Usage: check_drift.py [--header PATH] [node|go|rust ...]   (all three by default)
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "capi" / "include" / "momento" / "auth.h"


def strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def norm_type(t: str) -> str:
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"\s*\*\s*", "*", t)
    return t


def split_params(params: str) -> list[str]:
    """Parameter types without names ('void' alone means none)."""
    params = params.strip()
    if params in ("", "void"):
        return []
    out = []
    for p in params.split(","):
        p = re.sub(r"\s+", " ", p).strip()
        m = re.match(r"^(.*?[\s*])([A-Za-z_]\w*)$", p)
        out.append(norm_type(m.group(1) if m else p))
    return out


PROTO = re.compile(r"^\s*(?P<ret>[\w\s*]+?[\s*])(?P<name>momento_\w+)\s*\((?P<params>[^)]*)\)\s*;?\s*$", re.S)


def parse_proto(text: str) -> tuple[str, tuple[str, list[str]]]:
    m = PROTO.match(text)
    if not m:
        raise ValueError(f"not a prototype: {text!r}")
    return m.group("name"), (norm_type(m.group("ret")), split_params(m.group("params")))


def parse_header(path: Path):
    text = strip_comments(path.read_text())
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    funcs = {}
    deprecated = set()
    for decl in re.findall(r"^MOMENTO_API\s+([^;]+);", text, flags=re.M):
        old = decl.startswith("MOMENTO_DEPRECATED")
        name, sig = parse_proto(decl.removeprefix("MOMENTO_DEPRECATED"))
        funcs[name] = sig
        if old:
            deprecated.add(name)
    callbacks = {}
    for ret, name, params in re.findall(r"typedef\s+([\w\s*]+?)\s*\(\s*\*\s*(momento_\w+)\s*\)\s*\(([^)]*)\)\s*;", text):
        callbacks[name] = (norm_type(ret), split_params(params))
    consts = {}
    for body in re.findall(r"enum\s+\w+\s*\{([^}]*)\}", text):
        value = -1
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            if "=" in item:
                n, v = (s.strip() for s in item.split("=", 1))
                value = int(v, 0)
            else:
                n, value = item, value + 1
            consts[n] = value
    for n, v in re.findall(r"#define\s+(MOMENTO_\w+)\s+(-?\d+)\b", path.read_text()):
        consts[n] = int(v)
    return funcs, callbacks, consts, deprecated


def check_node(funcs, callbacks, consts, deprecated) -> list[str]:
    src = (ROOT / "bindings" / "node" / "lib" / "ffi.js").read_text()
    problems = []
    protos = re.findall(r"'([^'\n]*momento_\w+\([^'\n]*\))'", src)
    if not protos:
        return ["node: no prototypes found in ffi.js"]
    for proto in protos:
        p = (proto.replace("_Out_ ", "").replace("momento_owned_str *", "char **")
             .replace("momento_call_id ", "void *"))
        name, sig = parse_proto(p)
        cb = re.sub(r"_cb$", "_fn", name)
        if name.endswith("_cb") and cb in callbacks:
            expected = callbacks[cb]
        elif name in funcs:
            expected = funcs[name]
        else:
            problems.append(f"node: {name} is not declared in auth.h")
            continue
        if sig != expected:
            problems.append(f"node: {name} is {sig} in ffi.js but {expected} in auth.h")
        if name in deprecated:
            problems.append(f"node: {name} is deprecated in auth.h; use its new name")
    for n, v in re.findall(r"^\s*(MOMENTO_\w+): (-?\d+),", src, flags=re.M):
        if consts.get(n) != int(v):
            problems.append(f"node: {n} = {v} in ffi.js but {consts.get(n)} in auth.h")
    abi = re.search(r"const ABI_VERSION = (\d+);", src)
    if not abi or int(abi.group(1)) != consts.get("MOMENTO_AUTH_ABI_VERSION"):
        problems.append("node: ABI_VERSION in ffi.js differs from MOMENTO_AUTH_ABI_VERSION")
    return problems


def check_go(funcs, callbacks, consts, deprecated) -> list[str]:
    problems = []
    godir = ROOT / "bindings" / "go"
    used = set()
    for f in godir.glob("*.go"):
        used |= set(re.findall(r"\bC\.((?:momento|MOMENTO)_\w+)", f.read_text()))
    if not used:
        return ["go: no C.momento_* names found"]
    known = set(funcs) | set(callbacks) | set(consts)
    known |= {n for n in re.findall(r"typedef\s+(?:struct\s+\w+\s+|int32_t\s+)(momento_\w+)", HEADER.read_text())}
    for n in sorted(used & deprecated):
        problems.append(f"go: C.{n} is deprecated in auth.h; use its new name")
    for n in sorted(used - known):
        if not n.startswith("momento_go_"):  # the package's own C helpers (preamble)
            problems.append(f"go: C.{n} is not in auth.h")
    return problems


def check_rust(header: Path) -> list[str]:
    sys_dir = ROOT / "bindings" / "rust" / "momento-auth-sys"
    committed = sys_dir / "src" / "bindings.rs"
    gen = sys_dir / "generate.sh"
    bindgen = os.environ.get("BINDGEN") or shutil.which("bindgen") or str(Path.home() / ".cargo/bin/bindgen")
    if not Path(bindgen).exists() and not shutil.which(bindgen):
        return ["rust: bindgen not found (scripts/setup installs bindgen-cli)"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bindings.rs"
        r = subprocess.run([str(gen), str(header), str(out)], env={**os.environ, "BINDGEN": bindgen},
                           capture_output=True, text=True)
        if r.returncode != 0:
            return [f"rust: generate.sh failed: {r.stderr.strip()}"]
        if out.read_text() != committed.read_text():
            diff = subprocess.run(["diff", "-u", str(committed), str(out)], capture_output=True, text=True).stdout
            return ["rust: src/bindings.rs differs from bindgen's output for auth.h "
                    "(run bindings/rust/momento-auth-sys/generate.sh):\n" + diff[:4000]]
    return []


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--header", type=Path, default=HEADER)
    ap.add_argument("which", nargs="*", default=["node", "go", "rust"])
    args = ap.parse_args()
    funcs, callbacks, consts, deprecated = parse_header(args.header)
    problems = []
    for w in args.which:
        if w == "node":
            problems += check_node(funcs, callbacks, consts, deprecated)
        elif w == "go":
            problems += check_go(funcs, callbacks, consts, deprecated)
        elif w == "rust":
            problems += check_rust(args.header)
        else:
            ap.error(f"unknown binding {w}")
    for p in problems:
        print(p)
    print(f"drift check ({', '.join(args.which)}): {len(problems)} problem(s) against {args.header.name}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
