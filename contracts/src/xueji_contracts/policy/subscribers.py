"""R52: the systems that receive the public status feed, each on the competent bureau's written consent."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SUBSCRIBER_NAME = r"^[a-z][a-z0-9-]{1,40}$"


class StatusSubscriber(BaseModel):
    """One consented system: its name is its Kafka identity (`subscriber-<name>`, read access to the public topics
    only, consumer groups starting with `<name>`) and the `subscriber` claim of its HTTP token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=SUBSCRIBER_NAME)
    title: str = Field(min_length=1, description="what the system is, for the audit")
    consent_reference: str = Field(min_length=1, description="the written consent's reference (R52)")
    granted_by: str = Field(pattern=r"^\d{6}$", description="division code of the bureau that consented")


def registered(subscribers: tuple[StatusSubscriber, ...], name: str) -> StatusSubscriber | None:
    return next((s for s in subscribers if s.name == name), None)
