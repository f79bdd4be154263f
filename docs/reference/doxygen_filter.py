#!/usr/bin/env python3
"""Doxygen input filter: reads auth.h and auth.hpp as they are written and hands Doxygen the same
text with its plain comments marked as documentation, so the headers stay plain C/C++ comments
and the reference is still generated from them.

auth.h:   the opening comment becomes the file's page; each `/* ---- */` banner starts a module
          (its first comment is the module's title and text); other comments document the
          declaration after them, trailing ones the member before them.
auth.hpp: the same with `//` comments and `// ---- name ----` banners.
"""
import re
import sys


def comment_text(block):
    """The text of a /* ... */ comment given as lines, without the comment markers."""
    text = "\n".join(block)
    text = re.sub(r"^\s*/\*\s?", "", text)
    text = re.sub(r"\s*\*/\s*$", "", text)
    return "\n".join(re.sub(r"^\s*\*\s?", "", l) for l in text.split("\n")).strip()


def escape_angles(line):
    """`<base>` in a comment is text, not an HTML tag: escape it for Doxygen."""
    m = re.search(r"/\*\*?<?|//+<?", line)
    if m:
        start = m.end()
    elif re.match(r"\s*\*", line):
        start = 0
    else:
        return line
    return line[:start] + re.sub(r"<([A-Za-z][\w .:/-]*)>", r"\\<\1\\>", line[start:])


def mark_deprecated(out):
    """A declaration marked MOMENTO_DEPRECATED gets @deprecated in the comment above it."""
    for k, line in enumerate(out):
        if "MOMENTO_DEPRECATED" in line and not line.lstrip().startswith("#"):
            for c in range(k - 1, max(k - 4, -1), -1):
                if out[c].lstrip().startswith("/**"):
                    out[c] = out[c].replace("/**", "/** @deprecated", 1)
                    break
    return out


def filter_c(lines):
    out, i, modules, seen_first = [], 0, 0, False
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if re.fullmatch(r"/\* -{10,} \*/", stripped):
            # A banner: the comment after it names and describes the module.
            j = i + 1
            while "*/" not in lines[j]:
                j += 1
            text = comment_text(lines[i + 1:j + 1])
            plain = re.sub(r"\s*\([^)]*\)", "", text)
            m = re.match(r"(.+?)[.:](\s|$)", plain, re.S)
            title = " ".join((m.group(1) if m else plain).split())
            if modules:
                out.append("/** @} */")
            modules += 1
            out.append(f"/** @defgroup module{modules} {title}")
            out.extend(" * " + l for l in text.split("\n"))
            out.append(" * @{ */")
            i = j + 1
            continue
        if not seen_first and stripped.startswith("/*"):
            seen_first = True
            out.append(line.replace("/*", "/** @file", 1))
        elif stripped.startswith("#ifdef __cplusplus") and i > len(lines) - 10 and modules:
            out += ["/** @} */", line]
            modules = 0
        else:
            # A comment of its own documents what follows; a trailing one, the member before it.
            line = re.sub(r"^(\s*)/\*(?![*!])", r"\1/**", line)
            line = re.sub(r"(\S.*?)\s/\*(?![*!<])(.*\*/)\s*$", r"\1 /**<\2", line)
            out.append(line)
        i += 1
    return mark_deprecated([escape_angles(l) for l in out])


def filter_cpp(lines):
    out, seen_first = [], False
    for line in lines:
        stripped = line.strip()
        if re.fullmatch(r"// -{2,} .* -{2,}", stripped):
            out.append("")
            continue
        if not seen_first and stripped.startswith("//"):
            seen_first = True
            out.append(line.replace("//", "/// @file", 1))
            continue
        if seen_first and stripped.startswith("//") and not stripped.startswith("///"):
            line = line.replace("//", "///", 1)
        elif re.search(r"\S.*;\s*//\s", line):
            line = re.sub(r";\s*//(?!/)", "; ///<", line, count=1)
        out.append(escape_angles(line))
    return out


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = filter_c(lines) if path.endswith(".h") else filter_cpp(lines) if path.endswith(".hpp") else lines
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
