"""A class sheet as a Chinese school clerk's spreadsheet really holds it: a title row above the header, Excel's
"Unicode text" (UTF-16, tab-separated), names padded with spaces to line up or written with whichever middle dot the
keyboard gave, full-width digits and letters from a Chinese input method. Every refused row names its row, column and
reason (R06); a value accepted is kept in one form, so the same person written two ways is the same person to the
sheet's own duplicate check and to the request the row asks (R01, R14)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from http_fixtures import today_in_china
from openpyxl import Workbook
from pydantic import ValidationError

from xueji_registry.app import create_app
from xueji_registry.domain.enrollment_request import EnrollmentRequest
from xueji_registry.domain.person import written_name
from xueji_registry.domain.record_changes import ChangeKeyInfo
from xueji_registry.enrollment.requests import pending_stream
from xueji_registry.enrollment.sheet_files import FileProblem, read_table
from xueji_registry.enrollment.sheet_rows import check, read_sheet
from xueji_registry.settings import RegistrySettings

SCHOOL = "3506020001"
TODAY = date(2026, 12, 7)
HEADER = ["姓名", "性别", "出生日期", "身份证件号", "年级"]
CHILD = ["林小明", "男", "2019-03-15", "350602201903151237", "1"]
AYGUL = "阿依古丽\u00b7买买提"  # the dot of the household register (GB 18030: U+00B7)


def _csv(rows: list[list[str]], encoding: str = "utf-8-sig", sep: str = ",") -> bytes:
    return "\r\n".join(sep.join(r) for r in rows).encode(encoding)


def _xlsx(rows: list[list[object]], merge: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _names(table: list[list[str]]) -> list[str]:
    return [request.name for _, request in check(table, SCHOOL, 2026, TODAY).good]


@pytest.mark.parametrize("dot", ["\u00b7", "\u2022", "\u30fb", "\uff65", "\uff0e", ".", "\u2027", "\u2219", "-"])
def test_r14_a_minority_name_written_with_any_middle_dot_is_kept_with_the_registers_dot(dot):
    assert _names([HEADER, [f"阿依古丽{dot}买买提", "女", "2019-03-15", "", "1"]]) == [AYGUL]
    assert _names([HEADER, [f"阿依古丽 {dot} 买买提", "女", "2019-03-15", "", "1"]]) == [AYGUL]


def test_r01_r14_the_same_child_written_with_another_dot_is_the_same_student_of_the_sheet():
    table = [HEADER, [AYGUL, "女", "2019-03-15", "", "1"], ["阿依古丽•买买提", "女", "2019/3/15", "", "1"]]
    checked = check(table, SCHOOL, 2026, TODAY)
    assert [row for row, _ in checked.good] == [2]
    assert [(e.row, e.field, e.column, e.reason) for e in checked.errors] == [
        (3, "name", "姓名", "the same student as row 2")
    ]


@pytest.mark.parametrize("written", ["王　五", "王 五", "王  五", "\u3000王五", "王\u00a0五", " 王 五 ", "王五\u3000"])
def test_r14_spaces_typed_to_line_a_name_up_are_not_part_of_it(written):
    """Two-character names are padded to the width of three (王　五) in most class lists."""
    assert _names([HEADER, [written, "男", "2019-03-15", "", "1"]]) == ["王五"]


def test_r01_r14_a_name_padded_with_spaces_is_the_same_student_as_the_name_without_them():
    table = [HEADER, ["王五", "男", "2019-03-15", "", "1"], ["王　五", "男", "2019-3-15", "", "1"]]
    checked = check(table, SCHOOL, 2026, TODAY)
    assert [row for row, _ in checked.good] == [2] and [(e.row, e.field) for e in checked.errors] == [(3, "name")]


@pytest.mark.parametrize(
    ("written", "kept"),
    [("John  SMITH", "John SMITH"), ("ＪＯＨＮ　ＳＭＩＴＨ", "JOHN SMITH"), ("Mary-Jane O'NEIL", "Mary-Jane O'NEIL"),
     ("J. SMITH", "J. SMITH"), ("𠮷田", "𠮷田"), ("\uf900", "\u8c48")],
)  # fmt: skip
def test_r14_latin_names_keep_one_space_a_rare_character_is_kept_and_a_compatibility_ideograph_is_the_unified_one(
    written, kept
):
    assert _names([HEADER, [written, "男", "2019-03-15", "", "1"]]) == [kept]


def test_the_header_is_found_below_a_title_row_and_rows_keep_the_numbers_the_clerk_sees():
    """The usual class list opens with its title merged across the columns (XX小学2026级新生名单), sometimes a blank
    row or a note under it; errors still name the row as the spreadsheet numbers it."""
    title = ["福州市XX小学2026级一年级新生名单", None, None, None, None]
    bad = ["陈一", "男", "2019-02-30", "", "1"]  # no such day
    sheet = _xlsx([title, [None] * 5, HEADER, CHILD, bad], merge="A1:E1")
    checked = check(read_table("class.xlsx", sheet), SCHOOL, 2026, TODAY)
    assert [row for row, _ in checked.good] == [4]
    assert [(e.row, e.field, e.column) for e in checked.errors] == [(5, "birth_date", "出生日期")]
    csv = _csv([["", "", ""], ["2026级新生名单（一年级）"], HEADER, CHILD, bad])
    checked = check(read_table("class.csv", csv), SCHOOL, 2026, TODAY)
    assert [row for row, _ in checked.good] == [4] and [e.row for e in checked.errors] == [5]


def test_a_sheet_with_no_header_among_its_first_rows_is_refused_naming_the_columns_it_needs():
    with pytest.raises(FileProblem, match="姓名"):
        check(read_table("class.csv", _csv([["a", "b"], ["c", "d"]])), SCHOOL, 2026, TODAY)


@pytest.mark.parametrize("filename", ["class.txt", "class.csv"])
def test_a_sheet_excel_saved_as_unicode_text_utf16_tab_separated_is_read(filename):
    content = _csv([HEADER, CHILD, ["阿依古丽·买买提", "女", "2019-05-01", "", "1"]], "utf-16", sep="\t")
    checked = check(read_table(filename, content), SCHOOL, 2026, TODAY)
    assert [(r, q.name, q.id_number) for r, q in checked.good] == [(2, "林小明", CHILD[3]), (3, AYGUL, None)]


def test_a_tab_separated_csv_in_utf8_or_gb18030_is_read():
    for encoding in ("utf-8", "gb18030"):
        checked = check(read_table("class.csv", _csv([HEADER, CHILD], encoding, "\t")), SCHOOL, 2026, TODAY)
        assert [row for row, _ in checked.good] == [2], encoding


def test_a_file_with_a_header_and_no_student_is_refused_saying_so():
    for name, content in [("class.csv", _csv([HEADER, ["", "", "", "", ""]])), ("class.xlsx", _xlsx([HEADER]))]:
        with pytest.raises(FileProblem, match="no student"):
            check(read_table(name, content), SCHOOL, 2026, TODAY)


def test_r14_a_birth_date_after_today_is_refused_naming_row_and_column():
    """Nobody born tomorrow is enrolled: no status on false information (R14). A date after the school year begins
    but already past stays a warning (the grade or the date is wrong, the child exists)."""
    table = [HEADER, ["陈一", "男", "2027-01-01", "", "1"], ["陈二", "男", "2026-12-07", "", "1"]]
    checked = check(table, SCHOOL, 2026, TODAY)
    assert [row for row, _ in checked.good] == [3]
    [error] = checked.errors
    assert (error.row, error.field, error.column) == (2, "birth_date", "出生日期")
    assert "future" in error.reason and "2026-12-07" in error.reason


@pytest.mark.parametrize(
    ("column", "written"),
    [(1, "Ｍ"), (1, "男孩"), (1, "女孩"), (4, "１"), (4, "１年级"), (4, "一年級"), (2, "2019年3月15号"),
     (3, "\u2019350602201903151237"), (3, "\u2018350602201903151237")],
)  # fmt: skip
def test_r06_values_as_a_chinese_input_method_types_them_are_read(column, written):
    """Full-width digits and letters, 男孩/女孩, a traditional 級, 号 for the day, and the curly apostrophe a Chinese
    input method types for ' to keep an ID number text."""
    row = ["林小明", "女" if written == "女孩" else "男", "2019-03-15", "", "1"]
    row[column] = written
    checked = check([HEADER, row], SCHOOL, 2026, TODAY)
    assert checked.errors == [] and len(checked.good) == 1, checked.errors


def test_a_header_typed_in_full_width_letters_is_read():
    header = ["ｎａｍｅ", "ｇｅｎｄｅｒ", "ｂｉｒｔｈ＿ｄａｔｅ", "ｇｒａｄｅ"]
    assert _names([header, ["林小明", "男", "2019-03-15", "1"]]) == ["林小明"]


def test_a_template_row_numbered_or_prefilled_but_naming_no_child_is_a_blank_row_not_an_error():
    """Templates come numbered (序号 1-50) with the class, grade or ethnicity filled in down the sheet; the rows the
    class did not fill name no child (no name, ID number or birth date) and are passed over as blank rows are. A row
    with a birth date and no name is a child whose name was left out: its error stays."""
    header = ["序号", "姓名", "性别", "出生日期", "年级", "民族", "班级"]
    table = [header, ["1", "林一", "男", "2019-03-15", "一年级", "汉族", "1班"],
             ["2", "", "", "", "一年级", "汉族", "1班"], ["3", "", "男", "2019-03-16", "一年级", "", ""],
             *[[str(n), "", "", "", "", "", ""] for n in range(4, 51)]]  # fmt: skip
    checked = check(table, SCHOOL, 2026, TODAY)
    assert checked.rows == 2 and [row for row, _ in checked.good] == [2]
    assert [(e.row, e.field) for e in checked.errors] == [(4, "name")]


def test_a_grade_or_gender_merged_down_the_class_in_the_workbook_is_read_on_every_row_it_covers():
    """A clerk merges 一年级 (or 男) down the rows it covers: the workbook keeps the value in the first cell only."""
    rows = [HEADER, ["林一", "男", "2019-03-15", "", "一年级"], ["林二", None, "2019-03-16", "", None],
            ["林三", "女", "2019-03-17", "", None], ["林四", "女", "2019-03-18", "", "二年级"]]  # fmt: skip
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("E2:E4")
    sheet.merge_cells("B2:B3")
    out = io.BytesIO()
    book.save(out)
    checked = check(read_sheet("class.xlsx", out.getvalue()), SCHOOL, 2026, TODAY)
    assert checked.errors == []
    assert [(q.name, q.gender.value, q.grade) for _, q in checked.good] == [
        ("林一", "male", 1),
        ("林二", "male", 1),
        ("林三", "female", 1),
        ("林四", "female", 2),
    ]


def test_a_workbook_whose_first_sheet_is_its_instructions_is_read_from_the_sheet_holding_the_class():
    book = Workbook()
    book.active.title = "填写说明"
    book.active.append(["请按模板填写，出生日期格式：2019-03-15"])
    sheet = book.create_sheet("学生名单")
    for row in [HEADER, CHILD]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    checked = check(read_sheet("class.xlsx", out.getvalue()), SCHOOL, 2026, TODAY)
    assert [(row, q.name) for row, q in checked.good] == [(2, "林小明")]


@pytest.mark.parametrize("blank", ["  ", "\u3000", "\u00a0"])
def test_r06_a_name_cell_holding_only_spaces_is_a_missing_name(blank):
    checked = check([HEADER, [blank, "男", "2019-03-15", "", "1"]], SCHOOL, 2026, TODAY)
    assert [(e.row, e.field, e.reason) for e in checked.errors] == [(2, "name", "required")]


@pytest.mark.parametrize(("code", "year"), [("３５０６０２０００１", "２０２６"), (SCHOOL, "2026年"), (SCHOOL, "2026级"),
                                            (SCHOOL, "2026届"), (SCHOOL, "2026-2027"), (SCHOOL, "2026—2027学年"),
                                            (SCHOOL, "2026/2027 学年")])  # fmt: skip
def test_a_school_code_or_year_typed_in_full_width_or_with_its_unit_is_read(code, year):
    header = [*HEADER, "学校代码", "入学年份"]
    checked = check([header, [*CHILD, code, year]], SCHOOL, 2026, TODAY)
    assert checked.errors == [] and [q.school_year for _, q in checked.good] == [2026]


@pytest.mark.parametrize(
    ("written", "says"),
    [("2019-02-30", "2019-02-30 is not a day of the calendar"), ("2019/2/30", "2019-02-30 is not a day of the calendar"),
     ("19-3-5", "19-3-5 is not a date: a date is written as YYYY-MM-DD"),
     ("不详", "不详 is not a date: a date is written as YYYY-MM-DD")],
)  # fmt: skip
def test_r06_a_date_that_is_no_day_is_refused_saying_so_in_words_a_clerk_reads(written, says):
    checked = check([HEADER, ["林小明", "男", written, "", "1"]], SCHOOL, 2026, TODAY)
    assert [(e.row, e.field, e.column) for e in checked.errors] == [(2, "birth_date", "出生日期")]
    assert checked.errors[0].reason.startswith(says), checked.errors[0].reason


def test_r14_a_household_register_written_as_a_place_is_refused_saying_the_column_takes_the_division_code():
    header = [*HEADER, "户籍所在地"]
    checked = check([header, [*CHILD, "福建省漳州市芗城区"], [*CHILD[:3], "", "1", "350602"]], SCHOOL, 2026, TODAY)
    [error] = checked.errors
    assert (error.row, error.field, error.column) == (2, "basic.household_register", "户籍所在地")
    assert "6-digit" in error.reason and "350602" in error.reason and "place" in error.reason


@pytest.mark.parametrize(
    ("written", "says"),
    [("2019-02-30", "2019-02-30 is not a day of the calendar"), ("19-3-5", "19-3-5 is not a date"),
     ("2019-3-5", "2019-3-5 is not a date")],
)  # fmt: skip
def test_r06_a_single_enrollments_date_that_is_no_day_is_refused_saying_so(written, says):
    body = {"school_code": SCHOOL, "name": "林小明", "gender": "male", "birth_date": written, "grade": 1,
            "school_year": 2026}  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        EnrollmentRequest.model_validate(body)
    [error] = refused.value.errors()
    assert error["loc"] == ("birth_date",) and says in error["msg"], error


@pytest.mark.parametrize("written", ["True", "未知", "9"])
def test_r06_a_gender_that_is_none_is_refused_saying_how_genders_are_written(written):
    checked = check([HEADER, ["林小明", written, "2019-03-15", "", "1"]], SCHOOL, 2026, TODAY)
    [error] = checked.errors
    assert (error.row, error.field, error.column) == (2, "gender", "性别")
    assert error.reason.startswith(f"{written} is not a gender") and "男" in error.reason, error.reason


def test_a_header_repeated_below_the_first_is_passed_over_not_read_as_a_student():
    """Classes exported one after another repeat the header over each; a second header row in English (name,
    gender, ...) under the Chinese one is common in templates too."""
    english = ["name", "gender", "birth_date", "id_number", "grade"]
    table = [HEADER, english, CHILD, ["", "", "", "", ""], HEADER, ["陈思雨", "女", "2019-05-01", "", "1"]]
    checked = check(table, SCHOOL, 2026, TODAY)
    assert checked.errors == [] and [row for row, _ in checked.good] == [3, 6] and checked.rows == 2


def test_a_sheet_whose_first_rows_are_blank_is_refused_naming_its_header_not_called_empty():
    table = [[""]] * 12 + [["姓名", "性别"], ["林小明", "男"]]
    with pytest.raises(FileProblem, match="lacks the column"):
        check(table, SCHOOL, 2026, TODAY)
    with pytest.raises(FileProblem, match="empty"):
        check([[""]] * 12, SCHOOL, 2026, TODAY)


def test_r06_an_id_numbers_x_typed_as_a_multiplication_sign_is_read():
    checked = check([HEADER, ["林", "女", "1949-12-31", "11010519491231002×", "1"]], SCHOOL, 2026, TODAY)
    assert checked.errors == [] and [q.id_number for _, q in checked.good] == ["11010519491231002X"]


@pytest.mark.parametrize(("written", "kept"), [("王　五", "王五"), ("阿依古丽•买买提", AYGUL), ("\uf900", "\u8c48")])
def test_r10_r14_a_key_information_changes_new_name_is_kept_as_an_enrollment_keeps_it(written, kept):
    assert ChangeKeyInfo(name=written).name == kept


@pytest.mark.parametrize(
    "typed", ["王林·\u3000· 王", "林·-· -﹣王", " -林· ．王", "—林·\u3000-—林A", "阿依古丽 • ・ 买买提"]
)
def test_r14_a_name_kept_is_kept_as_it_is_when_read_again(typed):
    """A name is validated again wherever a model carries it (the request read back, its identity): the form kept is
    its own form, or the same child would have two."""
    kept = written_name(typed)
    assert written_name(kept) == kept and "\u00b7\u00b7" not in kept


@pytest.mark.parametrize("year", ["2026-2028", "2025-2027", "2026-"])
def test_a_school_year_whose_two_years_do_not_follow_is_refused_naming_the_column(year):
    checked = check([[*HEADER, "学年"], [*CHILD, year]], SCHOOL, 2026, TODAY)
    assert [(e.row, e.field, e.column) for e in checked.errors] == [(2, "school_year", "学年")]
    assert checked.errors[0].reason == f"{year} is not a school year: write it as 2026 or 2026-2027"


def test_r06_a_name_longer_than_a_name_is_refused_saying_how_long_a_name_may_be():
    checked = check([HEADER, ["林" * 51, "男", "2019-03-15", "", "1"]], SCHOOL, 2026, TODAY)
    assert [(e.row, e.field, e.reason) for e in checked.errors] == [
        (2, "name", "51 characters: at most 50 are kept (a note beside the name belongs in its own column)")
    ]


@pytest.mark.integration
async def test_r01_r14_a_class_uploaded_again_with_names_written_otherwise_asks_nobody_twice(
    start_app, dedupe_stub, token
):
    """Through the service: an .xlsx with a title row, a padded name, a rare character and a minority name; the same
    class from another export (UTF-16 text, other dot, no padding) asks nothing again, and a single enrollment of a
    padded name stores it without the padding."""
    registry = await start_app(create_app, RegistrySettings, scheduler_enabled=False)
    school = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    form = {"school_code": SCHOOL, "school_year": "2026"}
    born = (today_in_china() - timedelta(days=2600)).isoformat()
    first = [["2026级新生名单", None, None, None, None], HEADER, ["王　五", "男", born, "", "一年级"],
             ["𠮷田", "女", born, "", "1"], ["阿依古丽•买买提", "女", born, "", "1"]]  # fmt: skip
    again = [HEADER, ["王五", "男", born, "", "1"], ["𠮷田", "女", born, "", "1"], [AYGUL, "女", born, "", "1"]]
    async with dedupe_stub():
        answer = await registry.post("/v1/students/bulk", data=form, headers=school,
                                     files={"file": ("class.xlsx", _xlsx(first), "application/octet-stream")})  # fmt: skip
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert (result["rows"], result["requested"], result["errors"]) == (3, 3, []), result
        assert [s["row"] for s in result["students"]] == [3, 4, 5]
        content = _csv(again, "utf-16", "\t")
        answer = await registry.post("/v1/students/bulk", data=form, headers=school,
                                     files={"file": ("class.txt", content, "text/plain")})  # fmt: skip
        assert answer.status_code == 200, answer.text
        repeat = answer.json()
        assert (repeat["requested"], repeat["already_requested"], repeat["errors"]) == (0, 3, []), repeat
        assert [s["student_id"] for s in repeat["students"]] == [s["student_id"] for s in result["students"]]
        body = {"school_code": SCHOOL, "name": "陈　六", "gender": "male", "birth_date": born, "grade": 1,
                "school_year": 2026}  # fmt: skip
        single = await registry.post("/v1/students", json=body, headers=school)
        assert single.status_code in (201, 202), single.text
        commits = await registry.app.state.registry.events.load(pending_stream(single.json()["student_id"]))
        assert commits[0]["events"][0]["request"]["name"] == "陈六"
        tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
        future = await registry.post("/v1/students", json={**body, "birth_date": tomorrow}, headers=school)
        assert future.status_code == 422 and "birth_date" in future.text, future.text
