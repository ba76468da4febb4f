"""The public API: every exported name resolves, and errors share one base class."""

from __future__ import annotations

import inspect

import pytest

import msme_stats as ms


@pytest.mark.parametrize("name", [n for n in ms.__all__ if n != "__version__"])
def test_public_name_resolves(name):
    assert getattr(ms, name) is not None


def test_every_error_derives_from_the_base_class():
    errors = [getattr(ms, n) for n in ms.__all__ if n.endswith("Error")]
    assert len(errors) >= 15
    assert all(issubclass(e, ms.MsmeStatsError) for e in errors)


def test_public_functions_take_options_keyword_only():
    # data first, options keyword-only (the package's calling convention)
    for name in ["load_wbes", "estimate", "cross_country_average", "publication_table", "load_tec",
                 "tec_indicators", "load_transactions", "exporter_dynamics", "svy_mean", "svy_ratio"]:
        params = list(inspect.signature(getattr(ms, name)).parameters.values())
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert len(positional) <= 3, (name, [p.name for p in positional])
        assert any(p.kind == p.KEYWORD_ONLY for p in params), name
