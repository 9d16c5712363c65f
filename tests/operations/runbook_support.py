"""What the runbook's tests share besides fixtures."""

from __future__ import annotations

from typing import Any


async def metric_value(client: Any, name: str, **labels: str) -> float:
    """A sample of the service's /metrics as Prometheus scrapes it (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
