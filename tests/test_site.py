"""The documentation site: it builds strictly, its API reference covers the front door, every Python
example on it runs, and the packaging a citing researcher expects is there. (Every console example
on it is run by tests/test_docs.py, with the slow tests: some are minutes long.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import memdyn
from tests.quotes import ROOT, pages


def _blocks(language: str) -> list[tuple[str, str]]:
    """(page, code) for every fenced block of ``language`` on the site (README included)."""
    out = []
    for page in pages():
        for code in re.findall(rf"```{language}\n(.*?)```", page.read_text(), re.S):
            out.append((str(page.relative_to(ROOT)), code))
    return out


def test_the_site_builds_strictly(tmp_path):
    """``mkdocs build --strict``: a broken link, a missing page or reference, or a docstring mkdocstrings
    cannot read fails it. The notebooks are converted without running them here (they run in
    tests/test_docs.py); a real build executes them."""
    pytest.importorskip("mkdocs")
    env = {**os.environ, "MEMDYN_DOCS_EXECUTE": "false", "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    for name in ("memdyn.api.flow", "memdyn.api.sweep", "memdyn.core.sweep.SweepResult"):
        assert f'id="{name}"' in api, name


def test_every_front_door_name_is_in_the_api_reference():
    documented = {
        line.split()[-1].rsplit(".", 1)[-1]
        for line in (ROOT / "docs" / "api.md").read_text().splitlines()
        if line.startswith(":::")
    }
    missing = sorted(set(memdyn.__all__) - documented - {"__version__"})
    assert not missing, f"names of memdyn.__all__ missing from docs/api.md: {missing}"


PYTHON = _blocks("python")
SLOW_PAGES = ("docs/howto/",)
"""The how-to guides' examples (sharp predictions, 256-bit fits, a search: 10-40 s each on 2 cores) run
with the slow tests; the README's and the getting-started page's in the default run."""


@pytest.mark.parametrize(
    "page, code",
    [pytest.param(p, c, marks=pytest.mark.slow) if p.startswith(SLOW_PAGES) else (p, c) for p, c in PYTHON],
    ids=[f"{p}:{i}" for i, (p, _) in enumerate(PYTHON)],
)
def test_every_python_example_on_the_site_runs(page, code, tmp_path):
    """Each Python block runs as written, in a fresh interpreter (as a reader would paste it), in an
    empty folder; the blocks assert what they claim where it is cheap to. JAX's persistent compilation
    cache is turned on first (``memdyn.use_compilation_cache()``, as the command line does), so that the
    blocks that solve the same flows compile them once."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    prelude = "import memdyn as _memdyn\n_memdyn.use_compilation_cache()\ndel _memdyn\n"
    proc = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"{page}:\n{code}\n{proc.stderr[-3000:]}"


def test_the_readme_is_two_screens_and_the_packaging_is_complete():
    readme = (ROOT / "README.md").read_text().splitlines()
    assert len(readme) <= 150, len(readme)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["title"] and cff["authors"] and cff["message"]
    assert any("Journal of Machine Learning Research" in r.get("journal", "") for r in cff["references"])
    assert cff["version"] == memdyn.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {memdyn.__version__}" in changelog


def test_figures_copied_into_the_site_are_the_research_artefacts():
    assert (ROOT / "docs" / "figures" / "fig4_paper_size.png").read_bytes() == (
        ROOT / "research" / "results" / "fig4_paper_size.png"
    ).read_bytes()
