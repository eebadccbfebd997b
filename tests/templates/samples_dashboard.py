"""Samples of the dashboard's one Slack message: the sign-in link, for localhost and for a long public URL."""

SAMPLES = {
    "dashboard/link.json.j2": ("message", [
        {"url": "http://localhost:3000/dashboard/signin?token=" + "A" * 43, "minutes": 10},
        {"url": "https://qms.example.com/" + "p" * 2000 + "/dashboard/signin?token=" + "A" * 43, "minutes": 10},
    ]),
}
