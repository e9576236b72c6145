"""The dashboard in a real headless Chromium against a real `tepat serve`: every number on the page is the API's.

Seeds a small city through the public API, opens /dashboard/ as a Dinsos verifikator and as the TKSK of
Padang Selatan, and compares each number the page shows (data-testid + data-value) with the same endpoints
fetched here. Also: empty states, an API error (problem detail) in its section, a refused token, a strict CSP.
A full-page screenshot is kept in the test's tmp folder and in bench/out/dashboard.png.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import openpyxl
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.integration.dashboard.seed import (
    KEC_KURANJI,
    KEC_SELATAN,
    TKSK_SELATAN,
    Tokens,
    bearer,
    register_family,
    seed_city,
)
from tests.support.api import token
from tests.support.infra import REPO
from tests.support.waiting import wait_for


@dataclass
class Server:
    """A running `tepat serve` and its data folder."""

    base: str
    data_dir: Path
    client: httpx.AsyncClient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """`python -m services.cli serve` on a free port, embedded mode, data in tmp_path."""
    port = _free_port()
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPAT_")}
    env["TEPAT_GATEWAY_DATA_DIR"] = str(data_dir)
    env["TEPAT_GATEWAY_DEMO_FAMILIES"] = "0"  # this test seeds its own small city
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:

            async def health() -> int:
                try:
                    return (await client.get("/healthz")).status_code
                except httpx.HTTPError:
                    return 0

            await wait_for(health, lambda code: code == 200, timeout=60)
            yield Server(base=base, data_dir=data_dir, client=client)
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
        log.close()
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    """Headless Debian Chromium through its chromedriver; nothing is downloaded."""
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not look for drivers online
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium, "install Debian's chromium (see .ci/run)"
    assert driver, "install Debian's chromium-driver (see .ci/run)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,1000",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(arg)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


async def downloaded(browser: webdriver.Chrome, testid: str, name: str, folder: Path) -> Path:
    """Click a download button; the file the browser saved, once the page says it is done."""

    def click(driver: webdriver.Chrome) -> bool:
        # A resize re-renders the section (after a screenshot): find the button again until a click lands.
        driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]').click()
        return True

    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(click)
    status = browser.find_element(By.CSS_SELECTOR, '[data-testid="download-status"]')
    WebDriverWait(browser, 30).until(lambda _: status.get_attribute("data-file") == name)
    file = folder / name  # Chrome renames the finished download to its name

    async def saved() -> bool:
        return file.is_file() and file.stat().st_size > 0

    await wait_for(saved, lambda done: done, timeout=30)
    return file


async def assert_downloads_work(server: Server, browser: webdriver.Chrome, tok: str, folder: Path) -> None:
    """The download buttons hand the browser the API's own export: the families CSV byte for byte, the payment
    lines of the shown tahap as the same workbook."""
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    csv_file = await downloaded(browser, "download-families-csv", "keluarga.csv", folder)
    r = await server.client.get("/api/registry/families/export?format=csv", headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert csv_file.read_bytes() == r.content
    assert r.content.decode("utf-8-sig").count("\r\n") >= 11  # the header and the seed's families
    status = browser.find_element(By.CSS_SELECTOR, '[data-testid="download-status"]')
    assert status.get_attribute("data-bytes") == str(len(r.content))
    tahap = opening_tahap(await _get(server, tok, "/api/disbursement/tahap"))
    name = f"baris-pembayaran-{tahap['id']}.xlsx"
    xlsx_file = await downloaded(browser, "download-payment-lines-xlsx", name, folder)
    r = await server.client.get(f"/api/disbursement/tahap/{tahap['id']}/payment-lines?format=xlsx", headers=bearer(tok))
    assert r.status_code == 200, r.text
    saved, fetched = openpyxl.load_workbook(xlsx_file).active, openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert saved is not None
    assert fetched is not None
    rows = [[c.value for c in row] for row in saved.iter_rows()]
    assert rows == [[c.value for c in row] for row in fetched.iter_rows()]
    assert len(rows) > 1
    assert not browser.find_element(By.CSS_SELECTOR, '[data-testid="error-downloads"]').is_displayed()


# ---------- what the page should show, computed from the API's own answers ----------


async def _get(server: Server, tok: str, url: str) -> Any:
    r = await server.client.get(url, headers=bearer(tok))
    assert r.status_code == 200, (url, r.text)
    return r.json()


async def expected_numbers(server: Server, tok: str) -> dict[str, float]:
    """data-testid → value, from the endpoints the page reads, fetched with the same token."""
    want: dict[str, float] = {}
    groups = (await _get(server, tok, "/api/registry/aggregates/families?group_by=kecamatan"))["groups"]
    for g in groups:
        code = g["code"]
        want[f"families-total-{code}"] = g["families"]
        want[f"members-total-{code}"] = g["members"]
        for status in ("active", "needs_verification", "inactive"):
            want[f"status-{status}-{code}"] = g["by_data_status"].get(status, 0)
        assert set(g["by_data_status"]) <= {"active", "needs_verification", "inactive"}
        for desil in [str(d) for d in range(1, 11)] + ["none"]:
            want[f"desil-{desil}-{code}"] = g["by_desil"].get(desil, 0)
        want[f"flags-total-{code}"] = sum(g["open_flags"].values())
        for kind, n in g["open_flags"].items():
            want[f"flags-{kind}-{code}"] = n
    want["kpi-families"] = sum(g["families"] for g in groups)
    want["kpi-members"] = sum(g["members"] for g in groups)
    want["kpi-needs-verification"] = sum(g["by_data_status"].get("needs_verification", 0) for g in groups)
    want["kpi-open-flags"] = sum(sum(g["open_flags"].values()) for g in groups)

    workload = await _get(server, tok, "/api/verification/ground-checks/workload")
    for w in workload:
        key = w["officer"] or "unassigned"
        for state, n in w["counts"].items():
            want[f"workload-{state}-{key}"] = n
        want[f"workload-overdue-{key}"] = w["overdue"]
        want[f"workload-total-{key}"] = sum(w["counts"].values())
    in_progress = ("open", "assigned", "visited", "returned")
    want["kpi-checks-open"] = sum(w["counts"].get(s, 0) for w in workload for s in in_progress)
    want["kpi-checks-overdue"] = (await _get(server, tok, "/api/verification/ground-checks/overdue?limit=1"))["total"]

    complaints = (await _get(server, tok, "/api/verification/complaints/summary"))["rows"]
    for r in complaints:
        keys = [f"complaints-sla-{r['sla_status']}-{r['kecamatan_code']}"]
        if r["sla_status"] != "closed":
            keys.append(f"complaints-{r['category']}-{r['kecamatan_code']}")
        for key in keys:
            want[key] = want.get(key, 0) + r["count"]

    if wilayah_level(tok) == 3:  # a kecamatan-scoped user also sees its kelurahan
        kelurahan = (await _get(server, tok, "/api/registry/aggregates/families?group_by=kelurahan"))["groups"]
        for g in kelurahan:
            code = g["code"]
            want[f"families-total-{code}"] = g["families"]
            want[f"members-total-{code}"] = g["members"]
            for status in ("active", "needs_verification", "inactive"):
                want[f"status-{status}-{code}"] = g["by_data_status"].get(status, 0)
            want[f"flags-total-{code}"] = sum(g["open_flags"].values())
    if role_of(tok) in ("tksk", "psm", "pendamping_pkh"):
        mine = await _get(server, tok, f"/api/verification/ground-checks?limit=500&assigned_to={subject_of(tok)}")
        want["queue-total"] = sum(1 for c in mine["items"] if c["status"] in ("open", "assigned", "returned"))

    tahap_list = await _get(server, tok, "/api/disbursement/tahap")
    tahap = opening_tahap(tahap_list)
    want["tahap-list-size"] = tahap["listed_count"]
    # The trend: this programme's tahap up to the shown one (here every tahap of the seed), per kecamatan.
    for earlier in [x for x in tahap_list if x["programme_code"] == tahap["programme_code"]]:
        if earlier["status"] == "cancelled" or earlier["created_at"] > tahap["created_at"]:
            continue
        trend = await _get(server, tok, f"/api/disbursement/reports/tahap/{earlier['id']}/kecamatan")
        tid = earlier["id"]
        for r in trend["kecamatan"]:
            code = r["kecamatan_code"]
            want[f"trend-listed-{tid}-{code}"] = r["families_listed"]
            want[f"trend-paid-{tid}-{code}"] = r["families_paid"]
            want[f"trend-failed-{tid}-{code}"] = sum(r["failures_by_reason"].values())
            for reason, n in r["failures_by_reason"].items():
                want[f"trend-failures-{reason}-{tid}-{code}"] = n
        want[f"trend-listed-{tid}"] = sum(r["families_listed"] for r in trend["kecamatan"])
        want[f"trend-paid-{tid}"] = sum(r["families_paid"] for r in trend["kecamatan"])
        want[f"trend-failed-{tid}"] = sum(sum(r["failures_by_reason"].values()) for r in trend["kecamatan"])
    report = await _get(server, tok, f"/api/disbursement/reports/tahap/{tahap['id']}/kecamatan")
    for r in report["kecamatan"]:
        code = r["kecamatan_code"]
        failed = sum(r["failures_by_reason"].values())
        for prefix in ("tahap-listed", "money-listed"):
            want[f"{prefix}-{code}"] = r["families_listed"]
        for prefix in ("amount-planned", "money-planned"):
            want[f"{prefix}-{code}"] = r["amount_planned"]
        for prefix in ("amount-paid", "money-paid"):
            want[f"{prefix}-{code}"] = r["amount_paid"]
        for prefix in ("paid-pct", "money-paid-pct"):
            want[f"{prefix}-{code}"] = r["paid_pct"]
        for prefix in ("breaks-open", "money-breaks"):
            want[f"{prefix}-{code}"] = r["breaks_open"]
        want[f"families-paid-{code}"] = r["families_paid"]
        want[f"on-hold-{code}"] = r["on_hold"]
        want[f"failed-total-{code}"] = failed
        for reason, n in r["failures_by_reason"].items():
            want[f"failures-{reason}-{code}"] = n
    want["kpi-listed"] = sum(r["families_listed"] for r in report["kecamatan"])
    want["kpi-planned"] = sum(r["amount_planned"] for r in report["kecamatan"])
    want["kpi-paid"] = sum(r["amount_paid"] for r in report["kecamatan"])
    if want["kpi-planned"]:
        want["kpi-paid-pct"] = 100 * want["kpi-paid"] / want["kpi-planned"]
    want["kpi-breaks"] = sum(r["breaks_open"] for r in report["kecamatan"])
    return want


def claims_of(tok: str) -> dict[str, Any]:
    """The token's claims (read, not verified: the server verified them)."""
    return dict(jwt.decode(tok, options={"verify_signature": False}))


def wilayah_level(tok: str) -> int:
    """2 kota, 3 kecamatan, 4 kelurahan."""
    return len(str(claims_of(tok)["wilayah"]).split("."))


def role_of(tok: str) -> str:
    return str(claims_of(tok)["role"])


def subject_of(tok: str) -> str:
    return str(claims_of(tok)["sub"])


def opening_tahap(tahap_list: list[dict[str, Any]]) -> dict[str, Any]:
    """The tahap the page opens on: the newest with payment lines (approved on), else the newest."""
    usable = [x for x in tahap_list if x["status"] != "cancelled"]
    with_lines = [x for x in usable if x["status"] in ("approved", "paying", "closed")]
    return (with_lines or usable or tahap_list)[0]


# ---------- reading the page ----------


def open_dashboard(chrome: webdriver.Chrome, base: str, tok: str, *, until: str = "ready") -> None:
    """Load the page with the token in the fragment and wait for it to settle."""
    chrome.get("about:blank")
    chrome.get(f"{base}/dashboard/#token={tok}")
    WebDriverWait(chrome, 20).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") in (until, "signed-out")
    )
    assert chrome.find_element(By.TAG_NAME, "body").get_attribute("data-state") == until


def page_numbers(chrome: webdriver.Chrome) -> dict[str, float]:
    """Every number on the page by its data-testid."""
    raw: dict[str, str] = chrome.execute_script(
        "return Object.fromEntries(Array.from(document.querySelectorAll('[data-testid][data-value]'))"
        ".map((e) => [e.dataset.testid, e.dataset.value]));"
    )
    return {k: float(v) for k, v in raw.items()}


def text_of(chrome: webdriver.Chrome, testid: str) -> str:
    """The visible text of one element."""
    return str(chrome.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]').text)


def assert_page_matches(page: dict[str, float], want: dict[str, float]) -> None:
    """Number by number; the page may show extra zeros (e.g. a state nobody is in) but nothing else."""
    mismatches = {k: (page.get(k), v) for k, v in want.items() if page.get(k) != pytest.approx(v)}
    assert not mismatches, mismatches
    extra = {k: v for k, v in page.items() if k not in want and v != 0}
    assert not extra, extra


def assert_fits_the_screen(chrome: webdriver.Chrome) -> None:
    """No table needs a horizontal scroll bar at the test's 1440 px window, and neither does the page."""
    overflowing = chrome.execute_script(
        "return Array.from(document.querySelectorAll('.table-wrap'))"
        ".filter((w) => w.offsetParent !== null && w.scrollWidth > w.clientWidth + 1)"
        ".map((w) => w.parentElement.id || w.parentElement.className);"
    )
    assert overflowing == []
    assert chrome.execute_script("return document.documentElement.scrollWidth <= window.innerWidth;")


def assert_chart_labels_whole(chrome: webdriver.Chrome) -> None:
    """Every chart label starts inside its chart (long kecamatan names were cut at the left edge)."""
    cut = chrome.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart text.axis'))"
        ".filter((t) => t.getBBox().x < 0).map((t) => t.textContent);"
    )
    assert cut == []


def save_screenshot(chrome: webdriver.Chrome, target: Path) -> None:
    """A full-page PNG: the viewport is made as tall as the page for the shot."""
    height = int(chrome.execute_script("return document.documentElement.scrollHeight;"))
    metrics = {"width": 1440, "height": height, "deviceScaleFactor": 1, "mobile": False}
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        chrome.save_screenshot(str(target))
    finally:
        chrome.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# ---------- the test ----------


async def test_dashboard_shows_the_apis_numbers_for_dinsos_and_only_its_kecamatan_for_a_tksk(
    server: Server, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    # Served with a strict CSP, and every file the page needs is there.
    r = await server.client.get("/dashboard/")
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    for asset, kind in (("app.js", "javascript"), ("app.css", "css")):
        got = await server.client.get(f"/dashboard/{asset}")
        assert (got.status_code, kind in got.headers["content-type"]) == (200, True)
    assert (await server.client.get("/dashboard/secrets.txt")).status_code == 404

    tokens = Tokens.issue(server.data_dir)
    # Before any data: the empty states, not a broken page.
    open_dashboard(browser, server.base, tokens.verifikator)
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="empty-overview"]').is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="empty-money"]').text == "Belum ada tahap."

    await seed_city(server.client, tokens)
    # Bungus Teluk Kabung, the longest kecamatan name, whose chart label used to be cut at the left edge.
    await register_family(server.client, tokens, "13.71.05.1001", 31)

    # Dinsos (whole city): both kecamatan, every number as the API says.
    open_dashboard(browser, server.base, tokens.verifikator)
    want = await expected_numbers(server, tokens.verifikator)
    page = page_numbers(browser)
    assert_page_matches(page, want)
    # The seed itself, so a broken seed cannot pass as an empty-but-equal page.
    assert page["families-total-13.71.01"] == 6
    assert page["families-total-13.71.09"] == 4
    assert page["flags-sex_nik_mismatch-13.71.01"] == 1
    assert page["desil-1-13.71.01"] == 1
    assert page["desil-none-13.71.09"] == 1
    assert page[f"workload-approved-{TKSK_SELATAN}"] == 1
    assert page["tahap-listed-13.71.01"] == 3
    assert page["amount-planned-13.71.01"] == 1_800_000
    assert page["failures-not_found-13.71.01"] == 1
    assert page["breaks-open-13.71.01"] == 1
    assert page["complaints-payment-13.71.01"] == 1
    assert page["complaints-sla-closed-13.71.01"] == 1
    assert page["complaints-exclusion-13.71.09"] == 1
    assert text_of(browser, "money-planned-13.71.01") == "Rp 1.800.000"
    # The overview's amounts are compact so that the table fits the screen; the full amount is the tooltip.
    planned = browser.find_element(By.CSS_SELECTOR, '[data-testid="amount-planned-13.71.01"]')
    assert (planned.text, planned.get_attribute("title")) == ("Rp 1,8 jt", "Rp 1.800.000")
    assert_fits_the_screen(browser)
    assert_chart_labels_whole(browser)
    # Bahasa Indonesia by default; the switch gives English with the same numbers.
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    assert text_of(browser, "lang-switch") == "EN"
    assert "Keluarga menurut desil" in browser.page_source
    browser.find_element(By.CSS_SELECTOR, '[data-testid="lang-switch"]').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert "Families by desil" in browser.page_source
    assert text_of(browser, "lang-switch") == "ID"
    assert_page_matches(page_numbers(browser), want)
    browser.find_element(By.CSS_SELECTOR, '[data-testid="lang-switch"]').click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id")
    assert text_of(browser, "scope-code") == "13.71"
    assert "Padang" in text_of(browser, "scope-name")
    # The token left the address bar; no personal data on the overview.
    assert "token=" not in browser.current_url
    source = browser.page_source
    for personal in ("Kepala 1", "Istri 1", "137101150580", "Jl. Contoh"):
        assert personal not in source
    shot = tmp_path / "dashboard.png"
    save_screenshot(browser, shot)
    assert shot.stat().st_size > 10_000
    (REPO / "bench" / "out").mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, REPO / "bench" / "out" / "dashboard.png")
    await assert_downloads_work(server, browser, tokens.verifikator, tmp_path / "downloads")

    # TKSK of Padang Selatan: only 13.71.01, numbers as the API answers that token.
    open_dashboard(browser, server.base, tokens.tksk_selatan)
    page = page_numbers(browser)
    assert_page_matches(page, await expected_numbers(server, tokens.tksk_selatan))
    areas_shown = {k.removeprefix("families-total-") for k in page if k.startswith("families-total-")}
    assert {code for code in areas_shown if code.count(".") == 2} == {KEC_SELATAN}
    assert all(code.startswith(KEC_SELATAN) for code in areas_shown)
    assert {k.removeprefix("money-listed-") for k in page if k.startswith("money-listed-")} == {KEC_SELATAN}
    assert KEC_KURANJI not in browser.page_source
    assert text_of(browser, "scope-code") == KEC_SELATAN
    assert text_of(browser, "scope-name") == "Padang Selatan"
    # The TKSK's own view: its kecamatan per kelurahan, and its work queue (checks assigned and not done).
    kelurahan_rows = browser.find_elements(By.CSS_SELECTOR, '[data-testid^="kel-row-"]')
    assert len(kelurahan_rows) >= 2
    assert all(str(r.get_attribute("data-testid")).startswith(f"kel-row-{KEC_SELATAN}.") for r in kelurahan_rows)
    assert page["queue-total"] >= 1
    save_screenshot(browser, tmp_path / "dashboard-tksk.png")

    # A newer tahap without payment lines: the page stays on the paid one and says why.
    rules = await _get(server, tokens.verifikator, "/api/disbursement/programmes/SEMBAKO/rules")
    newest_rule = max(r["version"] for r in rules)  # the seed's own rule version
    body = {"programme_code": "SEMBAKO", "label": "2026-II", "as_of": "2026-06-01", "rule_version": newest_rule}
    created = await server.client.post("/api/disbursement/tahap", json=body, headers=bearer(tokens.verifikator))
    assert created.status_code == 201, created.text
    open_dashboard(browser, server.base, tokens.verifikator)
    notice = text_of(browser, "tahap-notice")
    assert ("SEMBAKO 2026-II (draf)" in notice, notice.endswith("SEMBAKO 2026-I.")) == (True, True), notice
    shown = opening_tahap(await _get(server, tokens.verifikator, "/api/disbursement/tahap"))
    assert (shown["label"], shown["status"]) == ("2026-I", "paying")
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="tahap-status"]').get_attribute("data-status") == (
        "paying"
    )
    assert_page_matches(page_numbers(browser), await expected_numbers(server, tokens.verifikator))

    # A wilayah without data: empty states; a refused token: the server's problem detail, and the sign-in form.
    open_dashboard(browser, server.base, token(server.data_dir, "tksk", "13.71.06", subject="tksk-06"))
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="empty-overview"]').is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="empty-workload"]').is_displayed()
    # A PSM may read the registry but not payments: the money section shows the API's 403 problem detail.
    open_dashboard(browser, server.base, token(server.data_dir, "psm", "13.71.01.1001", subject="psm-1001"))
    money_error = text_of(browser, "error-money")
    assert money_error.startswith("Galat 403:")
    assert len(money_error) > len("Galat 403: ")
    assert page_numbers(browser)["families-total-13.71.01"] == 3  # the families of kelurahan 1001 only
    forged = tokens.verifikator[:-6] + "AAAAAA"
    open_dashboard(browser, server.base, forged, until="signed-out")
    alert = text_of(browser, "error-global")
    assert alert.startswith("Token ditolak:")
    assert "invalid token" in alert
    assert browser.find_element(By.ID, "token-panel").is_displayed()
