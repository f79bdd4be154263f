"""For the suite's final secret scan (tests/hygiene/scan_logs.py): with MOMENTO_TEST_LOG_DIR set
(scripts/test sets it), a test server's logs go there, and its database and signing keys under
known/ so that the scan can recognise the refresh tokens and signing keys it issued."""
import os
import shutil


def keep_for_scan(data_dir, logs=()):
    out = os.environ.get("MOMENTO_TEST_LOG_DIR")
    if not out or not os.path.isdir(data_dir):
        return
    name = "server-py-%d-%s" % (os.getpid(), os.path.basename(os.path.normpath(data_dir)))
    for i, log in enumerate(logs):
        if os.path.isfile(log):
            shutil.copyfile(log, os.path.join(out, "%s-%d.log" % (name, i)))
    known = os.path.join(out, "known", name)
    for root, _, files in os.walk(data_dir):
        for f in files:
            if f in ("state.db", "state.db-wal", "signing-keys.json"):
                dest = os.path.join(known, os.path.relpath(root, data_dir))
                os.makedirs(dest, exist_ok=True)
                shutil.copyfile(os.path.join(root, f), os.path.join(dest, f))
