from tests.templates.samples import LONG

SAMPLES = {
    "help/usage.json.j2": ("message", [{"unknown": None}, {"unknown": "frobnicate"}, {"unknown": LONG}]),
    "common/notice_modal.json.j2": ("view", [{"title": "Team setup", "text": "Done."},
                                             {"title": LONG, "text": LONG}]),
}
