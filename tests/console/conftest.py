"""Fixtures for the web console suite: a real momento-auth-server with --console on loopback,
and Debian's chromium driven through chromedriver by Selenium, headless, in a fresh profile.

Screenshots go to MOMENTO_CONSOLE_SCREENSHOTS (docs/images to refresh the documentation's) or,
when unset, to a folder in the build tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TIME_ZONE = "Pacific/Auckland"  # far from UTC, so a date shown in UTC would be caught
WAIT = 10  # seconds any single page change may take


def binary(var: str) -> str:
    path = os.environ.get(var, "")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{var} must name an executable (got {path!r})")
    return path


@dataclass
class ConsoleServer:
    proc: subprocess.Popen
    address: str  # gRPC host:port
    link: str  # the one-time sign-in link
    base: str  # http://127.0.0.1:PORT/
    workdir: Path
    log: Path
    secrets: List[str] = field(default_factory=list)  # seen by the tests; never in the log

    @property
    def origin(self) -> str:
        return self.base.rstrip("/")

    @property
    def bootstrap(self) -> Path:
        return self.workdir / "superuser.json"

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(
            [binary("MOMENTO_CLI_BIN"), "--endpoint", self.address, "--insecure", *args],
            capture_output=True, text=True, timeout=timeout, cwd=self.workdir)

    def stop(self) -> None:
        """SIGTERM stops the server and its console cleanly, in bounded time."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            if self.proc.stdout:
                self.proc.stdout.close()
        assert code == 0, f"the server exited with {code} on SIGTERM"


def start_console(workdir: Path, extra: Optional[List[str]] = None) -> ConsoleServer:
    log = workdir / "server.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [binary("MOMENTO_SERVER_BIN"), "--listen", "127.0.0.1:0", "--data-dir",
             str(workdir / "data"), "--bootstrap", str(workdir / "superuser.json"),
             "--provider", "aws", "--region", "us-west-2", "--console", "127.0.0.1:0"]
            + (extra or []),
            stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    second = proc.stdout.readline().strip()
    if not first.startswith("listening on ") or not second.startswith("console: "):
        proc.kill()
        pytest.fail(f"unexpected start-up lines {first!r} {second!r}: {log.read_text()}")
    link = second[len("console: "):]
    base = link.split("#", 1)[0]
    return ConsoleServer(proc, first[len("listening on "):], link, base, workdir, log)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="momento-console-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[ConsoleServer]:
    s = start_console(workdir)
    yield s
    s.stop()
    # Nothing secret reaches the log: not the sign-in code, not a key, not a refresh token.
    text = s.log.read_text()
    for secret in [s.link.split("#code=", 1)[1], *s.secrets]:
        assert secret and secret not in text, "a secret reached the server log"


def screenshot_dir() -> Path:
    d = Path(os.environ.get("MOMENTO_CONSOLE_SCREENSHOTS") or Path.cwd() / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def browser(workdir: Path, server: ConsoleServer):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = workdir / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-extensions",
                "--window-size=1200,1000", "--lang=en-US",
                f"--user-data-dir={workdir / 'profile'}"]:
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER, log_output=str(workdir / "chromedriver.log")))
    try:
        driver.set_page_load_timeout(WAIT * 2)
        driver.set_script_timeout(WAIT)
        driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": server.origin,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": TIME_ZONE})
        driver.downloads = downloads
        yield driver
    finally:
        driver.quit()


def wait_for(predicate, what: str, timeout: float = WAIT):
    """Polls until predicate() is truthy; an element the page re-rendered meanwhile is retried."""
    from selenium.common.exceptions import StaleElementReferenceException
    end = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except StaleElementReferenceException:
            value = None
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
