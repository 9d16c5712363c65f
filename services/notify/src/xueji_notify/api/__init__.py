"""Notify HTTP routes: the inbox, webhooks, the SLA dashboard, the workbench page and stage assignments."""

from xueji_notify.api import assignments, dashboard, inbox, webhooks, workbench

# In the order the routes were mounted before they moved here (the OpenAPI document lists them in this order).
routers = (inbox.router, webhooks.router, dashboard.router, dashboard.page, workbench.page, assignments.router)
