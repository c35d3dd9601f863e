"""Where the documentation's numbers are read from, for the tests that hold them: the README and
every page of the docs site (``docs/**/*.md``), as one text. A number may move between pages and
stay held."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pages() -> list[Path]:
    """The README and the site's Markdown pages."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def site_text(*, flat: bool = False) -> str:
    """Every page's text, joined; ``flat`` folds all white space to single spaces (for quotes that wrap)."""
    text = "\n\n".join(p.read_text() for p in pages())
    return " ".join(text.split()) if flat else text
