"""Every public function documents its parameters, result, errors and a running example (issue 13).

*Public* means: every function named in ``msme_stats.__all__``, every public method of a class
named there, and every function of a public module (no path component starting with ``_``) whose
name does not start with ``_``, and the public methods of
:class:`~msme_stats.tables.PublicationTable`. Each needs the numpydoc sections

* ``Parameters`` (when it takes any),
* ``Returns`` (or ``Yields``; not when its return annotation is ``None``),
* ``Raises``,
* ``Examples`` with at least one ``>>>`` line (they run as doctests in ``tests/test_doctests.py``),

and the functions in :data:`STATA_R` also a ``Stata/R equivalent`` section.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import msme_stats

#: functions with a Stata or R counterpart, which their docstring must name in a
#: ``Stata/R equivalent`` section (qualified by module)
STATA_R: set[str] = {
    "msme_stats.survey.svyset",
    "msme_stats.survey.svy_mean",
    "msme_stats.survey.svy_proportion",
    "msme_stats.survey.svy_ratio",
    "msme_stats.survey.svy_total",
    "msme_stats.survey.svy_contrast",
    "msme_stats.survey.SurveyDesign.mean",
    "msme_stats.survey.SurveyDesign.proportion",
    "msme_stats.survey.SurveyDesign.ratio",
    "msme_stats.survey.SurveyDesign.total",
    "msme_stats.survey.SurveyDesign.contrast",
    "msme_stats.survey.SurveyDesign.estimate",
    "msme_stats.indicators.estimate",
    "msme_stats.indicators.contrast",
    "msme_stats.aggregate.es.cross_country_average",
    "msme_stats.aggregate.tec.tec_cross_country_average",
    "msme_stats.tables.publication_table",
    "msme_stats.sources.wbes.load_wbes",
    "msme_stats.sources.tec.load_tec",
    "msme_stats.sources.business_counts.load_business_counts",
    "msme_stats.sources.download.download_tec",
    "msme_stats.replicate.inspect_wbes",
    # indicators, aggregation and tables (issue 13 item 2)
    "msme_stats.aggregate.es.headline_sme_vs_large",
    "msme_stats.classify.size_class",
    "msme_stats.classify.size_from_stratum",
    "msme_stats.classify.sme_group",
    "msme_stats.tables.table_to_markdown",
    "msme_stats.tables.table_to_latex",
    "msme_stats.tables.PublicationTable.to_latex",
    "msme_stats.tables.PublicationTable.to_excel_bytes",
    "msme_stats.tables.PublicationTable.to_stata",
}


def _public_modules() -> list[str]:
    names = ["msme_stats"]
    for info in pkgutil.walk_packages(msme_stats.__path__, prefix="msme_stats."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or info.name.endswith("dask_engine"):
            continue
        names.append(info.name)
    return sorted(names)


def _public_functions() -> dict[str, object]:
    found: dict[str, object] = {}

    def add(obj: object) -> None:
        key = f"{obj.__module__}.{obj.__qualname__}"  # type: ignore[attr-defined]
        found.setdefault(key, obj)

    from msme_stats.tables import PublicationTable

    for obj in [getattr(msme_stats, name) for name in msme_stats.__all__] + [PublicationTable]:
        if inspect.isfunction(obj):
            add(obj)
        elif inspect.isclass(obj) and not issubclass(obj, (Exception, Warning)):
            for mname, member in vars(obj).items():
                if not mname.startswith("_") and inspect.isfunction(member):
                    add(member)
    for modname in _public_modules():
        module = importlib.import_module(modname)
        for name, obj in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(obj):
                continue
            if obj.__module__ != modname:
                continue
            add(obj)
    return dict(sorted(found.items()))


FUNCTIONS = _public_functions()


def _sections(doc: str) -> set[str]:
    return set(re.findall(r"^([A-Z][A-Za-z/ ]+)\n-{3,}\s*$", doc, flags=re.M))


def _missing(key: str, func: object) -> list[str]:
    doc = inspect.getdoc(func) or ""
    have = _sections(doc)
    missing = []
    sig = inspect.signature(func)  # type: ignore[arg-type]
    params = [p for p in sig.parameters if p not in ("self", "cls")]
    if params and "Parameters" not in have:
        missing.append("Parameters")
    returns_none = sig.return_annotation in (None, "None")
    if not returns_none and not ({"Returns", "Yields"} & have):
        missing.append("Returns")
    if "Raises" not in have:
        missing.append("Raises")
    if "Examples" not in have or ">>>" not in doc:
        missing.append("Examples")
    if key in STATA_R and "Stata/R equivalent" not in have:
        missing.append("Stata/R equivalent")
    return missing


def test_public_functions_are_found():
    # the walk reaches the main entry points (a walk that found nothing would pass everything)
    for key in ("msme_stats.sources.wbes.load_wbes", "msme_stats.indicators.estimate",
                "msme_stats.survey.svyset", "msme_stats.survey.SurveyDesign.mean"):
        assert key in FUNCTIONS
    assert len(FUNCTIONS) > 120


def test_stata_r_list_names_real_functions():
    assert STATA_R <= set(FUNCTIONS)


@pytest.mark.parametrize("key", list(FUNCTIONS))
def test_docstring_sections(key):
    missing = _missing(key, FUNCTIONS[key])
    assert not missing, f"{key}: docstring lacks {', '.join(missing)}"



def test_no_unfilled_docstring_placeholder():
    # a shared piece ({firm_sections}, {example_table}, ...) left unfilled would publish a hole
    holes = [key for key, func in FUNCTIONS.items()
             if re.search(r"^\s*\{[a-z_]+\}\s*$", func.__doc__ or "", flags=re.M)]
    assert not holes
