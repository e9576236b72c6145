"""The dashboard's words live in one catalogue per language: same keys in both, and every key the page uses exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[3] / "services" / "gateway" / "dashboard" / "static"
LANGUAGES = ("id", "en")


def catalogue(lang: str) -> dict[str, str]:
    """One language's messages."""
    return dict(json.loads((STATIC / f"messages-{lang}.json").read_text(encoding="utf-8")))


def keys_used() -> set[str]:
    """Keys named by index.html's data-i18n attributes and by t("…") calls in app.js."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-title|-aria-label)?="([^"]+)"', html))
    used |= set(re.findall(r'\bt\("([^"]+)"', script))
    return used


def label_groups() -> set[str]:
    """Groups of API codes the script labels with label("group", code)."""
    return set(re.findall(r'\blabel\("([a-z_]+)"', (STATIC / "app.js").read_text(encoding="utf-8")))


def test_both_languages_have_the_same_keys_and_no_empty_message() -> None:
    indonesian, english = catalogue("id"), catalogue("en")
    assert sorted(set(indonesian) ^ set(english)) == []
    assert [k for lang in LANGUAGES for k, v in catalogue(lang).items() if not v.strip()] == []


def test_every_key_the_page_uses_is_in_the_catalogue() -> None:
    used = keys_used()
    assert len(used) > 50
    assert sorted(used - set(catalogue("id"))) == []


def test_every_labelled_group_of_codes_has_words() -> None:
    keys = set(catalogue("id"))
    groups = label_groups()
    assert {"flag", "failure", "role", "tahap_status", "check_state", "check_reason", "data_status"} <= groups
    assert [g for g in groups if not any(k.startswith(g + ".") for k in keys)] == []


def test_placeholders_agree_between_languages() -> None:
    indonesian, english = catalogue("id"), catalogue("en")
    placeholder = re.compile(r"\{(\w+)\}")
    differ = {k for k in indonesian if set(placeholder.findall(indonesian[k])) != set(placeholder.findall(english[k]))}
    assert differ == set()


def test_indonesian_is_the_default() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert '<html lang="id">' in html
    assert 'return LANGUAGES.includes(asked) ? asked : "id";' in (STATIC / "app.js").read_text(encoding="utf-8")
