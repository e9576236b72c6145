"""/docs and /redoc render in a real headless Chromium with nothing but the gateway to load from.

The machine has no route to a CDN, and the pages' CSP would refuse one anyway: any script, style or font the
pages try to fetch from elsewhere shows up as a CSP violation, which the test collects and expects to be none.
"""

from __future__ import annotations

from typing import Any

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.integration.dashboard.test_dashboard_browser import Server, browser, server  # noqa: F401 (fixtures)

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def _open(chrome: webdriver.Chrome, url: str) -> None:
    chrome.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_VIOLATIONS})
    chrome.get(url)


def _violations(chrome: webdriver.Chrome) -> Any:
    return chrome.execute_script("return window.__violations")


async def test_swagger_ui_and_redoc_render_offline_under_their_csp(
    server: Server,  # noqa: F811
    browser: webdriver.Chrome,  # noqa: F811
) -> None:
    _open(browser, f"{server.base}/docs")
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
    assert "Tepat API" in browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
    paths = {e.get_attribute("data-path") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert "/api/registry/families" in paths
    assert "/api/disbursement/tahap" in paths
    assert _violations(browser) == []

    _open(browser, f"{server.base}/redoc")
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".api-info h1"))
    assert "Tepat API" in browser.find_element(By.CSS_SELECTOR, ".api-info h1").text
    assert browser.find_elements(By.CSS_SELECTOR, "[data-section-id^='tag/']")
    # ReDoc's "API docs by Redocly" link always asks for its logo from a CDN and hides it when that fails: the
    # CSP refusing it is the policy at work. Nothing else may be refused (no script, style, font or worker).
    assert set(_violations(browser)) <= {f"img-src {REDOC_LOGO}"}
