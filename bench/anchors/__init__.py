"""The bare Bolt apps `serve` is measured against: one `/qms` listener that acks a static answer."""

ANSWER = {
    "response_type": "ephemeral",
    "text": "QMS Bot: what you can type",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*QMS Bot*: `/qms risk`, `/qms review`, "
                                                                      "`/qms incident`, `/qms metrics`"}}],
}
