"""Two registry replicas, both started as `make run` starts them, while three schools upload a class each through
the bulk endpoint of one of them: the other is killed with SIGKILL at random moments and started again. Each restart
moves partitions of the verdicts' topic back to it while the surviving replica may still be numbering a batch of them
(a consumer that lost its partitions finishes what it holds: a "zombie"), so both can work on the same students at
once. Every row accepted ends with exactly one record and one R07 number, each school's numbers are 1..n without a
gap ("no broken codes", R07), and the consistency checker finds no difference."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chaos
from test_crash_under_load import _all_enrolled, _registry, dedupe_answering_unique, numbers_and_differences

from xueji_contracts.identity import check_character

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
COUNTY, YEAR = "350602", 2026
SCHOOLS = ["3506020001", "3506020002", "3506020003"]
PUPILS = 120  # per school, under `make test`
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红玲梅鹏飞宇浩然欣怡子涵梓轩雨泽思琪博文晨阳佳豪"


def _class_sheet(school: int, pupils: int) -> bytes:
    """A class as a clerk's CSV: distinct children with valid ID numbers of the county, born in 2019."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "性别", "出生日期", "身份证件号", "年级"])
    for i in range(pupils):
        born = date(2019, 1 + i % 12, 1 + i // 12 % 28)
        first17 = f"{COUNTY}{born:%Y%m%d}{school}{i // 336:01d}{i % 10}"[:17]
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7 + school) % len(GIVEN)] + GIVEN[(i * 11 + 3) % len(GIVEN)]
        writer.writerow([name, "男" if i % 2 else "女", born.isoformat(),
                         first17 + check_character(first17), "1"])  # fmt: skip
    return out.getvalue().encode("utf-8")


async def _upload(client: httpx.AsyncClient, auth: dict[str, str], school: int, pupils: int) -> list[str]:
    """The class sent until answered (a retry carries the same Idempotency-Key, as the workbench's does)."""
    files = {"file": (f"class-{school}.csv", _class_sheet(school, pupils), "text/csv")}
    form = {"school_code": SCHOOLS[school], "school_year": str(YEAR)}
    headers = auth | {"Idempotency-Key": f"class-{SCHOOLS[school]}-{YEAR}"}
    for _ in range(30):
        try:
            answer = await client.post("/v1/students/bulk", files=files, data=form, headers=headers, timeout=60)
        except httpx.HTTPError:
            await asyncio.sleep(1)
            continue
        if answer.status_code in (409, 503):
            await asyncio.sleep(1)
            continue
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["errors"] == [], body["errors"]
        return [s["student_id"] for s in body["students"]]
    raise AssertionError(f"class {SCHOOLS[school]} never answered")


async def _states(client: httpx.AsyncClient, ids: list[str], auth: dict[str, str]) -> dict[str, int]:
    """How many of `ids` are in each state (their records' states, or the answer's status): what a failure says."""
    states: Counter[str] = Counter()
    for student in ids:
        answer = await client.get(f"/v1/students/{student}", headers=auth)
        states[str(answer.json().get("state")) if answer.status_code == 200 else str(answer.status_code)] += 1
    return dict(states)


async def test_r07_two_registry_replicas_one_killed_and_restarted_under_a_bulk_upload_number_every_pupil_once_gaplessly(
    isolation: Any, signing_keys: tuple[str, str], token: Any, wait_for: Any, tmp_path: Path
) -> None:
    schools = [{"Authorization": f"Bearer {token('school', school)}"} for school in SCHOOLS]
    auth = {"Authorization": f"Bearer {token('county', COUNTY)}"}  # reads every school's records
    rng = random.Random()
    pupils, kills = chaos.load(PUPILS), chaos.rounds() + 1
    recovery = 0.0
    async with dedupe_answering_unique(isolation):
        serving = await asyncio.to_thread(_registry, isolation, signing_keys[1], tmp_path / "serving")
        other = await asyncio.to_thread(_registry, isolation, signing_keys[1], tmp_path / "other")
        try:
            async with httpx.AsyncClient(base_url=serving.address) as client:
                uploads = [asyncio.create_task(_upload(client, schools[s], s, pupils)) for s in range(len(SCHOOLS))]
                for kill in range(kills):
                    await asyncio.sleep(rng.uniform(0.5, 3.0))  # somewhere in the uploads or the verdicts' handling
                    other.process.kill()
                    other.process.wait(10)
                    other.stop()
                    killed = time.monotonic()
                    other = await asyncio.to_thread(_registry, isolation, signing_keys[1], tmp_path / f"other{kill}")
                    recovery = max(recovery, time.monotonic() - killed)
                accepted = [student for ids in await asyncio.gather(*uploads) for student in ids]
                try:
                    await wait_for(partial(_all_enrolled, client, accepted, auth), timeout=240, interval=2.0)
                except AssertionError:
                    raise AssertionError(f"not all enrolled: {await _states(client, accepted, auth)}") from None
        finally:
            serving.stop()
            other.stop()

    numbers, found = await numbers_and_differences(isolation, accepted)
    ids = {student for student, _ in numbers}
    by_series: defaultdict[str, list[int]] = defaultdict(list)
    for _, number in numbers:
        by_series[number[:-4]].append(int(number[-4:]))
    gaps = sum(max(seqs) - len(set(seqs)) for seqs in by_series.values())
    chaos.record("registry_two_replicas_bulk", requests=len(accepted), kills=kills, lost=len(set(accepted) - ids),
                 duplicated=len(numbers) - len(ids), projection_differences=len(found), http_5xx=0,
                 recovery_s=recovery)  # fmt: skip
    assert len(accepted) == len(set(accepted)) == pupils * len(SCHOOLS)
    assert len(numbers) == len(ids) == len(accepted)  # exactly one record and one R07 number each
    assert gaps == 0, {series: sorted(seqs) for series, seqs in by_series.items()}
    assert {series: sorted(seqs) for series, seqs in by_series.items()} == {
        series: list(range(1, len(seqs) + 1)) for series, seqs in by_series.items()
    }
    assert len(by_series) == len(SCHOOLS)
    assert found == []
