"""Figures stay readable and small at registry scale: points only up to a few hundred per type, the rest in boxes."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pytest

from vertebroplasty.contract import validation
from vertebroplasty.contract.cohort import Cohort
from vertebroplasty.paper.synthetic.scaled import write_scaled_cohort
from vertebroplasty.statistics import attrition
from vertebroplasty.writing import cases, figures

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Cohort:
    path = write_scaled_cohort(tmp_path_factory.mktemp("scale") / "cohort.csv", 100_000)
    return Cohort.from_validated(validation.load_cohort(path))


def png_size(figure) -> int:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return len(buffer.getvalue())


def test_every_figure_of_a_100000_patient_report_is_small(large):
    data = large.data
    chosen, _, _ = cases.choose_case_ids(data)
    patients = data.assign(case_key=cases.case_keys(data)).set_index("case_key").loc[chosen].reset_index()
    made = {
        "trajectories": figures.trajectories(data)[0],
        "distribution_by_group": figures.distribution_by_group(data)[0],
        "losses_by_distribution": figures.losses_by_distribution(data)[0],
        "case_figure": figures.case_figure(data, patients)[0],
        "flow_diagram": figures.flow_diagram(attrition.flow(data))[0],
    }
    for name, figure in made.items():
        assert png_size(figure) < 250_000, name


def test_points_are_sampled_above_the_rule_and_the_caption_says_so(large):
    sizes = large.sizes("cement_distribution")
    assert min(sizes.values()) > figures.POINTS_PER_GROUP
    shown = figures.shown_points(large.data[["cement_distribution", "fvahl"]], "cement_distribution")
    assert shown.groupby("cement_distribution", observed=True).size().max() == figures.POINTS_PER_GROUP
    assert "random sample of 200 patients per type" in figures.points_rule(max(sizes.values()))
    assert figures.points_rule(40) == "points: every patient"


def test_the_audit_figure_shows_even_a_range_too_narrow_to_see_and_keeps_its_axis_label():
    from vertebroplasty.paper import audit

    ranges = audit.attainable_p_ranges()
    rka = ranges.set_index("variable").loc["rka_loss"]
    assert rka["high"] / rka["low"] < 1.3  # the printed summaries pin RKA loss's p to about 0.967–0.972
    figure, _ = figures.p_value_ranges(ranges)
    axis = figure.axes[0]
    y = len(ranges) - 1 - list(ranges["variable"]).index("rka_loss")
    squares = [collection for collection in axis.collections
               if len(collection.get_offsets()) == 1 and collection.get_offsets()[0][1] == y
               and rka["low"] <= collection.get_offsets()[0][0] <= rka["high"]]
    assert squares, "no visible marker for the RKA-loss range"
    assert axis.get_xlim()[1] > 1.0  # the range near 1 is not drawn on the frame's edge
    figure.canvas.draw()
    label = axis.xaxis.label.get_window_extent()
    assert label.x0 >= 0 and label.x1 <= figure.bbox.width  # the axis label fits the figure
    plt.close(figure)
