"""R52: a webhook sends status information out only on the competent bureau's written consent, whose reference is
recorded with it and sent with every delivery: a reference of spaces alone names no document and is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from xueji_notify.api.webhooks import WebhookRequest


def test_r52_a_consent_reference_of_spaces_alone_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as refused:
        WebhookRequest.model_validate({"url": "https://example.org/hook", "consent_reference": " \u3000  "})
    assert [e["loc"] for e in refused.value.errors()] == [("consent_reference",)]


def test_r52_the_consent_reference_and_url_are_kept_without_surrounding_spaces() -> None:
    hook = WebhookRequest.model_validate(
        {"url": " https://example.org/hook ", "consent_reference": " 漳教函〔2026〕12号 "}
    )
    assert (hook.url, hook.consent_reference) == ("https://example.org/hook", "漳教函〔2026〕12号")
