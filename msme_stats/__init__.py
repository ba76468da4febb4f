"""msme_stats: World Trade Report 2016-style statistics on SMEs in trade.

The public API is re-exported here; submodules are imported lazily on first use so that
``import msme_stats`` stays fast. See the README's architecture section for where each
function lives.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from .errors import *  # noqa: F403  (the exception hierarchy is part of the public API)
from .errors import __all__ as _error_names

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> module that defines it
_LAZY: dict[str, str] = {
    # sources (publisher files -> canonical frames)
    "load_wbes": "msme_stats.sources.wbes",
    "wbes_columns": "msme_stats.sources.wbes",
    "read_surveys_csv": "msme_stats.sources.wbes",
    "survey_catalogue": "msme_stats.sources.wbes",
    "inspect_wbes": "msme_stats.replicate",
    "replicate_published": "msme_stats.replicate",
    "published_survey_values": "msme_stats.replicate",
    "load_tec": "msme_stats.sources.tec",
    "load_business_counts": "msme_stats.sources.business_counts",
    "load_transactions": "msme_stats.sources.customs",
    # classifications and reference data
    "size_class": "msme_stats.classify",
    "sector_class": "msme_stats.classify",
    "country_groups": "msme_stats.reference",
    "countries": "msme_stats.reference",
    "to_iso3": "msme_stats.reference",
    # survey estimation
    "svy_mean": "msme_stats.survey",
    "svy_proportion": "msme_stats.survey",
    "svy_ratio": "msme_stats.survey",
    "svy_total": "msme_stats.survey",
    "svy_contrast": "msme_stats.survey",
    "svyset": "msme_stats.survey",
    "SurveyDesign": "msme_stats.survey",
    "contrast": "msme_stats.indicators",
    "screen_outliers": "msme_stats.screens",
    # indicators
    "list_indicators": "msme_stats.indicators",
    "estimate": "msme_stats.indicators",
    "tec_indicators": "msme_stats.indicators.tec",
    "exporter_dynamics": "msme_stats.indicators.dynamics",
    # aggregation and outputs
    "cross_country_average": "msme_stats.aggregate",
    "headline_sme_vs_large": "msme_stats.aggregate",
    "compare_published": "msme_stats.aggregate",
    "published_values": "msme_stats.aggregate",
    "tec_cross_country_average": "msme_stats.aggregate",
    "tec_compare_published": "msme_stats.aggregate",
    "publication_table": "msme_stats.tables",
}

__all__ = sorted([*_LAZY, *_error_names, "__version__"])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'msme_stats' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
