"""Tests of msme_stats.reference: country table, ISO3 matching, year-aware groups."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msme_stats.errors import (
    ExclusionWarning,
    OptionError,
    RecodeWarning,
    UnknownCountryError,
)
from msme_stats.reference import (
    countries,
    country_aliases,
    country_groups,
    group_members,
    group_table,
    normalize_name,
    read_reference,
    reference_path,
    to_iso3,
)

COUNTRIES = countries()
ISO3 = COUNTRIES["iso3"].tolist()
WITH_ISO2 = COUNTRIES.dropna(subset=["iso2"])


# --------------------------------------------------------------------------------------
# countries.csv
def test_namibia_na_survives_reading():
    # the raw file holds the two letters NA; pandas' default would make them NaN
    raw = pd.read_csv(reference_path("countries"))
    assert raw.loc[raw["iso3"] == "NAM", "iso2"].isna().all()  # the trap exists
    nam = COUNTRIES.loc[COUNTRIES["iso3"] == "NAM"]
    assert nam["iso2"].tolist() == ["NA"]
    assert read_reference("countries").loc[lambda d: d.iso3 == "NAM", "iso2"].tolist() == ["NA"]


def test_namibia_round_trip():
    assert to_iso3(["NA"]).tolist() == ["NAM"]
    assert to_iso3(["NA"], scheme="iso2").tolist() == ["NAM"]
    assert to_iso3(["na"], scheme="iso2").tolist() == ["NAM"]
    iso2 = COUNTRIES.set_index("iso3").loc[to_iso3(["Namibia"]), "iso2"].tolist()
    assert iso2 == ["NA"]
    assert to_iso3([516, "516"]).tolist() == ["NAM", "NAM"]


def test_countries_table_shape_and_keys():
    assert len(COUNTRIES) == 218
    assert COUNTRIES["iso3"].is_unique
    assert WITH_ISO2["iso2"].is_unique
    assert COUNTRIES["iso_numeric"].dropna().is_unique
    assert COUNTRIES["iso_numeric"].dropna().str.fullmatch(r"\d{3}").all()
    for code in ("TWN", "XKX", "PSE", "NAM", "CHI"):
        assert code in ISO3
    assert set(COUNTRIES["wb_region"]) == {
        "East Asia & Pacific",
        "Europe & Central Asia",
        "Latin America & Caribbean",
        "Middle East & North Africa",
        "North America",
        "South Asia",
        "Sub-Saharan Africa",
    }
    by = COUNTRIES.set_index("iso3")
    assert by.loc["AFG", "wb_region"] == "South Asia"
    assert by.loc["AFG", "wb_region_fy2025"].startswith("Middle East, North Africa, Afghanistan")
    assert by.loc["GBR", "eu_member_since"] == 1973 and by.loc["GBR", "eu_left"] == 2020
    assert by.loc["CHN", "wto_member_since"] == 2001
    assert by.loc["CRI", "oecd_member_since"] == 2021
    # 38 OECD members, 27 EU members now
    assert COUNTRIES["oecd_member_since"].notna().sum() == 38
    assert (COUNTRIES["eu_member_since"].notna() & COUNTRIES["eu_left"].isna()).sum() == 27


def test_countries_returns_copy():
    a = countries()
    a.loc[0, "name"] = "changed"
    assert countries().loc[0, "name"] != "changed"


def test_reference_path_unknown_lists_files():
    with pytest.raises(OptionError, match="countries.csv"):
        reference_path("no_such_file")
    assert reference_path("countries.csv") == reference_path("countries")


# --------------------------------------------------------------------------------------
# to_iso3
WBES_VARIANTS = {
    "Cote d'Ivoire": "CIV",
    "Côte d'Ivoire": "CIV",
    "Ivory Coast": "CIV",
    "Congo, Dem. Rep.": "COD",
    "DRC": "COD",
    "Congo, Rep.": "COG",
    "Congo": "COG",
    "Kyrgyz Republic": "KGZ",
    "Kyrgyzstan": "KGZ",
    "Lao PDR": "LAO",
    "Macedonia, FYR": "MKD",
    "North Macedonia": "MKD",
    "Russian Federation": "RUS",
    "Turkiye": "TUR",
    "Türkiye": "TUR",
    "Turkey": "TUR",
    "Taiwan, China": "TWN",
    "West Bank And Gaza": "PSE",
    "West Bank and Gaza": "PSE",
    "Yemen, Rep.": "YEM",
    "Egypt, Arab Rep.": "EGY",
    "Gambia, The": "GMB",
    "Gambia": "GMB",
    "Bosnia and Herzegovina": "BIH",
    "BosniaandHerzegovina": "BIH",
    "Micronesia": "FSM",
    "Micronesia, Fed. Sts.": "FSM",
    "St. Lucia": "LCA",
    "St Vincent and the Grenadines": "VCT",
    "eSwatini": "SWZ",
    "Swaziland": "SWZ",
    "Timor-Leste": "TLS",
    "Kosovo": "XKX",
    "Cabo Verde": "CPV",
    "Cape Verde": "CPV",
    "Sao Tome and Principe": "STP",
    "Guinea-Bissau": "GNB",
    "Guinea": "GIN",
    "Equatorial Guinea": "GNQ",
    "Papua New Guinea": "PNG",
    "Niger": "NER",
    "Nigeria": "NGA",
    "Dominica": "DMA",
    "Dominican Republic": "DOM",
    "Korea, Rep.": "KOR",
    "Korea, Dem. People's Rep.": "PRK",
    "Viet Nam": "VNM",
    "Vietnam": "VNM",
    "Slovak Republic": "SVK",
    "Iran, Islamic Rep.": "IRN",
    "Venezuela, RB": "VEN",
    "Hong Kong SAR, China": "HKG",
    "  KENYA  ": "KEN",
}


def test_wbes_name_variants():
    got = to_iso3(list(WBES_VARIANTS), scheme="name")
    assert dict(zip(WBES_VARIANTS, got, strict=True)) == WBES_VARIANTS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Kenya2018", "KEN"),
        ("Kenya 2018", "KEN"),
        ("Kenya_2018", "KEN"),
        ("Congo, Dem. Rep.2013", "COD"),
        ("Cote d'Ivoire2016", "CIV"),
        ("West Bank And Gaza2019", "PSE"),
        ("Timor-Leste2015", "TLS"),
        ("Bosnia and Herzegovina 2019", "BIH"),
    ],
)
def test_year_suffix_is_stripped(value, expected):
    assert to_iso3([value]).tolist() == [expected]


def test_auto_scheme_mixes_codes_and_names():
    out = to_iso3(["KEN", "ke", "404", 404, "Kenya", "ROM", "EL", "UK", "XK"])
    assert out.tolist() == ["KEN"] * 5 + ["ROU", "GRC", "GBR", "XKX"]
    assert pd.api.types.is_string_dtype(out.dtype)


def test_eurostat_scheme():
    out = to_iso3(["EL", "UK", "XK", "DE", "NO", "MK"], scheme="eurostat")
    assert out.tolist() == ["GRC", "GBR", "XKX", "DEU", "NOR", "MKD"]
    with pytest.raises(UnknownCountryError, match="EU27_2020"):
        to_iso3(["DE", "EU27_2020", "UKN"], scheme="eurostat")


def test_strict_schemes_do_not_read_names():
    with pytest.raises(UnknownCountryError):
        to_iso3(["Kenya"], scheme="iso3")
    with pytest.raises(UnknownCountryError):
        to_iso3(["KEN"], scheme="iso2")


def test_unknown_values_all_listed():
    with pytest.raises(UnknownCountryError) as exc:
        to_iso3(["Kenya", "Narnia", "Atlantis2018", "Narnia", "Freedonia"])
    msg = str(exc.value)
    for bad in ("'Narnia'", "'Atlantis2018'", "'Freedonia'"):
        assert bad in msg
    assert "3 value(s) (4 row(s))" in msg
    assert "country_aliases.csv" in msg and "errors='coerce'" in msg
    assert "'Kenya'" not in msg


def test_unknown_close_match_is_suggested():
    with pytest.raises(UnknownCountryError, match="kenya'->KEN"):
        to_iso3(["Kenia"])


def test_coerce_gives_na_and_warns_with_count():
    with pytest.warns(RecodeWarning, match="2 row"):
        out = to_iso3(pd.Series(["Narnia", "FRA", "Narnia"], index=[10, 11, 12]), errors="coerce")
    assert out.index.tolist() == [10, 11, 12]
    assert out.isna().tolist() == [True, False, True]
    assert out[11] == "FRA"


def test_missing_input_stays_missing_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = to_iso3(["KEN", None, np.nan])
    assert out.tolist()[0] == "KEN"
    assert out.isna().tolist() == [False, True, True]


def test_bad_options_raise_option_error():
    with pytest.raises(OptionError, match="scheme"):
        to_iso3(["KEN"], scheme="iso4")
    with pytest.raises(OptionError, match="errors"):
        to_iso3(["KEN"], errors="ignore")


def test_does_not_mutate_input():
    s = pd.Series(["Kenya", "NA"])
    before = s.copy()
    to_iso3(s)
    pd.testing.assert_series_equal(s, before)


def test_normalize_name():
    assert normalize_name("Côte d’Ivoire") == normalize_name("COTE D'IVOIRE") == "cote divoire"
    assert normalize_name("Bosnia & Herzegovina") == "bosnia and herzegovina"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ISO3), st.sampled_from(["upper", "lower", "pad"]))
def test_iso3_is_identity(code, form):
    value = {"upper": code, "lower": code.lower(), "pad": f" {code} "}[form]
    assert to_iso3([value]).tolist() == [code]
    assert to_iso3([value], scheme="iso3").tolist() == [code]


def test_iso3_identity_every_row():
    assert to_iso3(ISO3).tolist() == ISO3
    assert to_iso3(ISO3, scheme="iso3").tolist() == ISO3


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(list(zip(WITH_ISO2["iso2"], WITH_ISO2["iso3"], strict=True))))
def test_iso2_maps_to_iso3(pair):
    iso2, iso3 = pair
    assert to_iso3([iso2], scheme="iso2").tolist() == [iso3]
    assert to_iso3([iso2]).tolist() == [iso3]


def test_every_name_and_alias_resolves_to_its_code():
    names = COUNTRIES["name"].tolist()
    assert to_iso3(names, scheme="name").tolist() == ISO3
    al = country_aliases()
    exact = al[(al["scheme"] == "name") & (al["match"] == "exact")]
    assert to_iso3(exact["alias"], scheme="name").tolist() == exact["iso3"].tolist()


def test_every_iso3_in_groups_and_aliases_exists():
    known = set(ISO3)
    assert set(group_table()["iso3"]) <= known
    assert set(country_aliases()["iso3"]) <= known


# --------------------------------------------------------------------------------------
# groups
def test_group_intervals_do_not_overlap():
    g = group_table()
    lo = g["valid_from"].astype("float").fillna(-np.inf)
    hi = g["valid_to"].astype("float").fillna(np.inf)
    assert (lo <= hi).all()
    g = g.assign(lo=lo, hi=hi).sort_values(["iso3", "group_type", "lo"])
    prev_hi = g.groupby(["iso3", "group_type"])["hi"].shift()
    assert not (g["lo"] <= prev_hi).any()


def test_complete_coverage_for_membership_types():
    g = group_table()
    for gt, start in [("ldc", 1971), ("wto", 1995), ("oecd", 1961), ("eu", 1958)]:
        for year in (start, 2000, 2024, 2030):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                out = country_groups(ISO3, year, group_type=gt)
            assert out.notna().all(), (gt, year)
        assert set(g.loc[g.group_type == gt, "iso3"]) == set(ISO3)


def test_income_group_changes_with_year():
    # Kenya: LIC in OGHIST data year 2013 (FY2015), LMC from data year 2014 (FY2016,
    # released 1 July 2015): calendar 2014 -> FY2015 -> LIC, calendar 2015 -> FY2016 -> LMC
    out = country_groups(["KEN", "KEN", "KEN"], [2014, 2015, 2024], group_type="income")
    assert out.tolist() == ["LIC", "LMC", "LMC"]
    # Algeria: UMC FY2010-FY2020, LMC FY2021-FY2024, UMC FY2025
    out = country_groups(["DZA"] * 3, [2019, 2020, 2024])
    assert out.tolist() == ["UMC", "LMC", "UMC"]
    # Bulgaria became high income in FY2025 (calendar 2024)
    assert country_groups(["BGR", "BGR"], [2023, 2024]).tolist() == ["UMC", "HIC"]


def test_income_current_and_unclassified():
    assert country_groups(["DEU"]).tolist() == ["HIC"]
    with pytest.warns(ExclusionWarning, match="VEN/2022"):
        out = country_groups(["VEN", "KEN"], 2022)
    assert out.isna().tolist() == [True, False]
    with pytest.warns(ExclusionWarning, match="1 of 2"):
        country_groups(["KEN", "KEN"], [1950, 2020])


def test_ldc_samoa_bhutan():
    out = country_groups(
        ["WSM", "WSM", "BTN", "BTN", "BTN"], [2013, 2015, 2022, 2023, 2024], group_type="ldc"
    )
    assert out.tolist() == ["ldc", "non_ldc", "ldc", "ldc", "non_ldc"]
    assert "WSM" in group_members("ldc", "ldc", 2013)
    assert "WSM" not in group_members("ldc", "ldc", 2015)
    assert "BTN" in group_members("ldc", "ldc", 2022)
    assert "BTN" not in group_members("ldc", "ldc", 2024)


def test_ldc_list_size():
    # 44 LDCs after Sao Tome and Principe graduated (13 December 2024)
    assert len(group_members("ldc", "ldc")) == 44
    assert len(group_members("ldc", "ldc", 2024)) == 45  # STP still counted in 2024
    assert len(group_members("ldc", "ldc", 2019)) == 47
    for graduated, year in [
        ("BWA", 1995),
        ("CPV", 2008),
        ("MDV", 2011),
        ("GNQ", 2018),
        ("VUT", 2021),
    ]:
        assert graduated not in group_members("ldc", "ldc", year)
        assert graduated in group_members("ldc", "ldc", year - 1)


def test_wto_development():
    out = country_groups(
        ["DEU", "USA", "KEN", "KOR", "POL", "POL"],
        [2016] * 5 + [2000],
        group_type="wto_development",
    )
    assert out.tolist() == [
        "developed",
        "developed",
        "developing",
        "developing",
        "developed",
        "developing",
    ]
    developed = group_members("wto_development", "developed", 2016)
    assert {"JPN", "AUS", "NZL", "CAN", "NOR", "CHE", "GBR"} <= set(developed)
    assert "MEX" not in developed


def test_eu_gbr_and_croatia():
    assert country_groups(["GBR"] * 2, [2019, 2020], group_type="eu").tolist() == ["eu", "non_eu"]
    assert country_groups(["HRV"] * 2, [2012, 2013], group_type="eu").tolist() == ["non_eu", "eu"]
    assert len(group_members("eu", "eu", 2016)) == 28
    assert len(group_members("eu", "eu", 2024)) == 27


def test_country_groups_aligns_series_index_and_arrays():
    codes = pd.Series(["KEN", "DEU"], index=["a", "b"])
    out = country_groups(codes, np.array([2015, 2015]))
    assert out.index.tolist() == ["a", "b"] and out.name == "income"


def test_country_groups_errors():
    with pytest.raises(UnknownCountryError, match="'Kenya'"):
        country_groups(["Kenya", "KEN"], 2015)
    with pytest.raises(OptionError, match="group_type"):
        country_groups(["KEN"], 2015, group_type="incomes")
    with pytest.raises(OptionError, match="group"):
        group_members("income", "rich", 2015)
    with pytest.raises(ValueError, match="year has 1 values"):
        country_groups(["KEN", "DEU"], [2015])


def test_region_groups():
    assert (
        country_groups(["AFG", "PAK", "IND"], group_type="wb_region").tolist() == ["South Asia"] * 3
    )
    out = country_groups(["AFG", "IND"], 2016, group_type="wb_region_fy2025").tolist()
    assert out == ["Middle East, North Africa, Afghanistan & Pakistan", "South Asia"]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(list(zip(COUNTRIES["name"], COUNTRIES["iso3"], strict=True))),
    st.sampled_from(["upper", "lower", "title", "punct", "year"]),
)
def test_names_insensitive_to_case_punctuation_and_year(pair, form):
    name, iso3 = pair
    value = {
        "upper": name.upper(),
        "lower": name.lower(),
        "title": name.title(),
        "punct": f" {name.replace(' ', '  ')}. ",
        "year": f"{name}2019",
    }[form]
    assert to_iso3([value], scheme="name").tolist() == [iso3]


def test_categorical_and_arrow_inputs():
    cat = pd.Series(["Kenya2018", "NA", "Kenya2018", None], dtype="category")
    assert to_iso3(cat).tolist()[:3] == ["KEN", "NAM", "KEN"]
    assert to_iso3(cat).isna().tolist() == [False, False, False, True]
    assert to_iso3(pd.Series(["Kenya", "NA"], dtype="string")).tolist() == ["KEN", "NAM"]


def test_income_fy2026_changes():
    # FY2026 (released 1 July 2025) = calendar 2025 in this package's convention
    out = country_groups(["CRI", "CRI", "NAM", "NAM", "WSM"], [2024, 2025, 2024, 2025, 2025])
    assert out.tolist() == ["UMC", "HIC", "UMC", "LMC", "UMC"]
