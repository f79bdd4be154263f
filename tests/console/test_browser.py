"""The console in a real browser: sign-in, the token page, copy, Download JSON, the keys page,
keyboard-only use and labels, with the downloaded keys used by the real CLI."""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import TIME_ZONE, screenshot_dir, wait_for

TZ = ZoneInfo(TIME_ZONE)


def el(driver, id_: str):
    return driver.find_element(By.ID, id_)


def visible(driver, id_: str) -> bool:
    return el(driver, id_).is_displayed()


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(screenshot_dir() / f"console-{name}.png"))


def error_text(driver) -> str:
    e = el(driver, "error")
    return e.text if e.is_displayed() else ""


def generate(driver, server, expiry: str, scope: str = "scope-all-data", date_value: str = ""):
    """Fills the token form with the mouse and returns the three fields as shown."""
    if not visible(driver, "token-page"):
        el(driver, "nav-tokens").click()
        wait_for(lambda: visible(driver, "token-page"), "the token page")
    Select(el(driver, "expiry")).select_by_value(expiry)
    if expiry == "date":
        driver.execute_script(
            "const d = arguments[0]; d.value = arguments[1]; d.dispatchEvent(new Event('change'))",
            el(driver, "expiry-date"), date_value)
    el(driver, scope).click()
    before = el(driver, "status").text
    el(driver, "generate").click()
    wait_for(lambda: error_text(driver) or (el(driver, "status").text != before
                                             and el(driver, "status").text.startswith("Generated")),
             "an answer to Generate Token")
    assert not error_text(driver), error_text(driver)
    fields = {
        "authToken": el(driver, "auth-token").text,
        "refreshToken": el(driver, "refresh-token").text,
        "validUntil": el(driver, "valid-until").text,
        "epoch": el(driver, "valid-until").get_attribute("title"),
    }
    server.secrets += [fields["authToken"]]
    if fields["refreshToken"] and not fields["refreshToken"].startswith("None"):
        server.secrets.append(fields["refreshToken"])
    return fields


def shown_date(epoch: int) -> str:
    """The calendar date of an epoch in the browser's zone, as en-US long dates read."""
    d = datetime.fromtimestamp(epoch, TZ)
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def download(driver) -> dict:
    before = set(driver.downloads.iterdir())
    el(driver, "download").click()
    path = wait_for(lambda: next((p for p in set(driver.downloads.iterdir()) - before
                                  if p.suffix == ".json"), None), "the downloaded file")
    text = wait_for(lambda: path.read_text() if path.stat().st_size else "", "the file's content")
    return {"path": path, "text": text, "json": json.loads(text)}


def test_sign_in_by_link(browser, server):
    browser.get(server.link)
    wait_for(lambda: visible(browser, "token-page"), "the token page after the sign-in link")
    assert "code" not in browser.current_url, "the one-time code stays in the address bar"
    assert browser.current_url == server.base
    cookie = browser.get_cookie("momento_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "session key" in el(browser, "who").text
    # The region select offers the server's region and names its endpoint.
    assert Select(el(browser, "provider")).first_selected_option.text == "AWS"
    assert Select(el(browser, "region")).first_selected_option.text == "us-west-2"
    assert "cell-us-west-2-1.aws.momento.localhost" in el(browser, "endpoint").text
    # The link works once.
    browser.get(server.link)
    wait_for(lambda: error_text(browser), "the used link refused")
    assert "already used" in error_text(browser)
    browser.get(server.base)  # still signed in by the cookie
    wait_for(lambda: visible(browser, "token-page"), "the token page")


@pytest.mark.parametrize("expiry,days", [("never", None), ("7", 7), ("30", 30), ("60", 60), ("90", 90)])
def test_generate_with_each_expiry(browser, server, expiry, days):
    started = int(time.time())
    f = generate(browser, server, expiry)
    assert f["authToken"] and len(f["authToken"]) > 40
    if days is None:
        assert f["validUntil"] == "Never"
        assert f["refreshToken"].startswith("None")
        return
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", f["refreshToken"])
    epoch = int(f["epoch"].split()[0])
    assert started + days * 86400 <= epoch <= int(time.time()) + days * 86400 + 1
    assert shown_date(epoch) in f["validUntil"]
    if expiry == "30":
        browser.set_window_size(1200, 1500)
        shot(browser, "token-generated")
        browser.set_window_size(1200, 1000)


def test_generate_with_a_custom_date(browser, server):
    day = datetime.now(TZ).date() + timedelta(days=10)
    f = generate(browser, server, "date", date_value=day.isoformat())
    epoch = int(f["epoch"].split()[0])
    end_of_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), TZ)
    assert epoch == int(end_of_day.timestamp())
    assert shown_date(epoch - 1) in f["validUntil"] or shown_date(epoch) in f["validUntil"]


def test_a_date_in_the_past_is_explained(browser, server):
    past = datetime.now(TZ).date() - timedelta(days=2)
    Select(el(browser, "expiry")).select_by_value("date")
    browser.execute_script(
        "const d = arguments[0]; d.value = arguments[1]; d.dispatchEvent(new Event('change'))",
        el(browser, "expiry-date"), past.isoformat())
    el(browser, "generate").click()
    wait_for(lambda: error_text(browser), "an error for a past date")
    assert "in the past" in error_text(browser)
    shot(browser, "error-past-date")
    Select(el(browser, "expiry")).select_by_value("30")


def test_copy_puts_the_fields_on_the_clipboard(browser, server):
    f = generate(browser, server, "30")
    read = "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('ERR ' + e))"
    for button, want in [("Copy Auth Token", f["authToken"]), ("Copy Refresh Token", f["refreshToken"])]:
        browser.find_element(By.CSS_SELECTOR, f'button[aria-label="{button}"]').click()
        wait_for(lambda: "copied" in el(browser, "status").text, "the copied note")
        assert browser.execute_async_script(read) == want
    browser.find_element(By.CSS_SELECTOR, 'button[aria-label="Copy Valid Until"]').click()
    assert browser.execute_async_script(read) == f["epoch"].split()[0]


def test_download_json_then_refresh_with_the_cli(browser, server):
    f = generate(browser, server, "7")
    d = download(browser)
    assert list(d["json"]) == ["authToken", "refreshToken", "validUntil"]
    assert d["json"]["authToken"] == f["authToken"]
    assert d["json"]["refreshToken"] == f["refreshToken"]
    assert d["json"]["validUntil"] == f["epoch"].split()[0]  # a decimal string, as the CLI writes
    assert d["text"] == json.dumps(d["json"], separators=(",", ":"))
    r = server.cli("refresh", "--file", str(d["path"]))
    assert r.returncode == 0, r.stderr
    refreshed = json.loads(d["path"].read_text())
    assert refreshed["authToken"] != f["authToken"]
    assert refreshed["refreshToken"] != f["refreshToken"]
    server.secrets += [refreshed["authToken"], refreshed["refreshToken"]]
    r = server.cli("--key-file", str(d["path"]), "cache", "list-caches")
    assert r.returncode == 0, r.stderr


def test_fine_grained_scope(browser, server):
    el(browser, "scope-fine").click()
    row = browser.find_element(By.CSS_SELECTOR, "#permissions li")
    Select(row.find_element(By.CLASS_NAME, "perm-role")).select_by_value("readonly")
    row.find_element(By.CLASS_NAME, "perm-cache").send_keys("orders")
    el(browser, "add-permission").click()
    second = browser.find_elements(By.CSS_SELECTOR, "#permissions li")[1]
    Select(second.find_element(By.CLASS_NAME, "perm-type")).select_by_value("topic")
    Select(second.find_element(By.CLASS_NAME, "perm-role")).select_by_value("subscribeonly")
    second.find_element(By.CLASS_NAME, "perm-topic").send_keys("news")
    el(browser, "description").send_keys("orders reader")
    shot(browser, "fine-grained")
    f = generate(browser, server, "30", scope="scope-fine")
    d = download(browser)
    assert d["json"]["authToken"] == f["authToken"]
    server.cli("--key-file", str(server.bootstrap), "cache", "create-cache", "orders")
    r = server.cli("--key-file", str(d["path"]), "cache", "get", "--cache", "orders", "k")
    assert r.returncode in (0, 1) and "PERMISSION" not in r.stderr, r.stderr  # may read
    r = server.cli("--key-file", str(d["path"]), "cache", "set", "--cache", "orders", "k", "v")
    assert r.returncode == 4, r.stderr  # may not write
    el(browser, "scope-all-data").click()
    el(browser, "description").clear()


def key_state(browser, key_id: str) -> str:
    rows = browser.find_elements(By.CSS_SELECTOR, f'tr[data-key-id="{key_id}"]')
    return rows[0].find_elements(By.TAG_NAME, "td")[5].text if rows else ""


def revoke_on_keys_page(browser, key_id: str):
    el(browser, "nav-keys").click()
    wait_for(lambda: key_state(browser, key_id) == "active", "the key's row")
    wait_for(lambda: browser.find_element(
        By.CSS_SELECTOR, f'button[aria-label="Revoke key {key_id}"]').click() or True, "Revoke")
    wait_for(lambda: visible(browser, "revoke-dialog"), "the confirmation")
    assert key_id in el(browser, "revoke-text").text
    shot(browser, "revoke-confirm")
    el(browser, "revoke-confirm").click()
    wait_for(lambda: key_state(browser, key_id) == "revoked", "the revocation")


def test_revoke_on_the_keys_page_then_the_cli_is_refused(browser, server):
    generate(browser, server, "30")
    d = download(browser)
    r = server.cli("--json", "inspect", str(d["path"]))
    assert server.cli("--key-file", str(d["path"]), "cache", "list-caches").returncode == 0
    key_id = el(browser, "result").get_attribute("data-key-id")
    revoke_on_keys_page(browser, key_id)
    shot(browser, "keys")
    r = server.cli("refresh", "--file", str(d["path"]))
    assert r.returncode == 4 and "AUTHENTICATION" in r.stderr, (r.returncode, r.stderr)
    r = server.cli("--key-file", str(d["path"]), "cache", "list-caches")
    assert r.returncode == 4, r.stderr


def tab_to(browser, predicate, what: str, limit: int = 60, back: bool = False):
    from selenium.webdriver.common.action_chains import ActionChains
    for _ in range(limit):
        if predicate(browser.switch_to.active_element):
            return browser.switch_to.active_element
        keys = (Keys.SHIFT, Keys.TAB) if back else (Keys.TAB,)
        chain = ActionChains(browser)
        if back:
            chain.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT)
        else:
            chain.send_keys(*keys)
        chain.perform()
    pytest.fail(f"Tab never reached {what}")


def press(browser, *keys):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(browser).send_keys(*keys).perform()


def test_keyboard_only(browser, server):
    browser.get(server.base)
    wait_for(lambda: visible(browser, "token-page"), "the token page")
    by_id = lambda id_: (lambda e: e.get_attribute("id") == id_)
    tab_to(browser, by_id("expiry"), "the Expiry select")
    Select(el(browser, "expiry")).select_by_value("30")  # start from a known value
    press(browser, Keys.ARROW_DOWN)  # 30 days -> 60 days
    assert el(browser, "expiry").get_attribute("value") == "60"
    tab_to(browser, by_id("generate"), "Generate Token")
    press(browser, Keys.ENTER)
    wait_for(lambda: visible(browser, "result"), "the result")
    assert browser.switch_to.active_element.get_attribute("id") == "result-title"
    tab_to(browser, lambda e: e.get_attribute("aria-label") == "Copy Auth Token", "Copy Auth Token")
    press(browser, Keys.ENTER)
    wait_for(lambda: "copied" in el(browser, "status").text, "the copied note")
    key_id = el(browser, "result").get_attribute("data-key-id")
    server.secrets.append(el(browser, "auth-token").text)
    # To the keys page and revoke the new key, keys only.
    tab_to(browser, by_id("nav-keys"), "the keys page link", back=True)
    press(browser, Keys.ENTER)
    wait_for(lambda: visible(browser, "keys-page") and browser.find_elements(
        By.CSS_SELECTOR, f'tr[data-key-id="{key_id}"]'), "the keys page")
    tab_to(browser, lambda e: e.get_attribute("aria-label") == f"Revoke key {key_id}", "Revoke")
    press(browser, Keys.ENTER)
    wait_for(lambda: visible(browser, "revoke-dialog"), "the confirmation")
    assert browser.switch_to.active_element.get_attribute("id") == "revoke-cancel"
    press(browser, Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "revoke-confirm"
    press(browser, Keys.ENTER)
    wait_for(lambda: key_state(browser, key_id) == "revoked", "the revocation")


INTERACTIVE = {"button", "checkbox", "combobox", "textbox", "radio", "link", "spinbutton",
               "menulistpopup", "listbox", "date", "DateTime", "searchbox", "slider", "switch"}


def unlabelled_controls(browser) -> list:
    tree = browser.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    missing, seen = [], 0
    for n in tree:
        if n.get("ignored"):
            continue
        role = n.get("role", {}).get("value", "")
        if role not in INTERACTIVE:
            continue
        seen += 1
        if not str(n.get("name", {}).get("value", "")).strip():
            missing.append((role, n.get("backendDOMNodeId")))
    assert seen >= 3, "the accessibility tree shows no controls"
    return missing


def test_every_control_has_a_label(browser, server):
    browser.get(server.base)
    wait_for(lambda: visible(browser, "token-page"), "the token page")
    el(browser, "scope-fine").click()
    el(browser, "add-permission").click()
    Select(browser.find_elements(By.CLASS_NAME, "perm-type")[-1]).select_by_value("topic")
    Select(el(browser, "expiry")).select_by_value("date")
    el(browser, "scope-all-data").click()
    generate(browser, server, "30")
    el(browser, "scope-fine").click()
    assert unlabelled_controls(browser) == []
    el(browser, "scope-all-data").click()
    el(browser, "nav-keys").click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#keys tbody tr"), "the keys")
    assert unlabelled_controls(browser) == []
    el(browser, "signout").click()
    wait_for(lambda: visible(browser, "signin-page"), "the sign-in page")
    assert unlabelled_controls(browser) == []


def test_sign_in_by_pasting_a_key(browser, server):
    browser.get(server.base)
    wait_for(lambda: visible(browser, "signin-page"), "the sign-in page")
    # A wrong key is explained, not ignored.
    el(browser, "signin-key").send_keys("not-a-key")
    el(browser, "signin-button").click()
    wait_for(lambda: error_text(browser), "the refusal")
    assert "not valid on this server" in error_text(browser)
    el(browser, "signin-key").clear()
    shot(browser, "sign-in")
    key = json.loads(server.bootstrap.read_text())["authToken"]
    server.secrets.append(key)
    el(browser, "signin-key").send_keys(key)
    el(browser, "signin-button").click()
    wait_for(lambda: visible(browser, "token-page"), "the token page after pasting a key")
    assert "super-user key" in el(browser, "who").text
    assert el(browser, "signin-key").get_attribute("value") == ""
    # A super-user key may mint AllDataReadWrite keys but not SuperUser keys: said in words.
    generate(browser, server, "7")
    el(browser, "scope-super-user").click()
    el(browser, "generate").click()
    wait_for(lambda: error_text(browser), "the refusal")
    assert error_text(browser).startswith("Insufficient permissions")
    shot(browser, "error-permissions")
    el(browser, "scope-all-data").click()


def test_an_ended_session_is_explained(browser, server):
    # Revoke the key this browser is signed in with from the CLI side: the page notices.
    browser.get(server.base)
    wait_for(lambda: visible(browser, "token-page"), "the token page")
    r = subprocess_admin(server, "list-keys", "--json")
    boot = [k for k in json.loads(r) if k["bootstrap"]][0]["key_id"]
    subprocess_admin(server, "revoke-key", boot)
    el(browser, "generate").click()
    wait_for(lambda: visible(browser, "signin-page") and error_text(browser), "the sign-in page")
    assert "Sign in again" in error_text(browser)


def subprocess_admin(server, *args: str) -> str:
    import subprocess
    from conftest import binary
    r = subprocess.run([binary("MOMENTO_SERVER_BIN"), "--data-dir", str(server.workdir / "data"),
                        "admin", *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout
