#!/usr/bin/env python3
"""Docs as contracts: docs/wire.md agrees with core/proto, every citation and link resolves.

Checks, each failure printed with its file:
  1. every message, field number, type and oneof that docs/wire.md tabulates is what
     core/proto/*.proto declares, every declared field is in the tables, and so is every enum value;
  2. every `docs/wire.md §N` (or "section N") cited anywhere names a heading of docs/wire.md;
  3. no file cites a contract or design document that is not in the repository;
  4. every C API name (`momento_...`) the Markdown files show is declared in auth.h or auth.hpp
     (or is a CMake target);
  5. relative Markdown links in the repository's .md files lead to something that exists, and so
     do repository paths they name in backticks (`core/src/scope/`, `bench/server/run.sh`).
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
WIRE = os.path.join(ROOT, "docs", "wire.md")
errors = []


def fail(where, msg):
    errors.append(f"{where}: {msg}")


def repo_files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard"],
                             capture_output=True, text=True, check=True).stdout
        return [f for f in out.splitlines() if os.path.isfile(os.path.join(ROOT, f))]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", "build", "node_modules", "target", "__pycache__"}
        found = []
        for d, dirs, files in os.walk(ROOT):
            dirs[:] = [x for x in dirs if x not in skip]
            found += [os.path.relpath(os.path.join(d, f), ROOT) for f in files]
        return found


# --- 1. the proto files -------------------------------------------------------------------------
def parse_protos():
    """{message full name: {field: (number, type, repeated, oneof)}}, {enum name: {value: number}}."""
    messages, enums = {}, {}
    for name in sorted(os.listdir(os.path.join(ROOT, "core", "proto"))):
        if not name.endswith(".proto"):
            continue
        text = open(os.path.join(ROOT, "core", "proto", name)).read()
        text = re.sub(r"//[^\n]*", "", text)
        text = re.sub(r"\brpc\b[^;{]*(\{\s*\}|;)", "", text)
        package = re.search(r"^\s*package\s+([\w.]+)\s*;", text, re.M).group(1)
        stack = []  # (kind, name)
        for tok in re.finditer(r"(message|enum|oneof|service)\s+(\w+)\s*\{|\}|([^{};]+);", text):
            kind, ident, stmt = tok.group(1), tok.group(2), tok.group(3)
            if kind:
                stack.append((kind, ident))
                path = [n for k, n in stack if k in ("message", "enum")]
                if kind == "message":
                    messages[package + "." + ".".join(path)] = {}
                elif kind == "enum":
                    enums[".".join(path)] = {}
            elif tok.group(0) == "}":
                stack.pop()
            elif stack and stack[-1][0] in ("message", "oneof", "enum"):
                owner = [n for k, n in stack if k in ("message", "enum")]
                s = " ".join(stmt.split())
                if stack[-1][0] == "enum":
                    m = re.fullmatch(r"(\w+)\s*=\s*(\d+)", s)
                    if m:
                        enums[".".join(owner)][m.group(1)] = int(m.group(2))
                    continue
                m = re.fullmatch(r"(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)", s)
                if m:
                    oneof = stack[-1][1] if stack[-1][0] == "oneof" else None
                    messages[package + "." + ".".join(owner)][m.group(3)] = (
                        int(m.group(4)), m.group(2).split(".")[-1], bool(m.group(1)), oneof)
    return messages, enums


def resolve(name, messages):
    hits = [full for full in messages if full == name or full.endswith("." + name)]
    return hits[0] if len(hits) == 1 else None


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def ticked(cell):
    m = re.match(r"`([\w.]+)`", cell)
    return m.group(1) if m else None


def check_wire_tables(messages, enums):
    lines = open(WIRE).read().splitlines()
    documented = {}  # full message name -> set of fields
    last_names = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("|"):
            # A table without a Message column belongs to the names that open the line before it.
            lead = re.match(r"(`[\w.]+`(\s*(and|,)\s*)?)+", line)
            if lead:
                last_names = re.findall(r"`([\w.]+)`", lead.group(0))
            i += 1
            continue
        header = cells(line)
        rows = []
        i += 2
        while i < len(lines) and lines[i].startswith("|"):
            rows.append(cells(lines[i]))
            i += 1
        if "#" not in header:
            continue
        num_col = header.index("#")
        field_col, type_col = num_col - 1, num_col + 1
        oneof_col = header.index("Oneof") if "Oneof" in header else None
        has_msg_col = header[0] in ("Message", "Nested message")
        current = None
        for row in rows:
            if has_msg_col and row[0]:
                current = [row[0].strip("`")]
            targets = current if has_msg_col else last_names
            field = ticked(row[field_col])
            if not field:
                continue  # "none": an empty message
            for target in targets or []:
                full = resolve(target, messages)
                if not full:
                    fail("docs/wire.md", f"message {target} is not declared in core/proto")
                    continue
                documented.setdefault(full, set()).add(field)
                declared = messages[full].get(field)
                if not declared:
                    fail("docs/wire.md", f"{target}.{field} is not declared in core/proto")
                    continue
                number, ftype, repeated, oneof = declared
                if row[num_col] != str(number):
                    fail("docs/wire.md", f"{target}.{field} is #{row[num_col]}, core/proto says {number}")
                tcell = row[type_col].strip("`").split("`")[0]
                if tcell.replace("repeated ", "").split(".")[-1] != ftype or tcell.startswith("repeated") != repeated:
                    fail("docs/wire.md", f"{target}.{field} has type {tcell}, core/proto says {ftype}")
                if oneof_col is not None:
                    doc_oneof = row[oneof_col].strip("`")
                    if (doc_oneof if doc_oneof != "—" else None) != oneof:
                        fail("docs/wire.md", f"{target}.{field} oneof {doc_oneof}, core/proto says {oneof}")
    for full, fields in messages.items():
        for f in fields:
            if f not in documented.get(full, set()):
                fail("docs/wire.md", f"{full}.{f} (core/proto) is missing from the tables")
    text = open(WIRE).read()
    for enum, values in enums.items():
        for value, number in values.items():
            if not re.search(rf"`{value}`\s*(=\s*)?{number}\b", text):
                fail("docs/wire.md", f"enum {enum} value {value} = {number} is not stated")


# --- 2 to 4: citations and links ---------------------------------------------------------------
def anchors():
    found = set()
    for line in open(WIRE):
        m = re.match(r"#+\s+§([\d.]+)", line)
        if m:
            found.add(m.group(1))
        if re.match(r"#+\s+Appendix A", line):
            found.add("A")
    return found


def check_citations(files):
    known = anchors()
    cite = re.compile(r"docs/wire\.md,?\s*(?:§\s*|sections?\s+|)(\d+(?:\.\d+)*)(?:\s+and\s+(\d+(?:\.\d+)*))?")
    outside = re.compile(r"\b(WIRE\.md|DESIGN\.md|spec/WIRE|/work/shared)")
    for f in files:
        if f.startswith(("tests/docs/",)) or not re.search(r"\.(c|h|cc|cpp|hpp|py|js|go|rs|md|txt|cmake|json|toml|sh|ts)$|CMakeLists\.txt$|^scripts/", f):
            continue
        try:
            text = open(os.path.join(ROOT, f), encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        for m in cite.finditer(text):
            for sec in filter(None, m.groups()):
                if sec.rstrip(".") not in known:
                    fail(f, f"cites docs/wire.md §{sec}, which has no such section")
        for m in outside.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            fail(f"{f}:{line}", f"cites {m.group(1)}, which is not in the repository")


TOP = ("core", "capi", "server", "cli", "bindings", "tests", "bench", "docs", "scripts", "spec",
       "packaging", ".ci")


def check_links(files):
    link = re.compile(r"\[[^\]]+\]\(([^)#\s]+)")
    named = re.compile(r"`((?:%s)/[\w./-]*)`" % "|".join(re.escape(t) for t in TOP))
    for f in files:
        if not f.endswith(".md"):
            continue
        text = open(os.path.join(ROOT, f), encoding="utf-8").read()
        for m in link.finditer(text):
            target = m.group(1)
            if re.match(r"[a-z]+:", target):
                continue
            if not os.path.exists(os.path.join(ROOT, os.path.dirname(f), target)):
                fail(f, f"link to {target} leads nowhere")
        for m in named.finditer(text):
            path = m.group(1)
            if "*" in path or not os.path.exists(os.path.join(ROOT, path)):
                if not glob.glob(os.path.join(ROOT, path)):
                    fail(f, f"names {path}, which does not exist")


def check_c_names(files):
    headers = ""
    for h in ("auth.h", "auth.hpp"):
        path = os.path.join(ROOT, "capi", "include", "momento", h)
        if os.path.exists(path):
            headers += open(path, encoding="utf-8").read()
    known = set(re.findall(r"\bmomento_\w+", headers))
    for f in files:
        if f.endswith("CMakeLists.txt"):
            text = open(os.path.join(ROOT, f), encoding="utf-8").read()
            known |= set(re.findall(r"(?:add_(?:executable|library|custom_target)|pybind11_add_module)\(\s*(momento_\w+)", text))
    # Deprecated aliases: declared after MOMENTO_DEPRECATED; only the ABI policy and the
    # changelog may name them, every other page teaches the new names.
    deprecated = set(re.findall(r"MOMENTO_DEPRECATED[^;(]*?\b(momento_\w+)\s*\(", headers))
    history = ("docs/abi-policy.md", "CHANGELOG.md")
    used = re.compile(r"`(momento_\w+)(?:\(\))?`|\b(momento_\w+)\(")
    for f in files:
        # The guides and project files; benchmark diaries may name binaries of their time.
        if not f.endswith(".md") or ("/" in f and not f.startswith("docs/")):
            continue
        text = open(os.path.join(ROOT, f), encoding="utf-8").read()
        for m in used.finditer(text):
            name = m.group(1) or m.group(2)
            if name not in known and not name.endswith("_"):
                fail(f, f"shows {name}, which auth.h does not declare")
            elif name in deprecated and f not in history:
                fail(f, f"teaches {name}, a deprecated name (docs/abi-policy.md)")


def main():
    messages, enums = parse_protos()
    if not messages:
        fail("core/proto", "no messages found")
    check_wire_tables(messages, enums)
    files = repo_files()
    check_citations(files)
    check_c_names(files)
    check_links(files)
    for e in errors:
        print(e)
    print(f"{len(errors)} problem(s); {len(messages)} messages, "
          f"{sum(len(v) for v in messages.values())} fields checked against docs/wire.md")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
