"""Samples of the App Home view: no team, the user's team, and many teams with extreme figures."""

from tests.templates.samples_metrics import empty_report, extreme_report, realistic_report

SAMPLES = {
    "home/home.json.j2": ("view", [
        {"reports": [], "own": False, "more": 0, "any_team": False},
        {"reports": [realistic_report(), empty_report()], "own": True, "more": 0, "any_team": True},
        {"reports": [realistic_report()], "own": False, "more": 0, "any_team": True},
        {"reports": [extreme_report() for _ in range(5)], "own": True, "more": 195, "any_team": True},
    ]),
}
