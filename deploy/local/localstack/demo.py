"""The demo province loaded by `make run`: a few Fujian schools and their students, through the public APIs.

Everything goes through the services' HTTP APIs with operator tokens, exactly as a school would
do it, so the demo exercises the real path (registry -> Kafka -> notify). Loaded once per data dir.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import keys

SCHOOLS = {
    "3501020001": "福州市鼓楼区实验小学",
    "3502030001": "厦门市思明区第一中学",
    "3506020001": "漳州市芗城区实验小学",
    "3506020002": "漳州市芗城区第二中学",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曾彭萧蔡潘田董袁于余叶"
GIVEN = "子涵浩宇欣怡梓萱一诺宇轩雨桐思远俊杰佳怡明轩若曦晨阳诗涵嘉怡天佑雅琪文博"


def _id_number(rng: random.Random, county: str, born: date, female: bool) -> str:
    from xueji_contracts.identity import check_character

    sequence = rng.randrange(0, 99) * 10 + rng.randrange(0, 5) * 2 + (0 if female else 1)
    first17 = f"{county}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def students(seed: int = 35) -> list[dict[str, object]]:
    rng = random.Random(seed)
    result = []
    for school in SCHOOLS:
        for _ in range(6):
            grade = rng.randrange(1, 7)
            born = date(2026 - 6 - grade, 9, 1) - timedelta(days=rng.randrange(0, 365))
            female = rng.random() < 0.5
            name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
            result.append(
                {
                    "school_code": school,
                    "name": name,
                    "gender": "female" if female else "male",
                    "id_number": _id_number(rng, school[:6], born, female),
                    "birth_date": born.isoformat(),
                    "grade": grade,
                    "school_year": 2026,
                }
            )
    return result


def load(registry_url: str, marker: Path) -> int:
    """Enroll the demo students once; returns how many were enrolled now."""
    if marker.exists():
        return 0
    enrolled = 0
    for student in students():
        token = keys.token("school", str(student["school_code"]), sub="demo-clerk")
        request = urllib.request.Request(  # noqa: S310 - loopback URL of our own service
            f"{registry_url}/v1/students",
            data=json.dumps(student).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                enrolled += answer.status in (200, 201, 202)
        except urllib.error.HTTPError as exc:
            print(f"demo: {student['school_code']} enrollment refused: {exc.code} {exc.read()[:200]!r}")
    marker.write_text(f"{enrolled} students\n")
    return enrolled
