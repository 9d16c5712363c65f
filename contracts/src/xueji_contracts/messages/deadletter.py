"""Payload on every `<topic>.dlq`: the message that could not be handled, byte for byte, and why."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class DeadLetterHeader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    value_base64: str


class DeadLetter(BaseModel):
    """One letter, or one part of it: the original value is kept exactly, base64-encoded, and split into `parts`
    letters of at most `PART_BYTES` original bytes each, so every letter fits the broker's default 1 MiB message size
    whatever the original's size (a compressed batch may hold records far larger). Part 0 carries the headers and a
    short readable `body`; `sha256` and `size` let a replay check it reassembled the original exactly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    original_topic: str
    partition: int
    offset: int
    key: str | None = Field(description="the key as text, for reading (undecodable bytes replaced)")
    key_base64: str | None = None
    consumer_group: str | None
    error_type: str
    reason: str = Field(max_length=2000)
    attempts: int
    failed_at: AwareDatetime
    body: str = Field(description="the first characters of the value as text, for reading only; see value_base64")
    headers: list[DeadLetterHeader] = []
    value_base64: str = ""
    size: int = Field(default=0, description="bytes of the original value")
    sha256: str = ""
    part: int = 0
    parts: int = 1


PART_BYTES = 384 * 1024  # 512 KiB once in base64
BODY_PREVIEW = 2000  # characters
