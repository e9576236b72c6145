"""The field app (/lapangan/) in a real headless Chromium against a real `tepat serve`, on a phone-sized window.

The browser reaches the server through a TCP relay the test can cut: that is the officer's signal. A TKSK makes a
visit online; with the signal gone, makes two more, reloads the app (served by its service worker from the
device), and when the signal returns the server has exactly those visits, once each, with their photos. A check
cancelled at the office meanwhile comes back as a conflict the officer sees, not a lost visit.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from shared.auth.principal import Role
from tests.integration.dashboard.seed import TKSK_SELATAN, Tokens, bearer, call, seed_registry, seed_verification
from tests.integration.dashboard.test_dashboard_browser import Server, browser, server  # noqa: F401 (fixtures)
from tests.support.api import token
from tests.support.images import phone_jpeg


class Signal:
    """A TCP relay 127.0.0.1:<port> → the server; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.up = True
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """No signal: close what is open; new connections are closed at once."""
        with self._lock:
            self.up = False
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()

    def restore(self) -> None:
        """Signal again."""
        with self._lock:
            self.up = True

    def close(self) -> None:
        """Stop relaying."""
        self._stopped = True
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if not self.up:
                    client.close()
                    continue
                upstream = socket.create_connection(("127.0.0.1", self.target))
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def signal_to(server: Server) -> Iterator[Signal]:  # noqa: F811
    relay = Signal(int(server.base.rsplit(":", 1)[1]))
    try:
        yield relay
    finally:
        relay.close()


def _wait(chrome: webdriver.Chrome, condition: Any, timeout: float = 60) -> Any:
    return WebDriverWait(chrome, timeout, poll_frequency=0.2).until(condition)


def _text(chrome: webdriver.Chrome, testid: str) -> str:
    return str(chrome.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]').text)


def _visit(chrome: webdriver.Chrome, check_id: int, photo: Path, *, outcome: str, reason: str = "") -> None:
    """Open the check, fill the form as an officer would, save."""
    _wait(chrome, lambda c: c.find_elements(By.CSS_SELECTOR, f'[data-testid="open-{check_id}"]'))
    chrome.find_element(By.CSS_SELECTOR, f'[data-testid="open-{check_id}"]').click()
    Select(chrome.find_element(By.CSS_SELECTOR, '[data-testid="outcome"]')).select_by_value(outcome)
    Select(chrome.find_element(By.CSS_SELECTOR, '[data-testid="reason"]')).select_by_value(reason)
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="lat"]').send_keys("-0.9871")
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="lon"]').send_keys("100.3712")
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="accuracy"]').send_keys("8")
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="photo"]').send_keys(str(photo))
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="submit"]').click()
    _wait(chrome, lambda c: c.find_element(By.ID, "home").is_displayed())


async def test_a_tksk_visits_online_and_offline_and_every_visit_arrives_once(
    server: Server,  # noqa: F811
    browser: webdriver.Chrome,  # noqa: F811
    signal_to: Signal,
    tmp_path: Path,
) -> None:
    page = await server.client.get("/lapangan/")
    csp = page.headers["content-security-policy"]
    assert ("worker-src 'self'" in csp, "unsafe-inline" in csp) == (True, False)
    assert (await server.client.get("/lapangan/sw.js")).status_code == 200

    tokens = Tokens.issue(server.data_dir)
    await seed_registry(server.client, tokens)
    await seed_verification(server.client, tokens)
    mine = await call(
        server.client,
        "GET",
        f"/api/verification/ground-checks?assigned_to={TKSK_SELATAN}&status=assigned",
        tokens.tksk_selatan,
    )
    ids = [c["id"] for c in sorted(mine["items"], key=lambda c: (c["due_at"], c["id"]))]
    assert len(ids) >= 3, mine
    first, second, third = ids[:3]
    photos = []
    for n, color in enumerate(("teal", "orange", "navy")):
        path = tmp_path / f"rumah-{n}.jpg"
        path.write_bytes(phone_jpeg(1600, 1200, color=color))
        photos.append(path)

    chrome = browser
    chrome.set_window_size(412, 915)
    base = f"http://127.0.0.1:{signal_to.port}/lapangan/"
    chrome.get(f"{base}?token={tokens.tksk_selatan}")
    _wait(chrome, lambda c: c.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready")
    _wait(chrome, lambda c: c.find_element(By.TAG_NAME, "body").get_attribute("data-sw") == "ready")
    shown = [int(li.get_attribute("data-check-id") or 0) for li in chrome.find_elements(By.CSS_SELECTOR, "#checks li")]
    assert shown == ids, "my assigned checks, by due date"
    assert "Pemeriksaan saya" in chrome.page_source, "Indonesian by default"

    # Online: sent at once.
    _visit(chrome, first, photos[0], outcome="layak")
    _wait(chrome, lambda c: not c.find_elements(By.CSS_SELECTOR, f'[data-testid="check-{first}"]'))
    chrome.save_screenshot(str(tmp_path / "lapangan-online.png"))

    # No signal: two visits wait on the device; a reload opens the app from the service worker's cache.
    signal_to.cut()
    _visit(chrome, second, photos[1], outcome="tidak_layak", reason="moved")
    _visit(chrome, third, photos[2], outcome="layak")
    _wait(chrome, lambda c: _text(c, "queue-count") == "2")
    chrome.refresh()
    _wait(chrome, lambda c: c.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready")
    assert chrome.find_element(By.ID, "checks-source").get_attribute("data-source") == "device"
    assert _text(chrome, "queue-count") == "2"
    assert chrome.find_elements(By.CSS_SELECTOR, f'[data-testid="queued-{second}"]')
    assert chrome.find_elements(By.CSS_SELECTOR, f'[data-testid="queued-{third}"]')
    assert chrome.find_element(By.ID, "net").get_attribute("data-online") == "false"
    chrome.save_screenshot(str(tmp_path / "lapangan-offline.png"))
    # Nothing reached the server while the signal was gone.
    for check_id in (second, third):
        check = await call(server.client, "GET", f"/api/verification/ground-checks/{check_id}", tokens.verifikator)
        assert check["status"] == "assigned"
    # Meanwhile the office cancels the third check.
    await call(
        server.client,
        "POST",
        f"/api/verification/ground-checks/{third}/cancel",
        tokens.verifikator,
        json={"reason": "keluarga sudah diperiksa di kantor"},
    )

    signal_to.restore()
    _wait(chrome, lambda c: _text(c, "queue-count") == "0", timeout=60)
    _wait(chrome, lambda c: c.find_elements(By.CSS_SELECTOR, f'[data-testid="conflict-{third}"]'))
    chrome.save_screenshot(str(tmp_path / "lapangan-synced.png"))

    visited = await call(
        server.client,
        "GET",
        f"/api/verification/ground-checks?assigned_to={TKSK_SELATAN}&status=visited",
        tokens.verifikator,
    )
    assert sorted(c["id"] for c in visited["items"]) == sorted([first, second])
    by_id = {c["id"]: c for c in visited["items"]}
    assert (by_id[second]["outcome"], by_id[second]["outcome_reason"]) == ("tidak_layak", "moved")
    assert by_id[second]["gps"] == {"lat": -0.9871, "lon": 100.3712, "accuracy_m": 8.0}
    for check in by_id.values():
        [photo] = check["photos"]
        stored = await server.client.get(
            f"/api/verification/evidence/{photo['sha256']}", headers=bearer(tokens.verifikator)
        )
        assert stored.status_code == 200
        assert stored.headers["content-type"].startswith("image/jpeg")
    cancelled = await call(server.client, "GET", f"/api/verification/ground-checks/{third}", tokens.verifikator)
    assert (cancelled["status"], cancelled["visited_at"]) == ("cancelled", None)
    # The refusal is on the device, with the server's reason, until the officer dismisses it.
    assert str(third) in _text(chrome, f"conflict-{third}")

    # English on request, the same screen.
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="lang-switch"]').click()
    _wait(chrome, lambda c: "My checks" in c.page_source)


async def test_a_kelurahan_operator_records_a_sanggah_offline_and_it_arrives_once(
    server: Server,  # noqa: F811
    browser: webdriver.Chrome,  # noqa: F811
    signal_to: Signal,
    tmp_path: Path,
) -> None:
    tokens = Tokens.issue(server.data_dir)
    await seed_registry(server.client, tokens)
    kelurahan = "13.71.01.1001"
    operator = token(server.data_dir, Role.OPERATOR_KELURAHAN, kelurahan, subject="operator-1001")
    families = await call(server.client, "GET", f"/api/registry/families?kelurahan={kelurahan}", operator)
    target = families["items"][0]
    photo = tmp_path / "mobil.jpg"
    photo.write_bytes(phone_jpeg(1200, 900, color="maroon"))

    chrome = browser
    chrome.set_window_size(412, 915)
    chrome.get(f"http://127.0.0.1:{signal_to.port}/lapangan/?token={operator}")
    _wait(chrome, lambda c: c.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready")
    _wait(chrome, lambda c: c.find_element(By.TAG_NAME, "body").get_attribute("data-sw") == "ready")
    assert chrome.find_element(By.ID, "families-source").get_attribute("data-source") == "network"

    signal_to.cut()
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="family-search"]').send_keys(target["address"])
    # The list re-renders on every key: click the button as it is when found, in the page itself.
    choose = f'[data-testid="choose-{target["id"]}"]'
    _wait(
        chrome,
        lambda c: c.execute_script("const b = document.querySelector(arguments[0]); b?.click(); return !!b;", choose),
    )
    _wait(chrome, lambda c: _text(c, "sanggah-family") == target["address"] + f", RT {target['rt']}/RW {target['rw']}")
    Select(chrome.find_element(By.CSS_SELECTOR, '[data-testid="grounds"]')).select_by_value("well_off")
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="sanggah-photo"]').send_keys(str(photo))
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="sanggah-lat"]').send_keys("-0.95")
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="sanggah-lon"]').send_keys("100.36")
    chrome.find_element(By.CSS_SELECTOR, '[data-testid="sanggah-submit"]').click()
    _wait(chrome, lambda c: _text(c, "queue-count") == "1")
    chrome.save_screenshot(str(tmp_path / "lapangan-sanggah-offline.png"))
    assert (await call(server.client, "GET", "/api/verification/objections", tokens.verifikator))["total"] == 0

    signal_to.restore()
    _wait(chrome, lambda c: _text(c, "queue-count") == "0")
    page = await call(server.client, "GET", "/api/verification/objections", tokens.verifikator)
    assert page["total"] == 1
    [objection] = page["items"]
    assert (objection["household_id"], objection["grounds"], objection["kelurahan_code"]) == (
        target["id"],
        "well_off",
        kelurahan,
    )
    stored = await server.client.get(
        f"/api/verification/evidence/{objection['photo_sha256']}", headers=bearer(tokens.verifikator)
    )
    assert stored.status_code == 200
