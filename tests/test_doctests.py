"""Every Examples section in the package's docstrings runs as a doctest (part of `make test`)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import msme_stats

#: modules not imported for doctests: optional dependencies (Dask) are imported by their tests
SKIP = {"msme_stats.engines.dask_engine"}


def _modules() -> list[str]:
    names = ["msme_stats"]
    for info in pkgutil.walk_packages(msme_stats.__path__, prefix="msme_stats."):
        if info.name not in SKIP:
            names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_doctests_are_collected():
    # the mechanism finds the examples (publication tables carry several)
    tables = importlib.import_module("msme_stats.tables")
    found = [t for t in doctest.DocTestFinder().find(tables) if t.examples]
    assert len(found) >= 4


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name, monkeypatch, tmp_path):
    monkeypatch.setenv("MSME_STATS_CACHE", str(tmp_path / "cache"))
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples and (getattr(t, "filename", "") or "").endswith(".py")]
    for t in tests:
        runner.run(t, out=lambda s: None)
    result = runner.summarize(verbose=False)
    if result.failed:
        # rerun verbosely for the report
        lines: list[str] = []
        runner2 = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for t in tests:
            runner2.run(t, out=lines.append)
        pytest.fail("".join(lines)[-4000:])
