"""Derived indices against values computed by hand from the study's definitions."""

import numpy as np
import pandas as pd
import pytest

from vertebroplasty.contract import derivation, dictionary


def one_patient(**overrides) -> pd.DataFrame:
    values = {
        "level": "L1",
        "fvah_pre_mm": 16.0, "fvah_post_mm": 21.0, "fvah_final_mm": 19.5,
        "upper_vah_pre_mm": 28.0, "upper_vah_post_mm": 28.0, "upper_vah_final_mm": 27.0,
        "lower_vah_pre_mm": 30.0, "lower_vah_post_mm": 30.0, "lower_vah_final_mm": 29.0,
        "lka_pre_deg": 15.0, "lka_post_deg": 9.5, "lka_final_deg": 12.0,
        "rka_pre_deg": 10.0, "rka_post_deg": 8.0, "rka_final_deg": 11.25,
    }
    values.update(overrides)
    frame = pd.DataFrame([values])
    numeric = [column for column in frame if column != "level"]
    frame[numeric] = frame[numeric].astype("Float64")
    return frame


def test_avhr_by_hand():
    derived = derivation.derive(one_patient()).iloc[0]
    # 16 / ((28 + 30) / 2) * 100 = 16 / 29 * 100
    assert derived["avhr_pre"] == pytest.approx(55.172413793)
    assert derived["avhr_post"] == pytest.approx(21 / 29 * 100)
    assert derived["avhr_final"] == pytest.approx(19.5 / 28 * 100)  # 69.642857
    assert derived["avhrr"] == pytest.approx(21 / 29 * 100 - 16 / 29 * 100)  # 17.241379
    assert derived["avhlr"] == pytest.approx(72.413793103 - 69.642857143)


def test_height_and_angle_changes_by_hand():
    derived = derivation.derive(one_patient()).iloc[0]
    assert derived["fvahr"] == pytest.approx(5.0)  # 21 - 16
    assert derived["fvahl"] == pytest.approx(1.5)  # 21 - 19.5
    assert derived["lka_recovery"] == pytest.approx(5.5)  # 15 - 9.5
    assert derived["lka_loss"] == pytest.approx(2.5)  # 12 - 9.5
    assert derived["rka_recovery"] == pytest.approx(2.0)
    assert derived["rka_loss"] == pytest.approx(3.25)


@pytest.mark.parametrize("level, segment", [("T1", "thoracic"), ("T10", "thoracic"), ("T11", "thoracolumbar"),
                                            ("L2", "thoracolumbar"), ("L3", "lumbar"), ("L5", "lumbar")])
def test_segment_boundaries(level, segment):
    assert derivation.derive(one_patient(level=level)).iloc[0]["segment"] == segment


def test_missing_inputs_give_missing_outputs_only_where_used():
    derived = derivation.derive(one_patient(fvah_final_mm=pd.NA, lka_pre_deg=pd.NA, level=None)).iloc[0]
    for column in ("avhr_final", "avhlr", "fvahl", "lka_recovery", "segment"):
        assert pd.isna(derived[column]), column
    for column in ("avhr_pre", "avhr_post", "avhrr", "fvahr", "lka_loss"):
        assert not pd.isna(derived[column]), column


def test_missing_adjacent_height_makes_only_that_timepoint_missing():
    derived = derivation.derive(one_patient(lower_vah_post_mm=pd.NA)).iloc[0]
    assert pd.isna(derived["avhr_post"]) and pd.isna(derived["avhrr"]) and pd.isna(derived["avhlr"])
    assert not pd.isna(derived["avhr_pre"]) and not pd.isna(derived["avhr_final"])


def test_derive_does_not_modify_its_input():
    frame = one_patient()
    before = frame.copy()
    derivation.derive(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_functions_are_vectorised_over_arrays():
    fvah = np.array([10.0, 20.0])
    assert derivation.height_ratio(fvah, np.array([25.0, 30.0]), np.array([25.0, 30.0])).tolist() == pytest.approx([40.0, 66.6666667])


def test_formulas_are_written_from_the_definitions():
    # the methods' LaTeX states each definition the computation uses (paper's methods: FVAHL = post - final FVAH)
    assert derivation.formula_latex("fvahl") == r"\mathrm{FVAHL} = \mathrm{FVAH}_{\mathrm{post}} - \mathrm{FVAH}_{\mathrm{final}}"
    assert derivation.formula_latex("lka_loss") == r"\mathrm{LKA}_{\mathrm{loss}} = \mathrm{LKA}_{\mathrm{final}} - \mathrm{LKA}_{\mathrm{post}}"
    assert r"\dfrac{2\,\mathrm{FVAH}_{\mathrm{pre}}}" in derivation.formula_latex("avhr_pre")
    assert derivation.differences()["avhrr"] == ("avhr_post", "avhr_pre")
    assert set(derivation.differences()) == {"avhrr", "avhlr", "fvahr", "fvahl", "lka_recovery", "lka_loss", "rka_recovery", "rka_loss"}


def test_every_input_of_a_definition_is_a_known_variable():
    known = set(dictionary.load_dictionary()["variable"]) | set(dictionary.load_derived_indices().index)
    for name, definition in dictionary.load_derived_indices().iterrows():
        assert set(definition["inputs"]) <= known, name
