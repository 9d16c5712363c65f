"""Notify settings: the shared service settings plus the dashboard's, webhooks' and e-mail's (XUEJI_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from xueji_kit.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    dashboard_interval_seconds: float = Field(default=0.5, gt=0, description="how often counts are brought up to date")
    dashboard_feed_seconds: float = Field(default=1.0, gt=0, description="how often pages hear of changed counts")
    dashboard_sweep_seconds: float = Field(default=900, gt=0, description="full recount, in case a change was missed")
    dashboard_days_kept: int = Field(
        default=400, ge=31, description="days a jurisdiction's record of a day (dashboard_days) is kept; pruned daily"
    )
    school_directory_file: Path | None = Field(
        default=None,
        description="the province's school directory, the registry's file (XUEJI_SCHOOL_DIRECTORY_FILE): titles name "
        "schools as name（code）; without it they carry codes",
    )
    webhook_max_attempts: int = Field(default=10, ge=1, le=30)
    webhook_backoff_seconds: float = Field(default=10.0, gt=0, description="first retry after about this long")
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_tick_seconds: float = Field(default=1.0, gt=0, description="how often due deliveries are looked for")
    webhook_stale_claim_seconds: float = Field(
        default=60.0, gt=0, description="a delivery attempt claimed by a replica that died is tried again after this"
    )
    webhook_deliveries_kept_days: int = Field(
        default=30,
        ge=1,
        description="days a webhook delivery is kept after it ended (delivered or failed); then "
        "removed with its log entry. Pending ones are kept",
    )
    webhook_retention_seconds: float = Field(
        default=3600, gt=0, description="how often deliveries past the retention are looked for"
    )
    webhook_retention_batch: int = Field(
        default=2000,
        ge=1,
        description="delivery log entries one retention run reads at most (a backlog takes runs a few seconds apart)",
    )
    webhook_ca_file: Path | None = Field(default=None, description="CA bundle for receivers; default: system CAs")
    webhook_allow_http: bool = Field(default=False, description="development only: accept http:// endpoints")
    smtp_host: str = Field(default="", description="e-mail delivery is off while empty")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "xueji-notify@localhost"
    # Where the operators' workbench (served here at /workbench) finds the other services' APIs. The defaults are
    # one ingress in front of all four (deploy/k8s/base/common/ingress.yaml): same origin, no CORS. The local stack
    # points them at each service's own port, and those services allow this origin (XUEJI_CORS_ORIGINS).
    workbench_registry_url: str = Field(default="/registry", description="registry's API as the browser reaches it")
    workbench_transfer_url: str = Field(default="/transfer", description="transfer's API as the browser reaches it")
    workbench_dedupe_url: str = Field(default="/dedupe", description="dedupe's API as the browser reaches it")
    workbench_notify_url: str = Field(default="", description="notify's own API as the browser reaches it")
    workbench_token_refresh_url: str = Field(
        default="", description="the identity provider's endpoint the page asks for a fresh token before expiry"
    )
    workbench_token_exchange_url: str = Field(
        default="", description="where the page trades a sign-in link's one-time code for a token (local stack)"
    )

    @model_validator(mode="after")
    def _claims_outlive_an_attempt(self) -> NotifySettings:
        """A claim taken over while its attempt may still be running would deliver twice at once."""
        if self.webhook_stale_claim_seconds <= self.webhook_timeout_seconds:
            raise ValueError("webhook_stale_claim_seconds must exceed webhook_timeout_seconds")
        return self
