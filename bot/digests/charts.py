"""The weekly digest's chart: each main KPI over the last weeks against its target, as a PNG.

matplotlib's object API on the Agg canvas: no pyplot, no global state and no display, so charts
can be drawn from any thread of the clock. matplotlib is imported when a chart is drawn, so that
the web process, which never draws one, does not pay for loading it.

Every text is drawn as it is (`parse_math=False`): a team named "FinOps $$ team" is not TeX.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

COLUMNS = 3
MET, MISSED, TARGET, GRID = "#2a9d8f", "#e76f51", "#6c757d", "#e9ecef"


@dataclass(frozen=True)
class Panel:
    """One KPI's small chart: a value per week (None where nothing was measured) and its target."""

    title: str  # "DoR pass rate (%)"
    comparator: str  # ">" or "<"
    target: float
    values: list[float | None]
    ceiling: float | None = None  # 100 for a percentage: the axis never goes past it
    target_text: str = ""  # "target > 90 %", beside the title


def kpi_chart(title: str, weeks: list[str], panels: list[Panel]) -> bytes:
    """A grid of small line charts, one per KPI, with the target as a dashed line. PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = max(1, -(-len(panels) // COLUMNS))
    figure = Figure(figsize=(4.2 * COLUMNS, 2.6 * rows + 0.9), dpi=90)
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=13, fontweight="bold", y=1 - 0.25 / (2.6 * rows + 0.9), parse_math=False)
    axes = figure.subplots(rows, COLUMNS, squeeze=False).flatten()
    for ax, panel in zip(axes, panels):
        _draw(ax, weeks, panel)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    # Fixed margins: matplotlib's automatic layout engines cost more than the drawing itself.
    height = 2.6 * rows + 0.9
    figure.subplots_adjust(left=0.05, right=0.98, bottom=0.5 / height, top=1 - 0.9 / height, hspace=0.6,
                           wspace=0.18)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _draw(ax, weeks: list[str], panel: Panel) -> None:
    from matplotlib.ticker import MaxNLocator

    positions = range(len(weeks))
    points = [(x, v) for x, v in zip(positions, panel.values) if v is not None]
    ax.axhline(panel.target, color=TARGET, linestyle="--", linewidth=1)
    if points:
        xs, ys = zip(*points)
        ax.plot(xs, ys, color=TARGET, linewidth=1.2, zorder=2)
        colors = [MET if _meets(panel, y) else MISSED for y in ys]
        ax.scatter(xs, ys, c=colors, s=28, zorder=3)
    # The target is named in the title (no legend to place); a fixed y spares a layout pass.
    ax.set_title(" · ".join(filter(None, (panel.title, panel.target_text))), fontsize=10, loc="left", y=1.03,
                 parse_math=False)
    ax.set_xticks(list(positions), weeks, fontsize=7, parse_math=False)
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", color=GRID)
    ax.set_xlim(-0.5, len(weeks) - 0.5)
    low = min([panel.target, *[y for _, y in points]])
    high = max([panel.target, *[y for _, y in points]])
    margin = max((high - low) * 0.15, abs(high) * 0.05, 1)
    top = high + margin if panel.ceiling is None else min(high + margin, panel.ceiling + margin / 3)
    ax.set_ylim(max(low - margin, 0) if low >= 0 else low - margin, top)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _meets(panel: Panel, value: float) -> bool:
    return value > panel.target if panel.comparator == ">" else value < panel.target
