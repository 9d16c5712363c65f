"""Settings every service reads from the environment (documented in README.md, "Configuration")."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Built once at start-up; a missing or malformed variable stops the service with its name."""

    model_config = SettingsConfigDict(env_prefix="XUEJI_", extra="ignore", frozen=True)

    service_name: str = "xueji"
    province: str = Field(default="35", pattern=r"^[1-8][0-9]$")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "XUEJI_KAFKA_BOOTSTRAP_SERVERS"),
    )
    mongodb_uri: str = Field(
        default="mongodb://127.0.0.1:27027/",
        validation_alias=AliasChoices("MONGODB_URI", "XUEJI_MONGODB_URI"),
    )
    mongodb_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        description="off unless set: every store operation (a command, a whole cursor's reading, with the driver's"
        " retries) answers within this or counts as the store being away (pymongo's timeoutMS). Set it only where"
        " the largest read fits (an audit of a county, a minute of timers, dedupe's index): one that does not"
        " fails every time",
    )
    mongodb_socket_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="no single answer from the store is waited for longer: a store that stops answering without"
        " closing the connection (a dropped path, a hung host) fails the operation after this at most",
    )
    mongodb_connect_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="opening a store connection; also how long the driver's health check waits before it takes the"
        " store for away, which fails the operations waiting on it (a silent store: a request answers 503 within"
        " about a heartbeat, 10 s, and this); a store slower than this to answer the check counts as away too",
    )
    kafka_security_protocol: str = Field(default="PLAINTEXT", pattern=r"^(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$")
    kafka_sasl_mechanism: str = Field(default="SCRAM-SHA-512", pattern=r"^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$")
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ca_file: Path | None = Field(default=None, description="CA bundle verifying the brokers' TLS certificates")
    mongodb_database: str = ""
    policy_file: Path | None = Field(default=None, description="province policy YAML; default: the packaged one")
    calendar_file: Path | None = Field(default=None, description="working-day calendar JSON; default: packaged")
    topic_prefix: str = Field(default="", description="prepended to every topic name (isolation)")
    consumer_group_prefix: str = ""
    jwt_public_key_file: Path | None = None
    jwt_public_key: str = ""
    jwt_issuer: str = "xueji"
    jwt_audience: str = "xueji"
    log_format: str = Field(default="json", pattern=r"^(json|console)$")
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    relay_interval_seconds: float = Field(default=0.2, gt=0)
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    handler_retries: int = Field(default=3, ge=0, le=20)
    kafka_request_timeout_seconds: float = Field(
        default=15.0,
        gt=10,
        description="the longest the service waits for the broker to answer one request (a produce, a fetch, a"
        " group request) before it takes the connection for dead and makes a new one; above the consumer's 10 s"
        " session timeout",
    )
    kafka_ready_grace_seconds: float = Field(
        default=10.0, ge=0, description="readiness turns false once the broker has not answered for this long"
    )
    idempotency_kept_hours: float = Field(
        default=24, gt=0, description="an Idempotency-Key is kept this long after its first request, then expires"
    )
    idempotency_prune_seconds: float = Field(default=3600, gt=0, description="how often expired keys are removed")
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="origins (scheme://host:port) whose pages may call this service from a browser: the operators'"
        " workbench when it is served from another origin (local stack); empty behind one ingress",
    )

    @property
    def database_name(self) -> str:
        return self.mongodb_database or f"xueji_{self.service_name}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        return f"{self.consumer_group_prefix}{self.topic_prefix}{name}"

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError("XUEJI_KAFKA_SASL_USERNAME and XUEJI_KAFKA_SASL_PASSWORD are required with SASL")
        return self

    def served_province(self) -> str:
        """Whose operators' tokens this deployment accepts, besides the Ministry's (R50): the province's two digits;
        "" for a deployment that serves the nation (the national tier)."""
        return self.province

    def public_key(self) -> str:
        if self.jwt_public_key:
            return self.jwt_public_key
        if self.jwt_public_key_file is not None:
            return self.jwt_public_key_file.read_text()
        return ""
