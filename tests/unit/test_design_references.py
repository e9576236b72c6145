"""Code comments cite the design documents as `DOMAIN §n` / `ARCHITECTURE §n`: each must name a section in docs/."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"\b(DOMAIN|ARCHITECTURE) §(\d+)")
SECTION = re.compile(r"^## (\d+)\. ", re.MULTILINE)
SOURCES = ("services", "shared", "bench", "demo", "deploy", "tests")


def sections_of(document: str) -> set[str]:
    """Section numbers of one design document in docs/."""
    return set(SECTION.findall((REPO / "docs" / f"{document}.md").read_text(encoding="utf-8")))


def citations() -> list[tuple[str, str, str]]:
    """Every (file, document, section) cited in the code base."""
    found: list[tuple[str, str, str]] = []
    for top in SOURCES:
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix not in {".py", ".md", ".sql", ".sh"} or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            found.extend((str(path.relative_to(REPO)), doc, n) for doc, n in CITATION.findall(text))
    return found


def test_the_code_cites_the_design_documents() -> None:
    assert len(citations()) > 10


def test_every_citation_names_a_section_of_a_document_in_the_repository() -> None:
    known = {doc: sections_of(doc) for doc in ("DOMAIN", "ARCHITECTURE")}
    broken = [(path, doc, n) for path, doc, n in citations() if n not in known[doc]]
    assert broken == []


def test_design_documents_do_not_point_outside_the_repository() -> None:
    for document in (REPO / "docs").glob("*.md"):
        assert "../shared" not in document.read_text(encoding="utf-8"), document.name
