from tests.templates.samples import LONG

SAMPLES = {
    "help/usage.json.j2": ("message", [{"unknown": None}, {"unknown": "frobnicate"}, {"unknown": LONG}]),
    "home/home.json.j2": ("view", [{}]),
    "common/notice_modal.json.j2": ("view", [{"title": "Team setup", "text": "Done."},
                                             {"title": LONG, "text": LONG}]),
}
