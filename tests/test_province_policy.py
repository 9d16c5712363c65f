"""The province policy, really loaded (issue 20): the registry runs on the policy file XUEJI_PROVINCE selects. Hunan,
the second packaged province, works end to end over the real servers (registry and dedupe): an enrollment, its public
status event, the annual roster (R54); Hunan's policy sets no supplementary number layout (its measures are not
transcribed), so none is given (R07). A policy file with a mistake stops the start naming the field and the reason."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaConsumer

from xueji_contracts.policy import PolicyError
from xueji_contracts.topics import STUDENT_STATUS
from xueji_dedupe.app import create_app as create_dedupe
from xueji_dedupe.settings import DedupeSettings
from xueji_registry.app import create_app as create_registry
from xueji_registry.settings import RegistrySettings

HUNAN_SCHOOL = "4301020001"
# Admitted when the 2026 school year began: the annual roster of 2026 counts admissions by that date, which would
# otherwise be the day the test runs (a later school year's, once the wall clock passes August 2027).
PUPIL = {"school_code": HUNAN_SCHOOL, "name": "刘子涵", "id_number": "430102201805020017", "gender": "male",
         "birth_date": "2018-05-02", "grade": 1, "school_year": 2026, "admitted_on": "2026-09-01"}  # fmt: skip


def _as(token, role: str, code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, code)}"}


@pytest.mark.integration
async def test_hunan_enrollment_and_annual_roster_run_on_hunan_s_policy(start_app, token, isolation, wait_for):
    await start_app(create_dedupe, DedupeSettings, national_enabled=False, province="43")
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False, province="43")
    school = _as(token, "school", HUNAN_SCHOOL)
    created = await registry.post("/v1/students", json=PUPIL, headers=school)
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    assert created.json()["state"] == "enrolled"
    assert created.json()["status_number_masked"].startswith("L43")  # the county's L number
    assert created.json()["supplementary_numbers"] == {}  # R07: Hunan's policy sets no layout

    roster = await registry.get(f"/v1/rosters/annual/{HUNAN_SCHOOL}/2026", headers=school)
    assert roster.status_code == 200, roster.text
    assert [line["student_id"] for line in roster.json()["new_students"]] == [student]  # R54

    consumer = AIOKafkaConsumer(
        isolation.topic(STUDENT_STATUS.name), bootstrap_servers=isolation.servers.kafka, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    message = json.loads(record.value)
    assert (message["province"], message["payload"]["student_id"]) == ("43", student)


@pytest.mark.integration
async def test_hunan_graduation_roster_graduates_without_a_certificate_number_layout(start_app, token):
    """R46 under Hunan's policy: the roster is composed, submitted and approved; Hunan sets no number layout, so the
    certificates carry no number of this system's making (R08 numbers are Fujian's layout)."""
    await start_app(create_dedupe, DedupeSettings, national_enabled=False, province="43")
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False, province="43")
    junior_school = "4301020002"
    school, county = _as(token, "school", junior_school), _as(token, "county", "430102")
    pupil = {"school_code": junior_school, "name": "刘雨桐", "gender": "female", "birth_date": "2012-04-02",
             "grade": 9, "school_year": 2026, "segment": "junior"}  # fmt: skip
    created = await registry.post("/v1/students", json=pupil, headers=school)
    assert created.status_code == 201, created.text
    student = created.json()["student_id"]
    roster = f"/v1/rosters/graduation/{junior_school}/2027/junior"
    submitted = await registry.post(f"{roster}/submission", json={}, headers=school)
    assert submitted.status_code == 201, submitted.text
    [line] = submitted.json()["roster"]["graduates"]
    assert (line["student_id"], line["certificate_number"]) == (student, None)
    approved = await registry.post(f"{roster}/review", json={"approve": True, "reason": "审核通过"}, headers=county)
    assert approved.status_code == 200 and approved.json()["graduated"] == [student], approved.text
    assert (await registry.get(f"/v1/students/{student}", headers=school)).json()["state"] == "graduated"


@pytest.mark.parametrize(
    ("yaml", "field"),
    [
        ('code: "35"\nname: Fujian\nsuspension: {period_years: 0}\n', "suspension.period_years"),
        (
            'code: "35"\nname: Fujian\nsupplementary_number: {primary: "1 yy QQ", junior: "2", senior: "3"}\n',
            "supplementary_number.primary",
        ),
        ('code: "43"\nname: Hunan\n', "code"),  # a policy of another province than XUEJI_PROVINCE
    ],
)
def test_a_policy_file_with_a_mistake_fails_at_start_naming_the_field(tmp_path, yaml: str, field: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml, encoding="utf-8")
    settings = RegistrySettings(policy_file=policy, province="35", mongodb_database="never_used")
    with pytest.raises(PolicyError) as failed:
        create_registry(settings)
    assert field in str(failed.value) and str(policy) in str(failed.value)


@pytest.mark.integration
async def test_r54_r02_the_deadlines_come_from_the_policy_file(start_app, token, tmp_path):
    """A province whose policy gives 2 months for the annual rosters: the registry's deadline follows the file."""
    from importlib.resources import files

    fujian = files("xueji_contracts").joinpath("policies", "fj.yaml").read_text(encoding="utf-8")
    changed = fujian.replace("roster_months: 1", "roster_months: 2")
    assert changed != fujian
    policy = tmp_path / "policy.yaml"
    policy.write_text(changed, encoding="utf-8")
    registry = await start_app(create_registry, RegistrySettings, scheduler_enabled=False, policy_file=policy)
    school = "3506020001"
    roster = await registry.get(f"/v1/rosters/annual/{school}/2026", headers=_as(token, "school", school))
    assert roster.status_code == 200, roster.text
    assert roster.json()["due_at"] == "2026-11-01T16:00:00+00:00"  # 1 September + 2 months: 1 November ends (CST)


def _services() -> list[tuple[object, type]]:
    from xueji_dedupe.app import create_app as dedupe
    from xueji_notify.app import create_app as notify
    from xueji_notify.settings import NotifySettings
    from xueji_transfer.app import create_app as transfer
    from xueji_transfer.settings import TransferSettings

    return [(create_registry, RegistrySettings), (transfer, TransferSettings), (dedupe, DedupeSettings),
            (notify, NotifySettings)]  # fmt: skip


@pytest.mark.parametrize("service", range(4), ids=["registry", "transfer", "dedupe", "notify"])
def test_every_service_stops_at_start_on_a_policy_mistake_naming_the_field(tmp_path, service: int) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('code: "35"\nname: Fujian\nsla: {stage_working_days: 0}\n', encoding="utf-8")
    create_app, settings_cls = _services()[service]
    settings = settings_cls(policy_file=policy, province="35", mongodb_database="never_used")
    with pytest.raises(PolicyError, match=r"sla\.stage_working_days: Input should be greater than or equal to 1"):
        create_app(settings)  # type: ignore[operator]


@pytest.mark.parametrize("service", [0, 1], ids=["registry", "transfer"])
def test_r27_r29_r07_a_service_says_at_start_which_provincial_rules_hunan_leaves_unset(service: int, capsys) -> None:
    """No national rule stands in for them (docs/provinces.md): the start says so instead of staying silent."""
    create_app, settings_cls = _services()[service]
    create_app(settings_cls(province="43", mongodb_database="never_used"))  # type: ignore[operator]
    said = [line for line in capsys.readouterr().out.splitlines() if "policy_provincial_rules_unset" in line]
    assert len(said) == 1 and "43" in said[0] and "timing (R27" in said[0] and "reasons.compulsory (R29" in said[0]
    create_app(settings_cls(province="35", mongodb_database="never_used"))  # type: ignore[operator]
    assert "policy_provincial_rules_unset" not in capsys.readouterr().out  # Fujian sets them all
