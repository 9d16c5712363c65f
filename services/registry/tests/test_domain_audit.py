"""R51: what the semester audit lists for one record."""

from __future__ import annotations

from datetime import date, timedelta

from registry_driver import T0, enrolled

from xueji_contracts.messages.status import StatusState
from xueji_registry.domain.audit import Problem, findings
from xueji_registry.domain.person import StudentIdentity


def test_r51_r02_a_missing_status_file_is_listed_then_overdue_after_its_month():
    state = enrolled()
    assert [f.problem for f in findings(state, T0.date())] == [Problem.MISSING_STATUS_FILE]
    late = findings(state, state.status_file_due + timedelta(days=1))
    assert [(f.problem, f.rule, f.due) for f in late] == [(Problem.OVERDUE_STATUS_FILE, "R02", date(2026, 10, 1))]


def test_r51_r06_r14_invalid_id_and_suspected_duplicate_are_listed():
    state = enrolled()
    identity = StudentIdentity.model_construct(**{**state.identity.model_dump(), "id_number": "350602201903151230"})
    odd = state.model_copy(update={"identity": identity, "state": StatusState.PENDING_REVIEW, "status_file_due": None})
    found = {f.problem: f for f in findings(odd, T0.date())}
    assert set(found) == {Problem.INVALID_ID_NUMBER, Problem.SUSPECTED_DUPLICATE}
    assert "check character" in found[Problem.INVALID_ID_NUMBER].detail
    assert found[Problem.SUSPECTED_DUPLICATE].rule == "R14"


def test_r51_a_clean_record_has_nothing_to_report():
    clean = enrolled().model_copy(update={"status_file_due": None})
    assert findings(clean, T0.date()) == []


def test_r51_r05_a_g_number_no_recorded_change_explains_is_listed_but_a_re_applied_one_is_not():
    from xueji_registry.domain.record_events import NumberChangeCause

    clean = enrolled().model_copy(update={"status_file_due": None})
    other = "G350602201903151245"
    assert clean.identity.id_number is not None and other != "G" + clean.identity.id_number
    unexplained = clean.model_copy(update={"status_number": other})
    [finding] = findings(unexplained, T0.date())
    assert (finding.problem, finding.rule) == (Problem.G_NUMBER_DISCREPANCY, "R05")
    reapplied = unexplained.model_copy(update={"number_cause": NumberChangeCause.REAPPLIED})
    assert findings(reapplied, T0.date()) == []  # 003 Q6: changed by re-application, valid
