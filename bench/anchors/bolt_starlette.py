"""Bare Bolt AsyncApp on Starlette, for uvicorn: `uvicorn bench.anchors.bolt_starlette:web`.
SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and SLACK_API_URL (a LocalSlack) come from the environment."""

import os

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.anchors import ANSWER

app = AsyncApp(client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
               signing_secret=os.environ["SLACK_SIGNING_SECRET"])


@app.command("/qms")
async def qms(ack):
    await ack(**ANSWER)


handler = AsyncSlackRequestHandler(app)


async def events(request: Request):
    return await handler.handle(request)


async def healthz(request: Request):
    return JSONResponse({"status": "ok"})


web = Starlette(routes=[Route("/slack/events", endpoint=events, methods=["POST"]),
                        Route("/healthz", endpoint=healthz, methods=["GET"])])
