"""Charts drawn on the server as SVG. This module only computes geometry (pixel positions, ticks,
labels); the macros in templates/reports/_charts.html turn it into markup. No JavaScript and no
charting library: a chart is part of the page, readable without scripts, printable, and testable
by its numbers.

Coordinates are SVG user units in a fixed `viewBox`; the browser scales the whole drawing to the
width it gets, so the geometry never depends on the screen."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Series are told apart by dash pattern as well as colour, for readers who cannot tell the colours.
SERIES_STYLES = (("#c2410c", ""), ("#1d4ed8", "6 4"), ("#067647", "2 3"), ("#7c3aed", "10 3 2 3"))
# The most x labels a time axis shows before it skips some (they would overlap).
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Box:
    """The plotting area inside the drawing: where the axes are."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class Tick:
    value: float
    position: float
    label: str


@dataclass(frozen=True)
class LinearScale:
    """Maps values in [low, high] to pixels in [start, end]; start may be greater than end (a
    y axis grows upwards while SVG's y grows downwards)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        clamped = min(max(value, self.low), self.high)
        return round(self.start + (clamped - self.low) / (self.high - self.low)
                     * (self.end - self.start), 2)

    def ticks(self, step: float) -> list[Tick]:
        count = round((self.high - self.low) / step)
        values = [self.low + index * step for index in range(count + 1)]
        return [Tick(value, self(value), format_number(value)) for value in values]


def format_number(value: float) -> str:
    """12, 1,200, 0.5, 3.25: no trailing zeros, thousands grouped."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def nice_step(span: float, count: int = 5, *, integer: bool = False) -> float:
    """A step of 1, 2 or 5 times a power of ten that cuts `span` into about `count` parts (the
    steps people read at a glance). Counts never get fractional steps."""
    if span <= 0:
        return 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(factor * magnitude for factor in (1, 2, 5, 10) if factor * magnitude >= raw)
    return max(step, 1.0) if integer else step


def value_scale(maximum: float, start: float, end: float, *, integer: bool = False,
                count: int = 5) -> tuple[LinearScale, list[Tick]]:
    """A scale from zero to a round number at or above `maximum`, with its ticks. All zeros (or
    nothing) still get an axis from 0 to 1, so an empty chart looks like a chart."""
    step = nice_step(maximum, count, integer=integer)
    high = max(math.ceil(maximum / step - 1e-9) * step, step)
    scale = LinearScale(0.0, high, start, end)
    return scale, scale.ticks(step)


def _sparse_labels(count: int) -> set[int]:
    """Which of `count` x labels to print: evenly spread, always the first and the last."""
    if count <= MAX_X_LABELS:
        return set(range(count))
    every = math.ceil((count - 1) / (MAX_X_LABELS - 1))
    shown = list(range(0, count, every))
    if count - 1 - shown[-1] < every:
        shown.pop()  # it would crowd the last label, which is always shown
    return {*shown, count - 1}


# Relevance and impact: the quadrant chart ------------------------------------------------------


@dataclass(frozen=True)
class ScatterInput:
    label: str
    x: float
    y: float
    href: str


@dataclass(frozen=True)
class ScatterPoint:
    label: str
    href: str
    x_value: float
    y_value: float
    cx: float
    cy: float

    @property
    def title(self) -> str:
        return f"{self.label}: {format_number(self.x_value)}, {format_number(self.y_value)}"


@dataclass(frozen=True)
class PlacedLabel:
    text: str
    x: float
    y: float
    anchor: str  # SVG text-anchor: start, middle or end


@dataclass(frozen=True)
class QuadrantChart:
    width: int
    height: int
    plot: Box
    points: list[ScatterPoint]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    x_label: str
    y_label: str
    divider_x: float
    divider_y: float
    quadrant_labels: list[PlacedLabel]
    aria_label: str


QUADRANT_LABELS = (  # (high x?, high y?) -> name; x is relevance, y is impact
    ((False, True), "High impact, low relevance"),
    ((True, True), "High impact, high relevance"),
    ((False, False), "Low impact, low relevance"),
    ((True, False), "Low impact, high relevance"),
)


def quadrant_chart(points: Sequence[ScatterInput], *, x_label: str = "Relevance",
                   y_label: str = "Impact", width: int = 640, height: int = 440,
                   divider: float = 50.0, maximum: float = 100.0) -> QuadrantChart:
    """Scores from 0 to `maximum` on both axes, split into quadrants at `divider`."""
    plot = Box(left=56, top=16, width=width - 56 - 16, height=height - 16 - 52)
    x_scale = LinearScale(0.0, maximum, plot.left, plot.right)
    y_scale = LinearScale(0.0, maximum, plot.bottom, plot.top)
    # Quarters: the dividers fall on a tick and each quadrant gets a grid line through it.
    step = maximum / 4
    plotted = [ScatterPoint(point.label, point.href, point.x, point.y,
                            x_scale(point.x), y_scale(point.y)) for point in points]
    inset = 8
    labels = [
        PlacedLabel(text,
                    plot.right - inset if high_x else plot.left + inset,
                    plot.top + 16 if high_y else plot.bottom - inset,
                    "end" if high_x else "start")
        for (high_x, high_y), text in QUADRANT_LABELS
    ]
    summary = (f"{y_label} against {x_label.lower()} of {len(plotted)} "
               f"communit{'y' if len(plotted) == 1 else 'ies'}, each from 0 to "
               f"{format_number(maximum)}")
    return QuadrantChart(width, height, plot, plotted, x_scale.ticks(step), y_scale.ticks(step),
                         x_label, y_label, x_scale(divider), y_scale(divider), labels, summary)


# Values over time: the line chart --------------------------------------------------------------


@dataclass(frozen=True)
class SeriesInput:
    name: str
    values: Sequence[float | None]  # one per x label; None where there is no value


@dataclass(frozen=True)
class LinePoint:
    index: int  # the position of its x label
    x: float
    y: float
    value: float
    title: str


@dataclass(frozen=True)
class PlottedSeries:
    name: str
    color: str
    dash: str
    points: list[LinePoint]

    @property
    def path(self) -> str:
        """An SVG path that breaks where a value is missing instead of bridging the gap."""
        commands = []
        for previous, point in zip([None, *self.points], self.points, strict=False):
            joined = previous is not None and point.index == previous.index + 1
            commands.append(f"{'L' if joined else 'M'}{point.x:g},{point.y:g}")
        return " ".join(commands)


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot: Box
    series: list[PlottedSeries]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    y_label: str
    aria_label: str

    @property
    def empty(self) -> bool:
        return not any(series.points for series in self.series)


def line_chart(labels: Sequence[str], series: Sequence[SeriesInput], *, y_label: str,
               integer: bool = False, width: int = 640, height: int = 300) -> LineChart:
    """Each series a line over the same x labels (periods, oldest first)."""
    plot = Box(left=56, top=16, width=width - 56 - 24, height=height - 16 - 40)
    values = [value for one in series for value in one.values if value is not None]
    y_scale, y_ticks = value_scale(max(values, default=0), plot.bottom, plot.top, integer=integer)
    spacing = plot.width / (len(labels) - 1) if len(labels) > 1 else 0.0

    def x_of(index: int) -> float:
        # A single period sits in the middle rather than on the y axis.
        return round(plot.left + index * spacing if len(labels) > 1
                     else plot.left + plot.width / 2, 2)

    shown = _sparse_labels(len(labels))
    x_ticks = [Tick(index, x_of(index), label) for index, label in enumerate(labels)
               if index in shown]
    plotted = []
    for number, one in enumerate(series):
        color, dash = SERIES_STYLES[number % len(SERIES_STYLES)]
        points = [LinePoint(index, x_of(index), y_scale(value), value,
                            f"{one.name}, {labels[index]}: {format_number(value)}")
                  for index, value in enumerate(one.values[:len(labels)]) if value is not None]
        plotted.append(PlottedSeries(one.name, color, dash, points))
    names = " and ".join(one.name.lower() for one in series)
    summary = (f"{names} over {len(labels)} period{'' if len(labels) == 1 else 's'}"
               + (f", from {labels[0]} to {labels[-1]}" if len(labels) > 1 else ""))
    return LineChart(width, height, plot, plotted, x_ticks, y_ticks, y_label,
                     summary[:1].upper() + summary[1:])


# Values per item: the horizontal bar chart -----------------------------------------------------


@dataclass(frozen=True)
class BarInput:
    label: str
    value: float
    href: str | None = None


@dataclass(frozen=True)
class PlottedBar:
    label: str
    value: float
    href: str | None
    x: float
    y: float
    width: float
    height: float

    @property
    def value_label(self) -> str:
        return format_number(self.value)

    @property
    def title(self) -> str:
        return f"{self.label}: {self.value_label}"


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot: Box
    bars: list[PlottedBar]
    ticks: list[Tick]
    value_label: str
    aria_label: str


BAR_HEIGHT = 22
BAR_GAP = 8
# Room on the left for the names; longer names are cut in the drawing, complete in the tooltip.
LABEL_WIDTH = 170


def bar_chart(bars: Sequence[BarInput], *, value_label: str, integer: bool = False,
              width: int = 640) -> BarChart:
    """One bar per item, longest first order kept as given; the drawing grows with the items."""
    rows = max(len(bars), 1)
    height = 16 + rows * (BAR_HEIGHT + BAR_GAP) + 40
    plot = Box(left=LABEL_WIDTH, top=16, width=width - LABEL_WIDTH - 48,
               height=rows * (BAR_HEIGHT + BAR_GAP))
    scale, ticks = value_scale(max((bar.value for bar in bars), default=0), plot.left,
                               plot.right, integer=integer)
    plotted = [PlottedBar(bar.label, bar.value, bar.href, plot.left,
                          plot.top + index * (BAR_HEIGHT + BAR_GAP) + BAR_GAP / 2,
                          round(scale(bar.value) - plot.left, 2), BAR_HEIGHT)
               for index, bar in enumerate(bars)]
    summary = f"{value_label} for {len(plotted)} item{'' if len(plotted) == 1 else 's'}"
    return BarChart(width, height, plot, plotted, ticks, value_label, summary)
