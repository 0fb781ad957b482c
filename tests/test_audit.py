"""The reproduction audit finds, on its own, the inconsistencies of the published numbers — and only those."""

import pandas as pd
import pytest
from scipy import stats

from vertebroplasty import audit, published


@pytest.fixture(scope="module")
def checks() -> pd.DataFrame:
    return audit.run_audit()


def verdict(checks, check, variable, table=None):
    rows = checks[checks["check"].str.startswith(check) & (checks["variable"] == variable)]
    if table:
        rows = rows[rows["table"] == table]
    assert len(rows) >= 1, (check, variable)
    return set(rows["verdict"])


def test_columns_and_verdict_vocabulary(checks):
    assert list(checks.columns) == audit.COLUMNS
    assert set(checks["verdict"]) <= {"consistent", "inconsistent", "not-checkable"}


def test_t_test_p_values_hold_up(checks):
    t_rows = checks[checks["check"] == "t-test p from summary statistics"]
    assert len(t_rows) == 34 and set(t_rows["verdict"]) == {"consistent"}
    # independent value: Table 2 VAS (op) 3.83 ± 0.79 (n 42) vs 5.44 ± 1.32 (n 41), printed "<0.01"
    expected = stats.ttest_ind_from_stats(3.83, 0.79, 42, 5.44, 1.32, 41).pvalue
    row = t_rows[t_rows["variable"] == "vas_op"].iloc[0]
    assert float(row["recomputed"]) == pytest.approx(expected, abs=5e-5) and expected < 0.01


def test_table_3_anova_p_values_that_the_summaries_cannot_produce(checks):
    anova = checks[checks["check"] == "ANOVA p from summary statistics"].set_index("variable")["verdict"]
    assert set(anova[anova == "inconsistent"].index) == {"avhlr", "fvahl", "lka_loss", "odi_post", "odi_pre", "rka_loss", "vas_post"}
    # independent value: RKA loss 1.74 ± 4.46 (40), 1.69 ± 3.24 (24), 1.97 ± 3.31 (19) -> F far below 1, p near 0.97, not 0.215
    f, p = audit.anova_f([1.74, 1.69, 1.97], [4.46, 3.24, 3.31], [40, 24, 19])
    assert f < 0.1 and p > 0.9


def test_chi_square_leakage_without_correction_is_the_published_one(checks):
    row = checks[(checks["check"] == "chi-square p from counts") & (checks["variable"] == "cement_leakage")].iloc[0]
    assert row["verdict"] == "consistent" and "with continuity correction" in row["note"] and "(inconsistent)" in row["note"]
    assert verdict(checks, "chi-square", "cement_distribution") == {"consistent"}


def test_grim_and_grimmer_pass_for_the_published_integer_scales(checks):
    assert set(checks[checks["check"].isin(["GRIM mean", "GRIMMER SD"])]["verdict"]) == {"consistent"}


def test_grim_detects_an_impossible_mean():
    # 5 whole numbers cannot average 2.33 (sums 11 or 12 give 2.20 or 2.40)
    assert audit.possible_sums(2.33, 2, 5) == []
    assert audit.possible_sums(2.40, 2, 5) == [12]
    # even-integer values (ODI): 3 values summing to an even number cannot average 3.00
    assert audit.possible_sums(3.0, 2, 3, step=2) == []


def test_grimmer_detects_an_impossible_sd():
    # values 0/1 with n = 4 and mean 0.50 (sum 2): the only SD is 0.577; 0.30 is impossible
    assert audit.grimmer_possible(0.50, 0.58, 4, 2, 2)
    assert not audit.grimmer_possible(0.50, 0.30, 4, 2, 2)


def test_identities_hold(checks):
    assert set(checks[checks["check"] == "change mean = difference of timepoint means"]["verdict"]) == {"consistent"}
    assert set(checks[checks["check"] == "Table 2 total = Table 3 total"]["verdict"]) == {"consistent"}


def test_identity_check_catches_a_broken_identity():
    values = published.load()
    values.loc[(values["table"] == "table2") & (values["variable"] == "lka_loss") & (values["stratum"] == "A") & (values["statistic"] == "mean"), "value"] = 2.66
    broken = audit.derived_identities(values)
    assert broken.query("variable == 'lka_loss' and stratum == 'A'")["verdict"].iloc[0] == "inconsistent"


def test_missing_significance_asterisks(checks):
    markers = checks[checks["check"] == "significance marker"]
    assert set(markers[markers["verdict"] == "inconsistent"]["variable"]) == {"cement_distribution", "fvah_final"}


def test_text_against_tables(checks):
    text = checks[checks["check"].str.startswith("text")]
    wrong = text[text["verdict"] == "inconsistent"]
    assert sorted(zip(wrong["table"], wrong["variable"])) == [("table1", "cement_volume_ml"), ("table3", "rka_loss")]
    assert "B is higher than A (5.98 vs 4.8)" in wrong[wrong["variable"] == "cement_volume_ml"]["note"].iloc[0]
