"""Bare Bolt App on Flask, for gunicorn: `gunicorn -w 2 --threads 8 bench.anchors.bolt_flask:web`.
SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and SLACK_API_URL (a LocalSlack) come from the environment."""

import os

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from bench.anchors import ANSWER

app = App(client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
          signing_secret=os.environ["SLACK_SIGNING_SECRET"])


@app.command("/qms")
def qms(ack):
    ack(**ANSWER)


handler = SlackRequestHandler(app)
web = Flask(__name__)


@web.post("/slack/events")
def events():
    return handler.handle(request)


@web.get("/healthz")
def healthz():
    return {"status": "ok"}
