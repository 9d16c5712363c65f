"""Prometheus metrics every service exposes on /metrics (one process runs one service)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_CONSUMED = Counter("xueji_messages_consumed_total", "Messages handled by a consumer", ["topic", "outcome"])
MESSAGES_SKIPPED = Counter(
    "xueji_messages_skipped_total",
    "Messages passed over by the contract policy (a type not known here)",
    ["topic", "reason"],
)
FIELDS_IGNORED = Counter(
    "xueji_message_fields_ignored_total",
    "Fields of a known message type and version that this consumer's contracts do not know (a newer producer's "
    "additions), passed over on the way in",
    ["topic", "type"],
)
DEAD_LETTERS = Counter("xueji_dead_letters_total", "Messages sent to a dead-letter topic", ["topic", "error"])
HANDLER_SECONDS = Histogram("xueji_handler_seconds", "Time spent handling one message", ["topic"])
RELAY_PUBLISHED = Counter("xueji_relay_published_total", "Events published by the outbox relay", ["topic"])
RELAY_BACKLOG = Gauge("xueji_relay_backlog", "Stored commits the relay has not published yet (last batch)")
RELAY_FOLLOW_UP_FAILED = Counter(
    "xueji_relay_follow_up_failed_total",
    "Follow-ups of published commits the relay gave up on after its retries and parked (alert on any increase; "
    "python -m xueji_kit.followups requeue after the fix)",
    ["follower"],
)
RELAY_IS_LEADER = Gauge("xueji_relay_leader", "1 while this replica holds the relay lease")
HTTP_REQUESTS = Counter("xueji_http_requests_total", "HTTP requests served", ["method", "route", "status"])
TIMERS_FIRED = Counter("xueji_timers_fired_total", "Durable timers fired", ["kind"])
TIMERS_FAILED = Counter(
    "xueji_timers_failed_total", "Durable timers whose every attempt failed, parked for an operator", ["kind"]
)
TIMER_FIRING_DELAY = Histogram(
    "xueji_timer_firing_delay_seconds",
    "How late a timer fired after its due time",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
