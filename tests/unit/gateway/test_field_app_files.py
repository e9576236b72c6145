"""The field app's files: one message catalogue per language with the same keys, every key the page uses exists,
every check reason the API can give has words, and the service worker caches exactly the files the gateway serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

from services.gateway.field.router import FILES, STATIC
from services.verification.groundchecks.rules import CheckReason


def catalogue(lang: str) -> dict[str, str]:
    """One language's messages."""
    return dict(json.loads((STATIC / f"messages-{lang}.json").read_text(encoding="utf-8")))


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    indonesian, english = catalogue("id"), catalogue("en")
    assert sorted(set(indonesian) ^ set(english)) == []
    placeholder = re.compile(r"\{(\w+)\}")
    assert [
        k for k in indonesian if set(placeholder.findall(indonesian[k])) != set(placeholder.findall(english[k]))
    ] == []
    assert [k for lang in ("id", "en") for k, v in catalogue(lang).items() if not v.strip()] == []


def test_every_key_the_page_uses_is_in_the_catalogue() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n="([^"]+)"', html)) | set(re.findall(r'\bt\("([^"]+)"\s*[,)]', script))
    assert len(used) > 40
    assert sorted(used - set(catalogue("id"))) == []
    assert '<html lang="id">' in html


def test_every_check_reason_has_words() -> None:
    keys = set(catalogue("id"))
    # app.js folds every flag_<kind> reason into reason_of_check.flag.
    wanted = {"reason_of_check." + ("flag" if r.startswith("flag_") else r.value) for r in CheckReason}
    assert sorted(wanted - keys) == []


def test_the_service_worker_caches_what_the_gateway_serves() -> None:
    script = (STATIC / "sw.js").read_text(encoding="utf-8")
    shell = set(re.findall(r'^\s+"([^"]+)",$', script.split("const SHELL = [", 1)[1].split("];", 1)[0], re.M))
    assert shell == {"./"} | (set(FILES) - {"sw.js"})
    assert all((STATIC / name).is_file() for name in FILES)
    assert {p.name for p in Path(STATIC).iterdir()} == set(FILES)


def test_the_manifest_keeps_the_app_in_its_scope() -> None:
    manifest = json.loads((STATIC / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert (manifest["start_url"], manifest["scope"], manifest["lang"]) == ("/lapangan/", "/lapangan/", "id")
    assert all(icon["src"] in FILES for icon in manifest["icons"])
