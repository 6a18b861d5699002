"""The reports' charts in a real browser: the colours of outcomes say what they mean."""
import colorsys
import random

import pytest

from app.infra import clock
from bench.board import seed
from browser import PASSWORD, browser, logged_in, staff_accounts  # noqa: F401  (fixtures by name)

pytestmark = pytest.mark.browser

OPEN = ("submitted", "confirmed", "ready", "in_transit")


def hue_and_saturation(colour: str) -> tuple[float, float]:
    red, green, blue = (int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    hue, _lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    return hue * 360, saturation


def test_the_final_state_chart_colours_each_outcome_by_its_meaning(app, live_server, browser, staff_accounts):
    with app.app_context():
        seed(20, now=clock.now(), rng=random.Random(3), finished=30)
    page = logged_in(browser, live_server.url, "maya", PASSWORD, path="/reports")
    page.wait_for_selector('canvas[data-chart="states"][data-drawn]')
    colours = page.evaluate("""() => {
        const chart = Chart.getChart(document.querySelector('canvas[data-chart="states"]'));
        const fill = chart.data.datasets[0].backgroundColor;
        const css = getComputedStyle(document.documentElement);
        const states = JSON.parse(document.getElementById('report-charts').textContent).states.states;
        return Object.fromEntries(states.map((state, i) =>
            [state, [fill[i], css.getPropertyValue('--c-' + state).trim()]]));
    }""")

    assert set(colours) == {*OPEN, "completed", "rejected", "cancelled"}
    for state, (drawn, board) in colours.items():
        assert drawn == board, state  # the board's colour for the state: one definition
    hue = {state: hue_and_saturation(drawn)[0] for state, (drawn, _) in colours.items()}
    assert 90 <= hue["completed"] <= 160  # green
    for bad in ("rejected", "cancelled"):
        assert hue[bad] <= 35 or hue[bad] >= 345, bad  # red to orange
    for state in OPEN:
        assert 180 <= hue[state] <= 275, state  # cool: cyan, blue, indigo, violet
    assert len({drawn for drawn, _ in colours.values()}) == len(colours)  # each slice tells apart
    assert page.errors == [] and page.dialogs == []
