"""bench/run's driver for Python: our package (`python`) or Momento's official SDK
(`python_sdk`). Request JSON on stdin, one JSON line out (bench/clients/README.md).
Exit code 77 = this contender does not have the call, or is not installed."""
from __future__ import annotations

import json
import resource
import sys
import threading
import time


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


def measure(req: dict, op) -> dict:
    n, threads = req["n"], req.get("threads", 1)
    for _ in range(req.get("warmup", 0)):
        op()
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
                op()

        ts = [threading.Thread(target=work) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    elif req["call"].startswith("parse"):
        for _ in range(n):
            op()
    else:
        clock = time.perf_counter_ns
        for _ in range(n):
            a = clock()
            op()
            lat.append(clock() - a)
    out = {"n": n, "threads": threads, "wall_s": time.perf_counter() - t0, "cpu_s": cpu_s() - c0,
           "rss_kib": rss_kib()}
    if lat:
        out["lat_ns"] = lat
    return out


def ours(req: dict) -> dict:
    import momento_auth as ma

    call = req["call"]
    CP = ma.CredentialProvider
    if call == "parse_v1":
        return measure(req, lambda: CP.from_string(req["v1"]))
    if call == "parse_v2":
        return measure(req, lambda: CP.from_api_key_v2(req["v2_key"], req["v2_endpoint"]))
    if call == "parse_disposable":
        return measure(req, lambda: CP.from_disposable_token(req["disposable"]))
    key = req["refresh_envelope"] if call == "refresh" else req["super_envelope"]
    with ma.AuthClient(CP.from_string(key, endpoint=req["address"], secure=False)) as client:
        if call == "refresh":
            rt = req["refresh_token"]
            return measure(req, lambda: client.refresh_api_key(rt))
        if call == "generate":
            lifetime = ma.ExpiresIn.hours(1)
            return measure(req, lambda: client.generate_api_key(ma.AllDataReadWrite, lifetime))
        scope = ma.DisposableTokenScopes.cache_key_read_write(req["cache"], "k")
        lifetime = ma.ExpiresIn.minutes(5)
        return measure(req, lambda: client.generate_disposable_token(scope, lifetime))


def official(req: dict) -> dict:
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
        return measure(req, lambda: CredentialProvider.from_string(req["v1"]))
    if call == "parse_v2":
        return measure(req, lambda: CredentialProvider.from_api_key_v2(req["v2_key"], req["v2_endpoint"]))
    if call == "parse_disposable":
        return measure(req, lambda: CredentialProvider.from_disposable_token(req["disposable"]))
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
        return measure(req, op)
    finally:
        client.close()


def main() -> None:
    req = json.load(sys.stdin)
    which = sys.argv[1]
    out = ours(req) if which == "python" else official(req)
    from importlib import metadata

    try:
        out["version"] = metadata.version("momento" if which == "python_sdk" else "momento-auth")
    except metadata.PackageNotFoundError:
        out["version"] = "build tree"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
