#!/usr/bin/env python3
"""Runs momento-auth-server for a test harness that knows nothing of the suite's secret scan.

usage: MOMENTO_SERVER_REAL_BIN=SERVER server_for_scan.py [ARG...]

Without MOMENTO_TEST_LOG_DIR this is the server itself (exec). With it (scripts/test sets it),
the server still replaces this process (same pid, same signals, same stdout), but its stderr, the
call log, goes through a small watcher process that copies it to <dir>/server-for-scan-*.log and
keeps the server's state.db, its WAL and every signing-keys.json open from the moment they appear,
so that after the harness has deleted the data directory it can still write them under
<dir>/known/ for tests/hygiene/scan_logs.py to recognise this server's refresh tokens and keys.
The bindings' and interop harnesses get it as MOMENTO_SERVER_BIN (tests/bindings, tests/interop).
"""
import os
import select
import sys
import time

WATCHED = ("state.db", "state.db-wal", "signing-keys.json")


def data_dir(args):
    for i, a in enumerate(args):
        if a == "--data-dir" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--data-dir="):
            return a.split("=", 1)[1]
    return None


def hold_new_files(directory, held):
    """Opens each watched file whose inode is new; held maps (dev, ino) to (name, fd)."""
    if not directory:
        return
    for name in WATCHED:
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) in held:
            os.close(fd)
        else:
            held[(st.st_dev, st.st_ino)] = (name, fd)


def read_all(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def save(held, known):
    """Every database with the newest WAL seen, every signing-keys file, under known/."""
    dbs = [fd for name, fd in held.values() if name == "state.db"]
    wals = [fd for name, fd in held.values() if name == "state.db-wal"]
    keys = [fd for name, fd in held.values() if name == "signing-keys.json"]
    for i, fd in enumerate(dbs):
        d = os.path.join(known, "db-%d" % i)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "state.db"), "wb") as f:
            f.write(read_all(fd))
        if wals and i == len(dbs) - 1:
            with open(os.path.join(d, "state.db-wal"), "wb") as f:
                f.write(read_all(wals[-1]))
    for i, fd in enumerate(keys):
        os.makedirs(known, exist_ok=True)
        with open(os.path.join(known, "signing-keys-%d.json" % i), "wb") as f:
            f.write(read_all(fd))


def watch(pipe, directory, out, tag):
    held = {}
    start = time.monotonic()
    with open(os.path.join(out, tag + ".log"), "ab") as log:
        while True:
            hold_new_files(directory, held)
            # Often while the server starts (a short test may be over in a second), then calmly.
            ready, _, _ = select.select([pipe], [], [], 0.01 if time.monotonic() - start < 2 else 0.2)
            if not ready:
                continue
            data = os.read(pipe, 65536)
            if not data:
                break
            log.write(data)
            log.flush()
            try:
                os.write(2, data)
            except OSError:
                pass  # the harness stopped reading the server's stderr
    hold_new_files(directory, held)
    save(held, os.path.join(out, "known", tag))


def main():
    server, args = os.environ["MOMENTO_SERVER_REAL_BIN"], sys.argv[1:]
    out = os.environ.get("MOMENTO_TEST_LOG_DIR")
    if not out or not os.path.isdir(out):
        os.execv(server, [server] + args)
    directory = data_dir(args)
    # This pid becomes the server's.
    tag = "server-for-scan-%d-%s" % (os.getpid(), os.path.basename(os.path.normpath(directory or "none")))
    r, w = os.pipe()
    pid = os.fork()
    if pid:
        # The server takes this process's place; its stderr is the watcher's pipe.
        os.close(r)
        os.dup2(w, 2)
        os.close(w)
        os.execv(server, [server] + args)
    os.close(w)
    # The watcher must not keep the harness waiting on stdin/stdout, nor share its signals.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.setsid()
    watch(r, directory, out, tag)


if __name__ == "__main__":
    main()
