"""The heat map's grid: open risks placed by probability and impact, cells coloured by the team's bands."""

from datetime import UTC, datetime

from bot.risks import heatmap
from bot.risks.rules import DEFAULT_BANDS
from storage.risks import Risk

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def risk(number: int, probability: int, impact: int, status: str = "open") -> Risk:
    return Risk(id=number, workspace_id="T", team_id=1, number=number, title=f"Risk {number}", category="technical",
                probability=probability, impact=impact, score=probability * impact, owner_id="UALICE", status=status,
                created_by="UALICE", created_at=NOW, updated_at=NOW)


def test_open_risks_land_in_their_cell_highest_first_and_closed_ones_nowhere():
    heat = heatmap.grid([risk(1, 5, 4), risk(2, 5, 4), risk(3, 1, 1, status="closed"), risk(4, 2, 3)], DEFAULT_BANDS)
    assert heat.total == 3
    top = heat.rows[0]  # probability 5
    assert [c.probability for c in top] == [5] * 5 and [c.impact for c in top] == [1, 2, 3, 4, 5]
    assert [r.key for r in top[3].risks] == ["QR-001", "QR-002"] and top[3].band == "critical"
    assert heat.rows[3][2].count == 1 and heat.rows[3][2].band == "medium"  # p2 × i3 = 6
    assert heat.rows[4][0].count == 0 and heat.rows[4][0].band == "low"


def test_cells_follow_the_teams_own_bands():
    heat = heatmap.grid([], {"medium": 3, "high": 6, "critical": 9})
    assert heat.rows[2][2].band == "critical"  # 3 × 3 = 9
    assert heat.rows[4][2].band == "medium"  # 1 × 3


def test_the_png_is_a_picture_of_the_grid():
    picture = heatmap.png(heatmap.grid([risk(n, 1 + n % 5, 1 + n % 3) for n in range(1, 60)], DEFAULT_BANDS),
                          title="Risk heat map · $$Payments$$", probability="Probability", impact="Impact")
    assert picture.startswith(b"\x89PNG\r\n\x1a\n") and len(picture) > 5_000
