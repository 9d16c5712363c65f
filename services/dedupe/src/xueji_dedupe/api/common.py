"""What the dedupe routes share: the service object they hand each request to."""

from __future__ import annotations

from fastapi import Request

from xueji_dedupe.service import DedupeService


def dedupe_of(request: Request) -> DedupeService:
    dedupe: DedupeService = request.app.state.dedupe
    return dedupe
