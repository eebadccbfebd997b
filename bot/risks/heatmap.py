"""The risk heat map: a 5 × 5 grid of probability × impact with the open risks in each cell,
coloured by the team's bands. As plain values (`grid`, for the web page) and as a PNG (`png`, for
`/qms risk matrix` and the weekly digest), drawn with matplotlib's object API on the Agg canvas
(no pyplot, no display; imported when drawn). Every text is drawn as it is (`parse_math=False`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Iterable

from bot.core import render
from bot.risks.rules import band_of, bands_from, label
from storage import outbox
from storage import risks as store
from storage.risks import Risk

LEVELS = (1, 2, 3, 4, 5)
COLOURS = {"low": "#cfe8d5", "medium": "#fff1b8", "high": "#ffc99a", "critical": "#f4a1a1"}
NAMES_SHOWN = 4  # risk labels written in a PNG cell; the rest counted


@dataclass(frozen=True)
class CellRisk:
    key: str  # QR-001
    title: str
    owner_id: str
    score: int


@dataclass
class Cell:
    probability: int
    impact: int
    band: str
    risks: list[CellRisk] = field(default_factory=list)

    @property
    def score(self) -> int:
        return self.probability * self.impact

    @property
    def count(self) -> int:
        return len(self.risks)


@dataclass
class Grid:
    """rows[0] is probability 5 (the top of the picture), columns impact 1 to 5."""

    rows: list[list[Cell]]

    @property
    def total(self) -> int:
        return sum(cell.count for row in self.rows for cell in row)


def grid(risks: Iterable[Risk], bands: dict[str, int]) -> Grid:
    """The open risks among `risks`, placed by probability and impact, highest score first in a cell."""
    cells = {(p, i): Cell(p, i, band_of(p * i, bands)) for p in LEVELS for i in LEVELS}
    for risk in sorted(risks, key=lambda r: (-r.score, r.number)):
        if risk.is_open and (risk.probability, risk.impact) in cells:
            cells[(risk.probability, risk.impact)].risks.append(
                CellRisk(label(risk.number), risk.title, risk.owner_id, risk.score))
    return Grid([[cells[(p, i)] for i in LEVELS] for p in reversed(LEVELS)])


def png(heat: Grid, *, title: str, probability: str, impact: str) -> bytes:
    """The grid as a PNG: each cell its band's colour, its count, and the first risks' labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    figure = Figure(figsize=(7.5, 6.6), dpi=90)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.1, 0.1, 0.86, 0.8))
    figure.suptitle(title, fontsize=13, fontweight="bold", parse_math=False)
    for row in heat.rows:
        for cell in row:
            x, y = cell.impact - 1, cell.probability - 1
            ax.add_patch(Rectangle((x, y), 1, 1, facecolor=COLOURS[cell.band], edgecolor="white", linewidth=2))
            if cell.count:
                ax.text(x + 0.5, y + 0.68, str(cell.count), ha="center", va="center", fontsize=16,
                        fontweight="bold", parse_math=False)
                names = [r.key for r in cell.risks[:NAMES_SHOWN]]
                more = cell.count - len(names)
                text = "\n".join([" ".join(names[:2]), " ".join(names[2:])]).strip() + (f" +{more}" if more else "")
                ax.text(x + 0.5, y + 0.3, text, ha="center", va="center", fontsize=7, parse_math=False)
            else:
                ax.text(x + 0.92, y + 0.08, str(cell.score), ha="right", va="bottom", fontsize=7, color="#888888",
                        parse_math=False)
    ax.set_xlim(0, 5)
    ax.set_ylim(0, 5)
    ax.set_xticks([n + 0.5 for n in range(5)], [str(n) for n in LEVELS])
    ax.set_yticks([n + 0.5 for n in range(5)], [str(n) for n in LEVELS])
    ax.set_xlabel(impact, parse_math=False)
    ax.set_ylabel(probability, parse_math=False)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def team_png(session, team, *, now) -> tuple[bytes, int]:
    """The team's heat map of its open risks now, as a PNG, and how many risks it shows."""

    heat = grid(store.open_risks(session, team.workspace_id, team.id), bands_from(team.risk_bands))
    picture = png(heat, title=render.phrase("risks.heatmap_title", team=team.name, count=heat.total),
                  probability=render.phrase("risks.heatmap_probability"), impact=render.phrase("risks.heatmap_impact"))
    return picture, heat.total


def queue_png(session, team, channel: str, *, key: str, now) -> int:
    """Queue the team's heat map as a PNG file (files_upload_v2, through the outbox) to `channel`.
    Returns how many open risks it shows."""

    picture, total = team_png(session, team, now=now)
    outbox.enqueue_file(session, workspace_id=team.workspace_id, key=key, channel=channel,
                        filename=f"risk-heat-map-{now.date().isoformat()}.png",
                        title=render.phrase("risks.heatmap_title", team=team.name, count=total),
                        alt_txt=render.phrase("risks.heatmap_alt", team=team.name, count=total), content=picture,
                        now=now)
    return total
