#!/usr/bin/env python3
"""Runs Doxygen and checks the reference: every exported C function (capi/symbols.txt) has an
entry with a description of its own (a comment in auth.h), and the reference has no entry for a
function that is not exported. Any of the three missing fails the check.

usage: check_reference.py DOXYGEN DOXYFILE XML_DIR SYMBOLS_TXT
"""
import glob
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def main():
    doxygen, doxyfile, xml_dir, symbols_txt = sys.argv[1:5]
    run = subprocess.run([doxygen, doxyfile], cwd=os.path.dirname(doxyfile),
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout, run.stderr)
        return 1
    exported = {l.strip() for l in open(symbols_txt) if l.strip() and not l.startswith("#")}
    described, listed = set(), set()
    for path in glob.glob(os.path.join(xml_dir, "*.xml")):
        root = ET.parse(path).getroot()
        for member in root.iter("memberdef"):
            if member.get("kind") != "function":
                continue
            name = member.findtext("name")
            if not name.startswith("momento_"):
                continue
            listed.add(name)
            text = "".join(member.find("briefdescription").itertext()) + \
                "".join(member.find("detaileddescription").itertext())
            if text.strip():
                described.add(name)
    missing = sorted(exported - listed)
    undocumented = sorted((exported & listed) - described)
    unexported = sorted(listed - exported)
    for name in missing:
        print(f"not in the reference: {name}")
    for name in unexported:
        print(f"in the reference but not exported (capi/symbols.txt): {name}")
    print(f"{len(exported)} exported functions, {len(listed)} in the reference, "
          f"{len(undocumented)} without a description")
    for name in undocumented:
        print(f"  no description in auth.h: {name}")
    return 1 if missing or unexported or undocumented else 0


if __name__ == "__main__":
    sys.exit(main())
