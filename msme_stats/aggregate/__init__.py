"""Cross-country aggregation, WBES and TEC side by side.

:mod:`msme_stats.aggregate.es`
    Enterprise Surveys: :func:`cross_country_average`, :func:`headline_sme_vs_large`,
    :func:`compare_published`, :func:`published_values`, :func:`published_targets`.
:mod:`msme_stats.aggregate.tec`
    TEC: :func:`tec_cross_country_average`, :func:`change_between`,
    :func:`tec_compare_published`.

Input: tidy estimates (from :func:`msme_stats.estimate` or :func:`msme_stats.tec_indicators`)
with one row per survey or country-year and domain. Output: tidy averages over countries,
with the number of countries (and firms) behind each value.
"""

from .es import (
    compare_published,
    cross_country_average,
    headline_sme_vs_large,
    published_targets,
    published_values,
)
from .tec import change_between, tec_compare_published, tec_cross_country_average

__all__ = [
    "cross_country_average", "headline_sme_vs_large", "compare_published", "published_values",
    "published_targets", "tec_cross_country_average", "change_between", "tec_compare_published",
]
