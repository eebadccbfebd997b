"""`qms-bot shell`: QMS Bot in a terminal, without Slack.

What you type becomes the request Slack would send (signed, through the real Bolt app and
handlers); the bot's Web API calls go to a LocalSlack on loopback, and whatever it records —
ephemeral answers, channel messages, DMs, modals, Home views, files — is printed here. A modal is
filled in by answering one prompt per field. Buttons and checkboxes get numbers: `press 3`.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, TextIO

from slack_bolt import BoltRequest

from app import clock, slack_requests
from app.bolt import build_app
from app.local_slack import Call, LocalSlack
from app.services import build_runtime
from bot.core.settings import Settings
from bot.core.timeutil import clock_ahead, shift_clock, utcnow

PEOPLE = [  # the seed's review matrix, so the examples of the guide work as they read
    ("alice", "Alice D.", True), ("bob", "Bob R.", False), ("carol", "Carol S.", False),
    ("dave", "Dave L.", False), ("eve", "Eve M.", False), ("frank", "Frank P.", False),
    ("grace", "Grace H.", False), ("henry", "Henry T.", False), ("ivy", "Ivy L.", False),
]
CHANNELS = ["general", "payments", "platform", "incidents", "qms-digest"]
TEAM_ID = "T0LOCAL"
CLEAR = "-"  # typed for an optional field: empty it (Enter keeps what is there)
CONSOLE_WEBHOOK_KEY = "qms-console-webhook-key"

HELP = """\
Type what you would type in Slack, e.g. `/qms help`, `/qms risk`, `/qms incident list`.
  press N          press button N (or tick/untick checkbox N) of what was printed last
  as NAME          type as another person (`users` lists them)
  in CHANNEL       type in another channel (`channels` lists them)
  users, channels  who and where
  home             open the bot's App Home tab
  clock            run every job of the clock that is due now (escalations, reminders, digests)
  time [+25h|-2d|2026-12-07 09:00|now]
                   show or move the console's clock (then `clock` runs what came due)
  webhook FILE     send a GitHub webhook payload file, signed as GitHub would (add --gitlab for
                   GitLab, --event NAME to name its event); its repository must be a team's:
                   `/qms setup github add owner/name`
  dashboard        serve the web dashboard on PORT and print a sign-in link for you
  help             this text
In a form, Enter keeps a field's current value and - empties it.
  quit             leave (Ctrl-D works too)"""


def local_workspace() -> LocalSlack:
    """The Slack stand-in, started, with the console's people and channels (`qms-bot serve --local-slack` too)."""
    slack = LocalSlack(team_id=TEAM_ID, remember_updates=True).start()
    for name, real_name, admin in PEOPLE:
        slack.add_user("U" + name.upper(), name, real_name=real_name, is_admin=admin)
    people = tuple("U" + name.upper() for name, _, _ in PEOPLE)
    for name in CHANNELS:
        slack.add_channel("C" + name.upper().replace("-", ""), name, members=people)
    return slack


class UnknownName(ValueError):
    """`--as` or `--channel` names nobody the console knows."""


@dataclass
class Control:
    """A button or checkbox printed with a number, and where it lives."""

    element: dict[str, Any]
    block_id: str | None
    channel: str | None = None
    message: dict[str, Any] | None = None
    view: dict[str, Any] | None = None
    option: dict[str, Any] | None = None  # for a checkbox: the option this number toggles


class Console:
    def __init__(self, settings: Settings, *, user_name: str = "alice", channel_name: str = "general",
                 stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout):
        self.stdin, self.stdout = stdin, stdout
        self.slack = local_workspace()
        self.secret = secrets.token_hex(16)
        # Webhook secrets are made from a key: a fixed one here, so that they outlive the console's run
        # (its Slack signing secret is new each time).
        local = replace(settings, slack_api_url=self.slack.api_url, slack_signing_secret=self.secret,
                        slack_bot_token="xoxb-local-console",
                        webhook_secret_key=settings.webhook_secret_key or CONSOLE_WEBHOOK_KEY,
                        slack_channel_rate=0)  # the local stand-in has no rate limit to keep to
        self.services = build_runtime(local)
        self.app = build_app(self.services, signing_secret=self.secret)
        self.user = self._user(user_name)
        self.channel = self.slack.channel_by_name(channel_name.lower())
        if self.user is None or self.channel is None:
            self.slack.stop()
            raise UnknownName(f"no user {user_name!r} (try: {', '.join(n for n, _, _ in PEOPLE)})" if self.user is None
                              else f"no channel {channel_name!r} (try: {', '.join(CHANNELS)})")
        self.controls: list[Control] = []
        self._seen = 0

    # --- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        self.say(f"QMS Bot console — you are @{self.user['name']} in #{self.channel['name']}. "
                 "Type `help` for help, `/qms help` for the bot.")
        try:
            while True:
                line = self.ask(f"{self.user['name']}@#{self.channel['name']}> ")
                if line is None or line.strip() in ("quit", "exit"):
                    break
                self.handle(line.strip())
        finally:
            if getattr(self, "_web", None) is not None:
                self._web.close()
            self.slack.stop()
            self.services.db.dispose()

    def handle(self, line: str) -> None:
        if not line:
            return
        word, _, rest = line.partition(" ")
        if word.startswith("/"):
            return self.command(word, rest)
        actions: dict[str, Callable[[str], None]] = {
            "help": lambda _: self.say(HELP), "as": self.switch_user, "in": self.switch_channel,
            "users": lambda _: self.say(", ".join(f"{u['name']} ({u['real_name']})" for u in self._people())),
            "channels": lambda _: self.say(", ".join("#" + c["name"] for c in self._channels())),
            "press": self.press, "home": lambda _: self.open_home(), "webhook": self.webhook,
            "dashboard": lambda _: self.dashboard(),
            "clock": lambda _: self.run_clock(), "time": self.move_time,
        }
        if word in actions:
            return actions[word](rest.strip())
        self.say("I don't know that. Type `help`.")

    def run_clock(self) -> None:
        """What a clock process would do at the console's time: every job once, then what it sent."""
        now = utcnow()
        clock.sweep(self.services, now=now)
        self.say(f"The clock ran at {now:%a %d %b %Y %H:%M} UTC.")
        self.show_new_calls()

    def move_time(self, text: str) -> None:
        """`time +25h`, `time -2d`, `time 2026-12-07 09:00` (UTC), `time now`; alone, the time it is."""
        text = text.strip()
        if text:
            target = _time_from(text, utcnow())
            if target is None:
                return self.say("Say `time +25h`, `time +3d`, `time +90m`, `time 2026-12-07 09:00` (UTC) or `time now`.")
            shift_clock(target - (utcnow() - clock_ahead()))
        ahead = clock_ahead()
        self.say(f"It is {utcnow():%a %d %b %Y %H:%M} UTC in the console"
                 + (f" ({_span(ahead)} ahead of this machine)." if ahead > timedelta(0) else
                    f" ({_span(-ahead)} behind this machine)." if ahead < timedelta(0) else ".")
                 + (" Type `clock` to run what came due." if text else ""))

    def switch_user(self, name: str) -> None:
        user = self._user(name)
        if user is None:
            return self.say(f"No user {name!r}. Type `users`.")
        self.user = user
        self.say(f"You are now @{user['name']}.")

    def switch_channel(self, name: str) -> None:
        channel = self.slack.channel_by_name(name.lower())
        if channel is None:
            return self.say(f"No channel {name!r}. Type `channels`.")
        self.channel = channel
        self.say(f"You are now in #{channel['name']}.")

    # --- requests, as Slack would send them ---------------------------------------------------
    def command(self, command: str, text: str) -> None:
        text = self._escaped(text)
        body = slack_requests.slash_command(
            command=command, text=text, user_id=self.user["id"], user_name=self.user["name"],
            channel_id=self.channel["id"], channel_name=self.channel["name"], team_id=TEAM_ID,
            response_url=self.slack.response_url("command"))
        self.controls = []  # numbers refer to what this command prints
        self.dispatch(body)

    def press(self, number: str) -> None:
        if not (number.isascii() and number.isdecimal()) or not 0 < int(number) <= len(self.controls):
            return self.say("Press which? Give a number shown in [brackets].")
        control = self.controls[int(number) - 1]
        confirm = control.element.get("confirm")
        if confirm:  # Slack asks before pressing such a button; so do we
            self.say(f"{confirm['title']['text']}: {_plain(confirm['text']['text'], self)}")
            answer = self.ask(f"{confirm['confirm']['text']} / {confirm['deny']['text']}? [y/N] ")
            if (answer or "").strip().lower() not in ("y", "yes"):
                return self.say("(not pressed)")
        action = {"action_id": control.element.get("action_id"), "block_id": control.block_id,
                  "type": control.element["type"]}
        if control.element["type"] == "checkboxes":
            selected = {o["value"]: o for o in control.element.get("initial_options", [])}
            value = control.option["value"]
            selected.pop(value) if value in selected else selected.setdefault(value, control.option)
            action["selected_options"] = list(selected.values())
        else:
            action.update(value=control.element.get("value", ""), text=control.element.get("text"))
        payload = slack_requests.block_action(
            action=action, user_id=self.user["id"], team_id=TEAM_ID, response_url=self.slack.response_url("action"),
            channel_id=control.channel, message=control.message, view=control.view)
        self.controls = []
        self.dispatch(slack_requests.interaction(payload))

    def dashboard(self) -> None:
        """Serve the web app (the dashboard among it) on PORT while the console runs, once, and print a
        single-use sign-in link for the person typing."""
        from app import dashboard_server

        if getattr(self, "_web", None) is None:
            from app.web import create_web_app
            web = create_web_app(self.app, self.services, signing_secret=self.secret)
            try:
                self._web = dashboard_server.start(web, port=self.services.settings.port)
            except OSError as error:
                return self.say(f"Cannot serve the dashboard on port {self.services.settings.port}: "
                                f"{error.strerror}. Set PORT to a free one.")
        self.say(dashboard_server.link(self.services, TEAM_ID, self.user["id"], admin=bool(self.user.get("is_admin"))))

    def webhook(self, args: str) -> None:
        """A payload file through POST /webhooks/github (or gitlab), signed with its team's secret."""
        from app import webhook_requests
        from app.web import create_web_app

        words = args.split()
        gitlab = "--gitlab" in words
        event = words[words.index("--event") + 1] if "--event" in words[:-1] else None
        paths = [w for i, w in enumerate(words) if not w.startswith("--") and (i == 0 or words[i - 1] != "--event")]
        if len(paths) != 1:
            return self.say("Usage: webhook FILE [--gitlab] [--event NAME]")
        try:
            with open(paths[0], "rb") as file:
                body = file.read()
        except OSError as error:
            return self.say(f"Cannot read {paths[0]}: {error.strerror}.")
        provider = "gitlab" if gitlab else "github"
        payload = webhook_requests.load(body)
        with self.services.db.transaction() as session:
            secret = webhook_requests.secret_for_payload(session, payload, provider,
                                                         key=self.services.settings.webhook_key)
        if secret is None:
            return self.say(f"No team has {webhook_requests.repository_of(payload, provider) or 'its repository'} "
                            f"with a {provider} webhook yet: `/qms setup {provider} add …` in the team's channel.")
        event = event or webhook_requests.event_of(payload, provider)
        headers = webhook_requests.github_headers(secret, body, event=event) if provider == "github" \
            else webhook_requests.gitlab_headers(secret, event=event)
        web = create_web_app(self.app, self.services, signing_secret=self.secret)
        answer = web.test_client().post(f"/webhooks/{provider}", data=body, headers=headers)
        self.services.wait_idle()
        self.say(f"({event}: HTTP {answer.status_code} {answer.get_data(as_text=True).strip()})")
        self.show_new_calls()

    def open_home(self) -> None:
        """What Slack sends when you open the bot's Home tab."""
        event = {"type": "app_home_opened", "user": self.user["id"], "tab": "home"}
        self.controls = []
        # Each opening is a new event: an id unique across console runs, or the bot's "handled already"
        # record from an earlier run on the same database would swallow it as one of Slack's retries.
        body = slack_requests.event_callback(event=event, team_id=TEAM_ID, event_id=f"Ev{uuid.uuid4().hex[:16]}")
        self.dispatch(body, content_type="application/json")

    def dispatch(self, body: str, content_type: str = "application/x-www-form-urlencoded") -> dict[str, Any] | None:
        headers = {"Content-Type": content_type, **slack_requests.sign(self.secret, body)}
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        self.app.listener_runner.listener_executor.wait_idle()
        self.services.wait_idle()  # and the messages the change queued
        answer = _json(response.body)
        if response.status >= 400:
            self.say(f"(the bot answered HTTP {response.status})")
        elif answer.get("response_action"):
            return answer
        elif answer:
            self.show_message(answer, heading="only you see this")
        self.show_new_calls()
        return None

    def _escaped(self, text: str) -> str:
        """What Slack does to a command's text with should_escape (see manifest.yml): &, < and >
        are escaped, links become <https://…>, @name <@U…|name> and #channel <#C…|channel>."""
        def user(match):
            found = self._user(match.group(1))
            return f"<@{found['id']}|{found['name']}>" if found else match.group(0)

        def channel(match):
            found = self.slack.channel_by_name(match.group(1))
            return f"<#{found['id']}|{found['name']}>" if found else match.group(0)

        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = re.sub(r"https?://[^\s<>]+", lambda match: f"<{match.group(0)}>", text)
        text = re.sub(r"(?<![\w<])@([a-z0-9._-]+)", user, text)
        return re.sub(r"(?<![\w<])#([a-z0-9._-]+)", channel, text)

    # --- what the bot sent --------------------------------------------------------------------
    def show_new_calls(self) -> None:
        calls = self.slack.calls[self._seen:]
        self._seen = len(self.slack.calls)
        for call in calls:
            if call.status != 200 or not call.response.get("ok"):
                if call.method not in ("auth.test",):
                    self.say(f"(Slack refused {call.method}: {call.response.get('error')})")
                continue
            self.show_call(call)

    def show_call(self, call: Call) -> None:
        args = call.args
        if call.method == "chat.postMessage":
            self.show_message(args, heading=self._where(call.response.get("channel"), args.get("thread_ts")),
                              channel=call.response.get("channel"), message=call.response.get("message"))
        elif call.method == "chat.update":
            message = next((m for m in self.slack.messages.get(call.response["channel"], [])
                            if m["ts"] == call.response["ts"]), None)
            self.show_message(args, heading=self._where(call.response["channel"]) + ", updated",
                              channel=call.response["channel"], message=message)
        elif call.method == "chat.postEphemeral":
            self.show_message(args, heading=f"only @{self._name(args.get('user'))} sees this")
        elif call.method == "response_url":
            heading = "everyone in the channel sees this" if args.get("response_type") == "in_channel" \
                else "only you see this"
            self.show_message(args, heading=heading)
        elif call.method in ("views.open", "views.push"):
            self.fill_modal(call.response["view"])
        elif call.method == "views.update":
            self.say("(the open form changed)")
        elif call.method == "views.publish":
            self.show_message(args["view"], heading=f"App Home of @{self._name(args['user_id'])}",
                              view=args["view"])
        elif call.method == "files.completeUploadExternal":
            for file in call.response.get("files", []):
                self.say(f"(file {file['name']} shared in {self._where(args.get('channel_id'))})")
        elif call.method == "conversations.create":
            self.say(f"(channel #{call.response['channel']['name']} created)")

    def show_message(self, payload: dict[str, Any], *, heading: str, channel: str | None = None,
                     message: dict[str, Any] | None = None, view: dict[str, Any] | None = None) -> None:
        self.say(f"── {heading} " + "─" * max(0, 60 - len(heading)))
        blocks = payload.get("blocks") or []
        if not blocks:
            self.say(_plain(payload.get("text", ""), self))
        for block in blocks:
            for line in self._block_lines(block, channel, message, view):
                self.say(line)

    def _block_lines(self, block, channel, message, view) -> list[str]:
        kind = block.get("type")
        if kind == "header":
            title = _plain(block["text"]["text"], self)
            return ["", "  " + title, "  " + "═" * min(len(title), 60)]
        if kind == "section":
            lines = []
            if block.get("text"):
                lines += ["  " + line for line in _plain(block["text"]["text"], self).splitlines()]
            for item in block.get("fields", []):
                lines += ["  " + line for line in _plain(item["text"], self).splitlines()]
            if block.get("accessory", {}).get("type") == "button":
                lines.append("  " + self._control(block["accessory"], block, channel, message, view))
            return lines
        if kind == "context":
            return ["  " + " ".join(_plain(e.get("text", ""), self) for e in block.get("elements", []))]
        if kind == "divider":
            return ["  " + "·" * 40]
        if kind == "actions":
            parts = []
            for element in block.get("elements", []):
                if element["type"] == "checkboxes":
                    ticked = {o["value"] for o in element.get("initial_options", [])}
                    for option in element["options"]:
                        number = self._add_control(Control(element, block.get("block_id"), channel, message, view,
                                                           option))
                        mark = "☑" if option["value"] in ticked else "☐"
                        parts.append(f"\n  [{number}] {mark} {_plain(option['text']['text'], self)}")
                elif element["type"] == "button":
                    parts.append(self._control(element, block, channel, message, view))
            return ["  " + "  ".join(parts).lstrip("\n  ")]
        if kind == "image":
            return [f"  (image: {block.get('alt_text', '')})"]
        return []

    def _control(self, element, block, channel, message, view) -> str:
        number = self._add_control(Control(element, block.get("block_id"), channel, message, view))
        return f"[{number}] {element['text']['text']}"

    def _add_control(self, control: Control) -> int:
        self.controls.append(control)
        return len(self.controls)

    # --- modals ---------------------------------------------------------------------------------
    def fill_modal(self, view: dict[str, Any]) -> None:
        self.say(f"┌─ {view['title']['text']} " + "─" * 40)
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                for line in self._block_lines(block, None, None, view):
                    self.say("│" + line)
        if "submit" not in view:  # a modal that only says something (a notice): nothing to fill in
            self.say("└─ (" + view.get("close", {}).get("text", "Close") + ")")
            return
        values: dict[str, dict[str, Any]] = {}
        wrong: dict[str, str] = {}
        while True:
            for block in view.get("blocks", []):
                if block.get("type") == "input" and (not wrong or block["block_id"] in wrong):
                    if block["block_id"] in wrong:
                        self.say(f"│ ⚠ {wrong[block['block_id']]}")
                    state = self._prompt_input(block)
                    if state is None:
                        self.say("└─ (form cancelled)")
                        return
                    values[block["block_id"]] = {block["element"].get("action_id", "value"): state}
            submit = view.get("submit", {}).get("text", "Submit")
            answer = self.ask(f"└─ {submit}? [Y/n] ")
            if answer is None or answer.strip().lower() in ("n", "no"):
                self.say("(form cancelled)")
                return
            payload = slack_requests.view_submission(view=view, values=values, user_id=self.user["id"],
                                                     team_id=TEAM_ID)
            result = self.dispatch(slack_requests.interaction(payload))
            if result and result.get("response_action") == "errors":
                wrong = result.get("errors", {})
                self.say("│ Some fields need another look:")
                continue
            if result and result.get("response_action") in ("update", "push"):
                return self.fill_modal(result["view"])
            return

    def _prompt_input(self, block: dict[str, Any]) -> dict[str, Any] | None:
        element = block["element"]
        kind = element["type"]
        label = block["label"]["text"] + ("" if not block.get("optional") else " (optional)")
        if block.get("hint"):
            self.say(f"│ ({block['hint']['text']})")
        if kind in ("static_select", "multi_static_select", "radio_buttons"):
            return self._prompt_options(label, element, multi=kind.startswith("multi"))
        initial = {
            "plain_text_input": element.get("initial_value"), "users_select": self._name(element.get("initial_user")),
            "datepicker": element.get("initial_date"),
            "conversations_select": self._channel_name(element.get("initial_conversation")),
            "multi_users_select": ", ".join(self._name(u) for u in element.get("initial_users", [])),
        }.get(kind)
        suffix = f" [{initial}; Enter keeps it, - clears it]" if initial else ""
        if kind == "plain_text_input" and element.get("multiline"):
            self.say(f"│ {label}{suffix} — several lines; an empty line ends:")
            lines = []
            while (line := self.ask("│   ")) not in (None, ""):
                lines.append(line)
            text = "\n".join(lines) or (initial or "")
            return {"type": kind, "value": None if text.strip() == CLEAR else text or None}
        raw = self.ask(f"│ {label}{suffix}: ")
        if raw is None:
            return None
        raw = raw.strip() or (initial or "")
        if raw == CLEAR:
            raw = ""
        if kind == "plain_text_input":
            return {"type": kind, "value": raw or None}
        if kind == "users_select":
            user = self._user(raw) if raw else None
            if raw and user is None:
                self.say(f"│ No user {raw!r} (try: {', '.join(u['name'] for u in self._people())})")
                return self._prompt_input(block)
            return {"type": kind, "selected_user": user["id"] if user else None}
        if kind == "multi_users_select":
            names = [n.strip() for n in raw.split(",") if n.strip()]
            users = [self._user(n) for n in names]
            if None in users:
                self.say(f"│ Unknown user among {names}")
                return self._prompt_input(block)
            return {"type": kind, "selected_users": [u["id"] for u in users]}
        if kind in ("conversations_select", "channels_select"):
            channel = self.slack.channel_by_name(raw) if raw else None
            if raw and channel is None:
                self.say(f"│ No channel {raw!r}")
                return self._prompt_input(block)
            return {"type": kind, "selected_conversation": channel["id"] if channel else None}
        if kind == "datepicker":
            if raw and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                self.say("│ A date looks like 2026-12-31")
                return self._prompt_input(block)
            return {"type": kind, "selected_date": raw or None}
        return {"type": kind, "value": raw or None}

    def _prompt_options(self, label: str, element: dict[str, Any], *, multi: bool) -> dict[str, Any] | None:
        options = element.get("options", [])
        initial = element.get("initial_options") if multi else [element.get("initial_option")]
        initial_values = [o["value"] for o in initial or [] if o]
        self.say(f"│ {label}:")
        for number, option in enumerate(options, 1):
            mark = "*" if option["value"] in initial_values else " "
            self.say(f"│  {mark}{number}. {option['text']['text']}")
        raw = self.ask("│ " + ("numbers, comma-separated" if multi else "number")
                       + (" [Enter keeps *, - clears]" if initial_values else "") + ": ")
        if raw is None:
            return None
        raw = raw.strip()
        if raw == CLEAR:
            chosen = []
        elif not raw:
            chosen = [o for o in options if o["value"] in initial_values]
        else:
            picks = [p.strip() for p in raw.split(",")] if multi else [raw]
            if not all(p.isascii() and p.isdecimal() and 0 < int(p) <= len(options) for p in picks):
                self.say("│ Pick by number.")
                return self._prompt_options(label, element, multi=multi)
            chosen = [options[int(p) - 1] for p in picks]
        if multi:
            return {"type": element["type"], "selected_options": chosen}
        return {"type": element["type"], "selected_option": chosen[0] if chosen else None}

    # --- small things ---------------------------------------------------------------------------
    def ask(self, prompt: str) -> str | None:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self.stdout.write("\n")
            return None
        if not self.stdin.isatty():
            self.stdout.write(line if line.endswith("\n") else line + "\n")  # echo piped input
        return line.rstrip("\n")

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _people(self) -> list[dict[str, Any]]:
        return [u for u in self.slack.users.values() if not u["is_bot"]]

    def _channels(self) -> list[dict[str, Any]]:
        return [c for c in self.slack.channels.values() if not c.get("is_im")]

    def _user(self, name: str) -> dict[str, Any] | None:
        name = name.strip().lstrip("@").lower()
        return self.slack.users.get(name.upper()) or self.slack.user_by_name(name)

    def _name(self, user_id: str | None) -> str:
        user = self.slack.users.get(user_id or "")
        return user["name"] if user else (user_id or "")

    def _channel_name(self, channel_id: str | None) -> str:
        channel = self.slack.channels.get(channel_id or "")
        return channel["name"] if channel else (channel_id or "")

    def _where(self, channel_id: str | None, thread_ts: str | None = None) -> str:
        channel = self.slack.channels.get(channel_id or "", {})
        where = f"DM to @{self._name(channel.get('user'))}" if channel.get("is_im") \
            else f"#{channel.get('name', channel_id)}"
        return where + (", in a thread" if thread_ts else "")


def _plain(mrkdwn: str, console: Console) -> str:
    """Slack's mrkdwn as a terminal shows it: mentions by name, dates by their fallback."""
    text = re.sub(r"<@([A-Z0-9]+)>", lambda m: "@" + console._name(m.group(1)), mrkdwn)
    text = re.sub(r"<#([A-Z0-9]+)(\|[^>]*)?>", lambda m: "#" + console._channel_name(m.group(1)), text)
    text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<!(here|channel)>", r"@\1", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


SHIFT = re.compile(r"^([+-])\s*(\d{1,5})\s*(m|min|h|d|w)$", re.IGNORECASE)
UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _time_from(text: str, now: datetime) -> datetime | None:
    """`+25h` from now, `2026-12-07 09:00` (UTC), `now` (the machine's time); None otherwise."""
    if text.lower() == "now":
        return now - clock_ahead()
    if match := SHIFT.match(text):
        span = timedelta(**{UNITS[match[3].lower()]: int(match[2])})
        return now + span if match[1] == "+" else now - span
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _span(span: timedelta) -> str:
    minutes = int((span.total_seconds() + 30) // 60)
    days, rest = divmod(minutes, 24 * 60)
    return " ".join(part for part in (f"{days} d" if days else "", f"{rest // 60} h" if rest // 60 else "",
                                       f"{rest % 60} min" if rest % 60 else "") if part) or "0 min"


def _json(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    try:
        value = json.loads(body or "{}")
    except (TypeError, json.JSONDecodeError):
        return {"text": body} if body else {}
    return value if isinstance(value, dict) else {}
