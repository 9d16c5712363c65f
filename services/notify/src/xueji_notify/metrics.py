"""Notify's own Prometheus metrics (the shared consumer and timer metrics come from xueji_kit)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NOTIFICATIONS = Counter("xueji_notifications_total", "Notifications stored (redeliveries not counted)", ["kind"])
BREACHES = Counter(
    "xueji_sla_breaches_total", "Stage breaches seen for the first time, by the level escalated to", ["level"]
)
STAGES = Gauge(
    "xueji_sla_stages", "Stages in the province by state (set by the dashboard aggregator's leader)", ["state"]
)
PROJECTION_DELAY = Histogram(
    "xueji_dashboard_projection_delay_seconds",
    "From an event's occurrence to its counts being on the dashboard",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
AGGREGATE_SECONDS = Histogram("xueji_dashboard_aggregate_seconds", "Time to recount the dirty nodes of one tick")
SSE_CLIENTS = Gauge("xueji_dashboard_live_clients", "Dashboard pages connected for live updates")
WEBHOOK_DELIVERIES = Counter(
    "xueji_webhook_deliveries_total", "Webhook delivery attempts by outcome", ["outcome"]
)  # delivered, retrying, failed (after the last try), refused (4xx: not retried)
WEBHOOKS_DEACTIVATED = Counter(
    "xueji_webhooks_deactivated_total", "Webhooks deactivated by notify itself, by reason", ["reason"]
)  # gone: the receiver answered 410
WEBHOOK_DELIVERIES_PRUNED = Counter(
    "xueji_webhook_deliveries_pruned_total",
    "Webhook deliveries removed by the retention (XUEJI_WEBHOOK_DELIVERIES_KEPT_DAYS after they ended)",
)
WEBHOOK_SECONDS = Histogram("xueji_webhook_delivery_seconds", "Duration of one webhook request")
EMAILS = Counter("xueji_emails_total", "E-mail notifications by outcome", ["outcome"])
