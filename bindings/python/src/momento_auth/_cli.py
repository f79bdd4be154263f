"""The `momento-auth` command of a pip installation (the console script in pyproject.toml).

The wheel carries the project's command-line tool, built from cli/ against the same
libmomento_auth.so.1 as the extension, in momento_auth/bin; this entry point replaces the Python
process with it, so signals, exit codes and standard streams are the tool's own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    exe = Path(__file__).resolve().parent / "bin" / "momento-auth"
    if not os.access(exe, os.X_OK):
        sys.exit(f"momento-auth: this installation of momento_auth has no command-line tool "
                 f"({exe} is missing); the wheels carry it")
    os.execv(exe, ["momento-auth", *sys.argv[1:]])


if __name__ == "__main__":
    main()
