#!/usr/bin/env python3
"""The complete programs shown in the docs compile against the public headers as they are.

usage: compile_examples.py ROOT CC CXX
Every fenced ```c or ```cpp block in docs/*.md that defines main() is compiled with -fsyntax-only
(C99 / C++17, -Wall -Wextra -Werror) against capi/include only: a guide cannot show a function,
type or argument order that the headers do not have.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile


def main():
    root, cc, cxx = sys.argv[1:4]
    include = os.path.join(root, "capi", "include")
    failures, count = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for doc in sorted(glob.glob(os.path.join(root, "docs", "*.md"))):
            text = open(doc, encoding="utf-8").read()
            for n, (lang, code) in enumerate(re.findall(r"```(c|cpp)\n(.*?)```", text, re.S)):
                if not re.search(r"\bint main\s*\(", code):
                    continue
                count += 1
                src = os.path.join(tmp, f"{os.path.basename(doc)}.{n}.{lang}")
                open(src, "w").write(code)
                cmd = ([cc, "-std=c99", "-pedantic"] if lang == "c" else [cxx, "-std=c++17"]) + [
                    "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I", include, src]
                run = subprocess.run(cmd, capture_output=True, text=True)
                name = f"{os.path.relpath(doc, root)} example {n} ({lang})"
                if run.returncode:
                    failures += 1
                    print(f"FAIL {name}\n{run.stderr}")
                else:
                    print(f"ok   {name}")
    print(f"{count} examples, {failures} failed")
    return 1 if failures or not count else 0


if __name__ == "__main__":
    sys.exit(main())
