"""Signs and directions read plainly: no "-33 % lower", whatever the sign of the figure."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from assets.report.wording import directional, directional_range, wording_problems

finite = st.floats(-1e4, 1e4, allow_nan=False)


def test_the_double_negatives_of_the_old_page_are_found():
    assert wording_problems("-33.15 % lower MFU than the reference") == ["-33.15 % lower"]
    assert wording_problems("band -5.1 to 48.8% lower") == ["-5.1 to 48.8% lower"]
    assert wording_problems("33.15% higher MFU; 2026-01 prices; C-3 lower") == []


def test_a_negative_gap_is_said_the_other_way_round():
    assert directional(-33.15, "% lower MFU than the reference") == (
        "33.15% higher MFU than the reference"
    )
    assert directional(12.0, "% lower MFU") == "12% lower MFU"
    assert directional(-2.0, "MW") == "-2 MW"
    assert directional_range(-48.83, -5.1, "lower") == "5.1-48.83% higher"
    assert directional_range(-5.0, 20.0, "lower") == "from 5% higher to 20% lower"


@given(value=finite, low=finite, high=finite)
@example(value=0.0, low=0.0, high=-1.0)  # once printed "-0-1% higher"
def test_no_figure_in_words_is_a_double_negative(value, low, high):
    lo, hi = min(low, high), max(low, high)
    text = f"{directional(value, '% lower MFU')} (band {directional_range(lo, hi, 'lower')})"
    assert wording_problems(text) == [], text


def test_negative_zero_reads_as_zero():
    assert directional(-0.0, "% lower MFU") == "0% lower MFU"
    assert directional_range(-0.0, 1.0, "lower") == "0-1% lower"
    assert directional_range(-0.0, -0.0, "lower") == "0-0% lower"
    # a range ending at 0 on the negative side: flipping the 0 must not print "-0"
    assert directional_range(-1.0, 0.0, "lower") == "0-1% higher"
