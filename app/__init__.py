"""The process layer: the one place that knows every layer (HTTP, Slack, the clock, the command line)."""
