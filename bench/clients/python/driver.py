"""bench/run's driver for Python: our package (`python`) or Momento's official SDK
(`python_sdk`). The request line on stdin, then batches on request (bench/clients/README.md).
Exit code 77 = this contender does not have the call, or is not installed."""
from __future__ import annotations

import json
import resource
import sys
import threading
import time

VERSION = ""


def skip(why: str) -> None:
    print(json.dumps({"skip": why}))
    sys.exit(77)


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def cpu_s() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def batch(n: int, threads: int, parse: bool, op, args: tuple) -> dict:
    """n calls of op(*args): one thread records each call's latency; several threads share the
    calls and only the totals count."""
    lat: list[int] = []
    c0, t0 = cpu_s(), time.perf_counter()
    if threads > 1:
        it = iter(range(n))
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    if next(it, None) is None:
                        return
                op(*args)

        ts = [threading.Thread(target=work) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    elif parse:
        for _ in range(n):
            op(*args)
    else:
        clock = time.perf_counter_ns
        for _ in range(n):
            a = clock()
            op(*args)
            lat.append(clock() - a)
    out = {"n": n, "threads": threads, "wall_s": time.perf_counter() - t0, "cpu_s": cpu_s() - c0,
           "rss_kib": rss_kib()}
    if lat:
        out["lat_ns"] = lat
    return out


def emit(out: dict) -> None:
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


def serve(req: dict, op, *args) -> None:
    """Warms up, says it is ready, then answers each line of stdin (a count) with one batch of
    op(*args). The method itself, not a lambda around it: each call pays what an application's
    call statement pays, and no extra Python frame (the C++ drivers' lambdas compile away)."""
    threads, parse = req.get("threads", 1), req["call"].startswith("parse")
    for _ in range(req.get("warmup", 0)):
        op(*args)
    emit({"ready": True, "version": VERSION})
    for line in sys.stdin:
        if line.strip():
            emit(batch(int(line), threads, parse, op, args))


def ours(req: dict) -> None:
    import momento_auth as ma

    call = req["call"]
    CP = ma.CredentialProvider
    if call == "parse_v1":
        return serve(req, CP.from_string, req["v1"])
    if call == "parse_v2":
        return serve(req, CP.from_api_key_v2, req["v2_key"], req["v2_endpoint"])
    if call == "parse_disposable":
        return serve(req, CP.from_disposable_token, req["disposable"])
    key = req["refresh_envelope"] if call == "refresh" else req["super_envelope"]
    with ma.AuthClient(CP.from_string(key, endpoint=req["address"], secure=False)) as client:
        if call == "refresh":
            rt = req["refresh_token"]
            return serve(req, client.refresh_api_key, rt)
        if call == "generate":
            lifetime = ma.ExpiresIn.hours(1)
            return serve(req, client.generate_api_key, ma.AllDataReadWrite, lifetime)
        scope = ma.DisposableTokenScopes.cache_key_read_write(req["cache"], "k")
        lifetime = ma.ExpiresIn.minutes(5)
        return serve(req, client.generate_disposable_token, scope, lifetime)


def official(req: dict) -> None:
    try:
        import dataclasses

        from momento import AuthClient, CredentialProvider
        from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes
        from momento.config.auth_configurations import AuthConfigurations
        from momento.responses import GenerateDisposableToken
        from momento.utilities import ExpiresIn
    except ImportError as e:
        skip(f"the momento package is not installed (scripts/setup installs it): {e}")
    call = req["call"]
    if call == "parse_v1":
        return serve(req, CredentialProvider.from_string, req["v1"])
    if call == "parse_v2":
        return serve(req, CredentialProvider.from_api_key_v2, req["v2_key"], req["v2_endpoint"])
    if call == "parse_disposable":
        return serve(req, CredentialProvider.from_disposable_token, req["disposable"])
    if call != "disposable":
        skip(f"the official Python SDK has no {call} call")
    host, port = req["address"].rsplit(":", 1)
    p = dataclasses.replace(CredentialProvider.from_string(req["super_envelope"]), control_endpoint=host,
                            cache_endpoint=host, token_endpoint=host, port=int(port))
    client = AuthClient(AuthConfigurations.Laptop.latest(), p)
    scope = DisposableTokenScopes.cache_key_read_write(req["cache"], "k")
    lifetime = ExpiresIn.minutes(5)

    def op() -> None:
        r = client.generate_disposable_token(scope, lifetime)
        if not isinstance(r, GenerateDisposableToken.Success):
            raise SystemExit(f"disposable: {r!r}")

    try:
        return serve(req, op)
    finally:
        client.close()


def main() -> None:
    global VERSION
    req = json.loads(sys.stdin.readline())
    which = sys.argv[1]
    from importlib import metadata

    try:
        VERSION = metadata.version("momento" if which == "python_sdk" else "momento-auth")
    except metadata.PackageNotFoundError:
        VERSION = "build tree"
    if which == "python":
        ours(req)
    else:
        official(req)


if __name__ == "__main__":
    main()
