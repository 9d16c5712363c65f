"""The requests a replica keeps so that their verdicts need not read them back from the store (R14)."""

from __future__ import annotations

from datetime import UTC, datetime

from xueji_contracts.auth import OperatorClaims, Role
from xueji_registry.domain.enrollment_request import EnrollmentRequest, decide_request
from xueji_registry.recent_requests import RecentRequests


def test_a_provinces_intake_uploaded_at_once_is_kept_until_its_verdicts_come_back():
    """A 100,000-student import uploads faster than dedupe answers; kept for 20,000, three of four verdicts read their
    request back (one store lookup each, most of the registry's store time at 100,000)."""
    body = EnrollmentRequest(
        school_code="3506020001", name="王小明", id_number="350602201901010019", gender="male",
        birth_date="2019-01-01", grade=1, school_year=2026, basic={"guardian_name": "王大明"},
    )  # fmt: skip
    requested = decide_request(body, OperatorClaims(sub="t", role=Role.SCHOOL, code="3506020001"), datetime.now(UTC))
    recent = RecentRequests()
    for n in range(100_000):
        recent.keep(f"stu_{n}", requested)
    assert recent.take("stu_0") == requested, "the first of the intake is still kept, and comes back as it went in"
    assert recent.take("stu_0") is None, "taken once"
