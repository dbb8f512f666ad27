"""The geometry of the server-drawn SVG charts, and the markup their macros make of it."""

import re
from itertools import pairwise

import pytest

from web.charts import (
    BarInput,
    LinearScale,
    ScatterInput,
    SeriesInput,
    bar_chart,
    format_number,
    line_chart,
    nice_step,
    quadrant_chart,
    value_scale,
)
from web.rendering import templates


def render_macro(name: str, chart, chart_id: str = "chart") -> str:
    return getattr(templates.get_template("reports/_charts.html").module, name)(chart, chart_id)


@pytest.mark.parametrize(("span", "count", "integer", "step"), [
    (100, 4, False, 50),  # 25 is not a 1-2-5 step: the next one up
    (10, 5, False, 2),
    (7, 5, False, 2),
    (1, 5, False, 0.2),
    (3, 5, True, 1),      # counts never step by 0.6
    (1234, 5, True, 500),
    (0, 5, False, 1),
])
def test_nice_steps_are_one_two_or_five_times_a_power_of_ten(span, count, integer, step):
    assert nice_step(span, count, integer=integer) == pytest.approx(step)


def test_value_scale_reaches_a_round_number_above_the_maximum():
    scale, ticks = value_scale(37, start=300, end=20, integer=True)
    assert (scale.low, scale.high) == (0, 40)
    assert [tick.label for tick in ticks] == ["0", "10", "20", "30", "40"]
    assert ticks[0].position == 300 and ticks[-1].position == 20  # upwards: SVG y goes down
    assert ticks[2].position == 160
    # Exactly on a tick: no extra empty step above it.
    assert value_scale(40, 0, 100, integer=True)[0].high == 40
    # Nothing to show still draws an axis from 0 to 1.
    empty, empty_ticks = value_scale(0, 0, 100, integer=True)
    assert (empty.high, [tick.label for tick in empty_ticks]) == (1, ["0", "1"])


def test_linear_scale_keeps_values_inside_the_plot():
    scale = LinearScale(0, 100, 50, 450)
    assert scale(0) == 50 and scale(100) == 450 and scale(25) == 150
    assert scale(-10) == 50 and scale(250) == 450


def test_numbers_are_formatted_for_people():
    assert [format_number(value) for value in (0, 12.0, 1200, 0.5, 3.25, 2.0 / 3)] == [
        "0", "12", "1,200", "0.5", "3.25", "0.67"]


def test_quadrant_chart_places_points_by_score_and_splits_at_fifty():
    chart = quadrant_chart([
        ScatterInput("Origin", 0, 0, "/reports/communities/1"),
        ScatterInput("Top right", 100, 100, "/reports/communities/2"),
        ScatterInput("Middle", 50, 50, "/reports/communities/3"),
        ScatterInput("Lopsided", 75, 25, "/reports/communities/4"),
    ], width=640, height=440)
    plot = chart.plot
    origin, top_right, middle, lopsided = chart.points
    assert (origin.cx, origin.cy) == (plot.left, plot.bottom)
    assert (top_right.cx, top_right.cy) == (plot.right, plot.top)
    assert (middle.cx, middle.cy) == (chart.divider_x, chart.divider_y)
    assert chart.divider_x == pytest.approx(plot.left + plot.width / 2)
    assert chart.divider_y == pytest.approx(plot.top + plot.height / 2)
    assert lopsided.cx == pytest.approx(plot.left + 0.75 * plot.width)
    assert lopsided.cy == pytest.approx(plot.bottom - 0.25 * plot.height)
    assert lopsided.title == "Lopsided: 75, 25" and lopsided.href == "/reports/communities/4"
    assert [tick.label for tick in chart.x_ticks] == ["0", "25", "50", "75", "100"]
    assert [tick.position for tick in chart.y_ticks] == sorted(
        (tick.position for tick in chart.y_ticks), reverse=True)
    labels = {label.text: label for label in chart.quadrant_labels}
    high_high = labels["High impact, high relevance"]
    assert high_high.x > chart.divider_x and high_high.y < chart.divider_y
    low_low = labels["Low impact, low relevance"]
    assert low_low.x < chart.divider_x and low_low.y > chart.divider_y


def test_quadrant_chart_markup_links_every_point_with_a_tooltip():
    chart = quadrant_chart([ScatterInput("PyData <Berlin>", 80, 20, "/reports/communities/7")])
    svg = render_macro("quadrant", chart, "quadrant")
    assert 'role="img"' in svg and 'aria-labelledby="quadrant-title"' in svg
    assert "Impact against relevance of 1 community" in svg
    point = re.search(r'<a class="point" href="([^"]+)"[^>]*>\s*<title>([^<]+)</title>\s*'
                      r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    assert point.groups() == ("/reports/communities/7", "PyData &lt;Berlin&gt;: 80, 20",
                              str(chart.points[0].cx), str(chart.points[0].cy))
    assert svg.count('class="point"') == 1
    assert "High impact, low relevance" in svg


def test_an_empty_quadrant_chart_still_has_axes_and_quadrants():
    chart = quadrant_chart([])
    assert chart.points == [] and len(chart.x_ticks) == 5
    svg = render_macro("quadrant", chart)
    assert 'class="point"' not in svg and "of 0 communities" in svg
    assert svg.count('stroke-dasharray="4 4"') == 1


def test_line_chart_spreads_periods_and_scales_each_series():
    chart = line_chart(["Oct", "Nov", "Dec"], [
        SeriesInput("New members", [2, 4, 0]),
        SeriesInput("Active members", [10, 7, 5]),
    ], y_label="Members", integer=True, width=640, height=300)
    plot = chart.plot
    new, active = chart.series
    assert [point.x for point in new.points] == [plot.left, plot.left + plot.width / 2,
                                                 plot.right]
    assert chart.y_ticks[-1].value == 10  # the scale fits the largest value of any series
    assert active.points[0].y == plot.top and new.points[2].y == plot.bottom
    assert new.points[1].y == pytest.approx(plot.bottom - 0.4 * plot.height)
    assert new.path.startswith(f"M{plot.left:g},") and new.path.count("L") == 2
    assert active.points[1].title == "Active members, Nov: 7"
    assert (new.color, new.dash) != (active.color, active.dash)
    assert [tick.label for tick in chart.x_ticks] == ["Oct", "Nov", "Dec"]
    assert chart.aria_label == "New members and active members over 3 periods, from Oct to Dec"


def test_line_chart_breaks_at_missing_values_and_thins_crowded_labels():
    labels = [f"W{week}" for week in range(1, 21)]
    values = [float(week) for week in range(1, 21)]
    values[5] = None
    chart = line_chart(labels, [SeriesInput("Activities per member", values)],
                       y_label="Activities")
    series = chart.series[0]
    assert len(series.points) == 19
    assert series.path.count("M") == 2  # a new stroke after the gap
    shown = [tick.label for tick in chart.x_ticks]
    assert shown[0] == "W1" and shown[-1] == "W20" and len(shown) <= 8
    for count in range(9, 60):  # never two labels side by side, wherever the last one falls
        positions = [tick.value for tick in line_chart(
            [str(n) for n in range(count)], [], y_label="").x_ticks]
        assert positions[0] == 0 and positions[-1] == count - 1 and len(positions) <= 8
        assert min(b - a for a, b in pairwise(positions)) >= 2


def test_line_chart_with_one_period_or_none():
    single = line_chart(["Nov"], [SeriesInput("Active members", [3])], y_label="Members",
                        integer=True)
    point = single.series[0].points[0]
    assert point.x == pytest.approx(single.plot.left + single.plot.width / 2)
    assert point.y == single.plot.top and single.series[0].path == f"M{point.x:g},{point.y:g}"
    assert single.aria_label == "Active members over 1 period"

    empty = line_chart([], [SeriesInput("Active members", [])], y_label="Members")
    assert empty.empty and empty.x_ticks == []
    svg = render_macro("lines", empty)
    assert 'class="point"' not in svg and 'role="img"' in svg


def test_bar_chart_lengths_are_proportional_and_rows_stack():
    chart = bar_chart([BarInput("Berlin", 40, "/reports/communities/1"),
                       BarInput("Lagos", 10, None), BarInput("Quiet", 0)],
                      value_label="Activities", integer=True)
    berlin, lagos, quiet = chart.bars
    assert berlin.width == chart.plot.width  # 40 is the top of a 0-40 axis
    assert lagos.width == pytest.approx(chart.plot.width / 4)
    assert quiet.width == 0
    assert berlin.x == lagos.x == chart.plot.left
    assert berlin.y < lagos.y < quiet.y and lagos.y - berlin.y == quiet.y - lagos.y
    assert quiet.y + quiet.height <= chart.plot.bottom
    svg = render_macro("bars", chart)
    assert svg.count('<g class="bar">') == 3
    assert '<a href="/reports/communities/1">' in svg and svg.count("<a href") == 1
    assert "<title>Lagos: 10</title>" in svg


def test_bar_chart_of_nothing_and_of_one():
    empty = bar_chart([], value_label="Activities")
    assert empty.bars == [] and empty.height > empty.plot.height
    one = bar_chart([BarInput("Only", 3.5)], value_label="Activities per member")
    assert one.bars[0].width == pytest.approx(one.plot.width * 3.5 / 4)
    assert one.bars[0].value_label == "3.5"
