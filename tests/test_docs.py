"""The README stays short and is the way into docs/: every doc linked, every link live."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = sorted(p for p in (REPO / "docs").iterdir() if p.is_file())
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE = re.compile(r"`[^`\n]*`")


def test_readme_is_at_most_200_lines():
    assert len((REPO / "README.md").read_text().splitlines()) <= 200


def test_readme_starts_with_the_two_commands():
    head = "\n".join((REPO / "README.md").read_text().splitlines()[:8])
    assert "make synth" in head and "make test" in head


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_readme_links_every_doc(doc):
    assert f"docs/{doc.name}" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("page", [REPO / "README.md", *(p for p in DOCS if p.suffix == ".md")], ids=lambda p: p.name)
def test_relative_links_point_at_files_that_exist(page):
    broken = [
        target for target in LINK.findall(CODE.sub("", page.read_text()))
        if "://" not in target and not target.startswith("mailto:") and not (page.parent / target).exists()
    ]
    assert not broken, f"{page.relative_to(REPO)} links to missing files: {broken}"
