"""The school directory the registry publishes (issue 18: names, not only codes): read from the province's file."""

from __future__ import annotations

import json

import pytest

from xueji_registry.school_directory import SchoolDirectory


def test_the_directory_reads_a_csv_or_json_file_and_lists_a_division(tmp_path):
    csv_file = tmp_path / "schools.csv"
    csv_file.write_text("\ufeff学校代码,学校名称\n3506020001,芗城实验小学\n3501020001,鼓楼实验小学\n", encoding="utf-8")
    directory = SchoolDirectory.load(csv_file)
    assert directory.under("3506") == [{"code": "3506020001", "name": "芗城实验小学"}]
    assert [s["code"] for s in directory.under("")] == ["3501020001", "3506020001"]
    json_file = tmp_path / "schools.json"
    json_file.write_text(json.dumps([{"code": "3506030001", "name": "龙文实验小学"}]), encoding="utf-8")
    assert SchoolDirectory.load(json_file).under("35") == [{"code": "3506030001", "name": "龙文实验小学"}]
    assert SchoolDirectory.load(None).under("35") == []


def test_a_malformed_entry_stops_the_service_naming_the_file_and_entry(tmp_path):
    bad = tmp_path / "schools.csv"
    bad.write_text("学校代码,学校名称\n3506020001,芗城实验小学\n35060,无效代码\n", encoding="utf-8")
    with pytest.raises(ValueError, match="entry 2 needs a 10-digit school code"):
        SchoolDirectory.load(bad)
