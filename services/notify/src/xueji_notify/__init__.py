"""Notify service: notifications for the responsible jurisdiction, webhooks and the SLA dashboard."""
