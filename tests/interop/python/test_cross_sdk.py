"""Keys minted through one client work from the others: the Node.js SDK, the Go SDK, the Python
SDK and our CLI (momento-auth) against one momento-auth-server.

The Node and Go SDKs are driven through small one-call programs (tests/interop/node/sdk_tool.js,
tests/interop/go/cmd/sdktool) that print one JSON object; the Python SDK is called in-process; the
CLI through its documented options."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import cache_client, decode_envelope, unique
from momento.responses import CacheGet, CacheSet

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CALL_TIMEOUT_S = 60


def _need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (ctest sets it)")
    return value


def _tool(argv: list[str], op: str, server, key_file: Path, **kw) -> dict:
    args = argv + [op, "--addr", server.addr, "--key-file", str(key_file)]
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=CALL_TIMEOUT_S)
    assert p.returncode == 0, f"{args[:2]} {op} failed ({p.returncode}): {p.stderr}"
    lines = [ln for ln in p.stdout.splitlines() if ln.strip().startswith("{")]
    assert lines, f"{op}: no JSON answer; stdout={p.stdout!r} stderr={p.stderr!r}"
    return json.loads(lines[-1])


def node_tool(op: str, server, key_file: Path, **kw) -> dict:
    return _tool([_need("MOMENTO_NODE"), _need("MOMENTO_NODE_TOOL")], op, server, key_file, **kw)


def go_tool(op: str, server, key_file: Path, **kw) -> dict:
    return _tool([_need("MOMENTO_GO_TOOL")], op, server, key_file, **kw)


def cli(server, *args: str) -> subprocess.CompletedProcess:
    argv = [_need("MOMENTO_CLI_BIN"), "--endpoint", server.addr, "--insecure", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=CALL_TIMEOUT_S)


def write_token_file(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return path


def assert_token_file(data: dict, refreshable: bool) -> None:
    assert "error" not in data, data
    env = decode_envelope(data["authToken"])
    assert env["endpoint"] and env["api_key"], "authToken is not a v1 envelope"
    if refreshable:
        assert data["refreshToken"], "expiring key without a refresh token"
        assert int(data["validUntil"]) > 0


# --- one "use the key" operation per client: set then get, returning the value seen -------------


def use_node(server, key_file: Path, cache: str, item: str, value: str) -> None:
    r = node_tool("set", server, key_file, cache=cache, item=item, value=value)
    assert r.get("ok"), r
    r = node_tool("get", server, key_file, cache=cache, item=item)
    assert r.get("hit") and r["value"] == value, r


def use_go(server, key_file: Path, cache: str, item: str, value: str) -> None:
    r = go_tool("set", server, key_file, cache=cache, item=item, value=value)
    assert r.get("ok"), r
    r = go_tool("get", server, key_file, cache=cache, item=item)
    assert r.get("hit") and r["value"] == value, r


def use_python(server, key_file: Path, cache: str, item: str, value: str) -> None:
    key = json.loads(key_file.read_text())["authToken"]
    with cache_client(key, server) as c:
        s = c.set(cache, item, value)
        assert isinstance(s, CacheSet.Success), repr(s)
        g = c.get(cache, item)
        assert isinstance(g, CacheGet.Hit), repr(g)
        assert g.value_string == value


def use_cli(server, key_file: Path, cache: str, item: str, value: str) -> None:
    p = cli(server, "--key-file", str(key_file), "cache", "set", "--cache", cache, item, value)
    assert p.returncode == 0, p.stderr
    p = cli(server, "--key-file", str(key_file), "--json", "cache", "get", "--cache", cache, item)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["hit"] is True and out["value"] == value, out


USERS = {"node": use_node, "go": use_go, "python": use_python, "cli": use_cli}


# --- one "mint an expiring AllDataReadWrite key" per client that exposes it ----------------------


def mint_node(server, tmp: Path) -> Path:
    data = node_tool("generate", server, server.bootstrap_file, scope="all-data-rw", ttl=3600)
    assert_token_file(data, refreshable=True)
    return write_token_file(tmp / "node-key.json", data)


def mint_go(server, tmp: Path) -> Path:
    data = go_tool("generate", server, server.bootstrap_file, scope="all-data-rw", ttl=3600)
    assert_token_file(data, refreshable=True)
    return write_token_file(tmp / "go-key.json", data)


def mint_cli(server, tmp: Path) -> Path:
    out = tmp / "cli-key.json"
    p = cli(
        server,
        "--key-file",
        str(server.bootstrap_file),
        "generate",
        "--scope",
        "all-data-read-write",
        "--expires-in",
        "1h",
        "--out",
        str(out),
    )
    assert p.returncode == 0, p.stderr
    assert_token_file(json.loads(out.read_text()), refreshable=True)
    return out


MINTERS = {"node": mint_node, "go": mint_go, "cli": mint_cli}


@pytest.fixture(scope="module")
def shared_cache(server):
    name = unique("cross")
    r = go_tool("create-cache", server, server.bootstrap_file, cache=name)
    assert r.get("ok") and not r.get("alreadyExists"), r
    return name


@pytest.mark.parametrize("user", sorted(USERS))
@pytest.mark.parametrize("minter", sorted(MINTERS))
def test_api_key_minted_by_one_client_works_in_another(server, shared_cache, tmp_path, minter, user):
    key_file = MINTERS[minter](server, tmp_path)
    USERS[user](server, key_file, shared_cache, f"{minter}-to-{user}", f"value-{minter}-{user}")


def test_refresh_token_chain_across_clients(server, shared_cache, tmp_path):
    """One key family refreshed in turn by the CLI, the Go SDK and the Node SDK; every successor
    works everywhere, and every refresh rotates the refresh token."""
    f = mint_node(server, tmp_path)
    seen_refresh = {json.loads(f.read_text())["refreshToken"]}

    p = cli(server, "refresh", "--file", str(f))
    assert p.returncode == 0, p.stderr
    after_cli = json.loads(f.read_text())
    assert_token_file(after_cli, refreshable=True)
    assert after_cli["refreshToken"] not in seen_refresh
    seen_refresh.add(after_cli["refreshToken"])
    use_go(server, f, shared_cache, "chain-1", "a")

    data = go_tool("refresh", server, f)
    assert_token_file(data, refreshable=True)
    assert data["refreshToken"] not in seen_refresh
    seen_refresh.add(data["refreshToken"])
    f2 = write_token_file(tmp_path / "after-go.json", data)
    use_python(server, f2, shared_cache, "chain-2", "b")
    use_cli(server, f2, shared_cache, "chain-3", "c")

    data = node_tool("refresh", server, f2)
    assert_token_file(data, refreshable=True)
    assert data["refreshToken"] not in seen_refresh
    f3 = write_token_file(tmp_path / "after-node.json", data)
    use_node(server, f3, shared_cache, "chain-4", "d")
    use_go(server, f3, shared_cache, "chain-5", "e")

    p = cli(server, "--json", "inspect", str(f3))
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["kind"] == "v1_envelope", info
    assert info["expires"] is True and info["expired"] is False, info
    assert info["refresh_token"], info


def test_cli_inspect_reads_sdk_minted_keys(server, tmp_path):
    for name, mint in (("node", mint_node), ("go", mint_go)):
        f = mint(server, tmp_path)
        p = cli(server, "--json", "inspect", str(f))
        assert p.returncode == 0, f"{name}: {p.stderr}"
        info = json.loads(p.stdout)
        assert info["kind"] == "v1_envelope", info
        assert info["base_endpoint"] == decode_envelope(json.loads(f.read_text())["authToken"])["endpoint"]
        assert info["expires_at"] == int(json.loads(f.read_text())["validUntil"]), info
        # Secrets are redacted in the output.
        assert json.loads(f.read_text())["refreshToken"] not in p.stdout


@pytest.mark.parametrize("minter", ["node", "go", "python"])
def test_disposable_token_minted_by_one_sdk_works_in_the_others(server, shared_cache, tmp_path, minter):
    item = f"disposable-{minter}"
    if minter == "python":
        from conftest import auth_client
        from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes
        from momento.responses import GenerateDisposableToken
        from momento.utilities import ExpiresIn

        with auth_client(server.super_key, server) as a:
            r = a.generate_disposable_token(
                DisposableTokenScopes.cache_key_read_write(shared_cache, item), ExpiresIn.minutes(10)
            )
        assert isinstance(r, GenerateDisposableToken.Success), repr(r)
        data = {"authToken": r.auth_token, "refreshToken": "", "validUntil": str(r.expires_at.epoch())}
    else:
        tool = node_tool if minter == "node" else go_tool
        data = tool("disposable", server, server.bootstrap_file, cache=shared_cache, item=item, ttl=600)
        assert_token_file(data, refreshable=False)
    f = write_token_file(tmp_path / "disposable.json", data)

    for name, use in USERS.items():
        use(server, f, shared_cache, item, f"v-{minter}-{name}")
    # Outside its one key, every client sees a permission error.
    for tool in (node_tool, go_tool):
        r = tool("get", server, f, cache=shared_cache, item="not-the-key")
        assert r.get("error") == "PERMISSION_ERROR" and r.get("grpc") == 7, r
        assert "Insufficient permissions" in r.get("details", ""), r
    key = json.loads(f.read_text())["authToken"]
    with cache_client(key, server) as c:
        g = c.get(shared_cache, "not-the-key")
        assert isinstance(g, CacheGet.Error), repr(g)
        assert g.error_code.name == "PERMISSION_ERROR"
    p = cli(server, "--key-file", str(f), "cache", "get", "--cache", shared_cache, "not-the-key")
    assert p.returncode == 4, (p.returncode, p.stderr)
    assert "PERMISSION_ERROR" in p.stderr


def test_read_only_key_from_node_is_enforced_for_go_python_and_cli(server, shared_cache, tmp_path):
    data = node_tool("generate", server, server.bootstrap_file, scope=f"cache-ro:{shared_cache}", ttl=3600)
    assert_token_file(data, refreshable=True)
    f = write_token_file(tmp_path / "ro.json", data)
    r = go_tool("set", server, f, cache=shared_cache, item="ro", value="x")
    assert r.get("error") == "PERMISSION_ERROR" and r.get("grpc") == 7, r
    r = go_tool("get", server, f, cache=shared_cache, item="ro")
    assert r.get("ok"), r
    with cache_client(data["authToken"], server) as c:
        s = c.set(shared_cache, "ro", "x")
        assert isinstance(s, CacheSet.Error) and s.error_code.name == "PERMISSION_ERROR", repr(s)
    p = cli(server, "--key-file", str(f), "cache", "set", "--cache", shared_cache, "ro", "x")
    assert p.returncode == 4 and "PERMISSION_ERROR" in p.stderr, (p.returncode, p.stderr)


def test_unknown_and_mismatched_credentials_fail_authentication_everywhere(server, shared_cache, tmp_path):
    f = mint_go(server, tmp_path)
    data = json.loads(f.read_text())
    # The refresh token of one key does not refresh another key.
    other = mint_node(server, tmp_path)
    swapped = dict(json.loads(other.read_text()), refreshToken=data["refreshToken"])
    g = write_token_file(tmp_path / "swapped.json", swapped)
    for tool in (node_tool, go_tool):
        r = tool("refresh", server, g)
        assert r.get("error") == "AUTHENTICATION_ERROR" and r.get("grpc") == 16, r
    p = cli(server, "refresh", "--file", str(g))
    assert p.returncode == 4 and "AUTHENTICATION_ERROR" in p.stderr, (p.returncode, p.stderr)
