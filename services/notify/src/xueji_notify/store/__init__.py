"""Notify's MongoDB access, one module per collection family; nothing else here touches the store."""

from xueji_notify.store.assignments import Assignments
from xueji_notify.store.dashboard import DashboardStore
from xueji_notify.store.inbox import InboxStore
from xueji_notify.store.webhooks import WebhookStore

__all__ = ["Assignments", "DashboardStore", "InboxStore", "WebhookStore"]
