"""Reading the offices' tables: CSV encodings, .xlsx cells, header and row rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marking.domain import tabular
from marking.domain.tabular import find_table, read_rows
from marking.errors import InputError, InputErrors

CANDIDATES = ("exam_no", "name", "id_number", "institution")
RESPONSES = ("exam_no", "component", "question", "response")


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], *, first_title: str = "Sheet") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = first_title
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def read_all(
    path: Path, columns: Sequence[str] = CANDIDATES, optional: Sequence[str] = ()
) -> list[tuple[int, tuple[str, ...]]]:
    return list(read_rows(path, columns, optional=optional))


def refusal(
    path: Path, columns: Sequence[str] = CANDIDATES, optional: Sequence[str] = ()
) -> InputError:
    with pytest.raises(InputError) as caught:
        read_all(path, columns, optional)
    return caught.value


# --- find_table -------------------------------------------------------------------------


def test_find_table_returns_the_csv(tmp_path: Path) -> None:
    (tmp_path / "candidates.csv").write_text("x")
    assert find_table(tmp_path, "candidates") == tmp_path / "candidates.csv"


def test_find_table_returns_the_xlsx(tmp_path: Path) -> None:
    (tmp_path / "candidates.xlsx").write_text("x")
    assert find_table(tmp_path, "candidates") == tmp_path / "candidates.xlsx"


def test_find_table_refuses_both_formats(tmp_path: Path) -> None:
    (tmp_path / "candidates.csv").write_text("x")
    (tmp_path / "candidates.xlsx").write_text("x")
    with pytest.raises(InputError) as caught:
        find_table(tmp_path, "candidates")
    assert "candidates.csv and candidates.xlsx are present" in caught.value.reason


def test_find_table_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        find_table(tmp_path, "responses")
    assert caught.value.file == "responses.csv"
    assert "expected responses.csv or responses.xlsx" in caught.value.reason


def test_find_table_optional_and_missing_is_none(tmp_path: Path) -> None:
    assert find_table(tmp_path, "conflicts", required=False) is None


@pytest.mark.parametrize("required", [True, False])
def test_find_table_refuses_old_xls(tmp_path: Path, required: bool) -> None:
    (tmp_path / "conflicts.xls").write_text("x")
    with pytest.raises(InputError) as caught:
        find_table(tmp_path, "conflicts", required=required)
    assert caught.value.file == "conflicts.xls"
    assert ".xls format cannot be read" in caught.value.reason


def test_find_table_ignores_a_folder_named_like_the_table(tmp_path: Path) -> None:
    (tmp_path / "candidates.csv").mkdir()
    assert find_table(tmp_path, "candidates", required=False) is None


# --- CSV basics -------------------------------------------------------------------------


def test_reads_values_in_column_order_with_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "candidates.csv",
        "name,exam_no,institution,id_number\n张伟,2026001,技师学院,110101199001011234\n"
        "欧阳娜娜,2026002,,110101199202022345\n",
    )
    assert read_all(path) == [
        (2, ("2026001", "张伟", "110101199001011234", "技师学院")),
        (3, ("2026002", "欧阳娜娜", "110101199202022345", "")),
    ]


def test_cells_and_header_names_are_stripped_and_case_insensitive(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "candidates.csv",
        " Exam_No ,NAME,\tId_Number , Institution\n  2026001 ,  张伟\t, 110 ,  \n",
    )
    assert read_all(path) == [(2, ("2026001", "张伟", "110", ""))]


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "candidates.csv",
        "exam_no,name,id_number,institution\r\n\r\n , ,,\r\n1,张伟,110,\r\n\r\n2,李娜,120,\r\n\r\n",
    )
    assert [number for number, _ in read_all(path)] == [4, 6]


def test_quoted_multiline_cell_counts_as_one_row(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "responses.csv",
        'exam_no,component,question,response\n1,theory,41,"第一行\n第二行\n第三行"\n'
        "1,theory,42,B\n",
    )
    rows = read_all(path, RESPONSES)
    assert rows == [
        (2, ("1", "theory", "41", "第一行\n第二行\n第三行")),
        (3, ("1", "theory", "42", "B")),
    ]


def test_short_rows_are_padded(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "candidates.csv", "exam_no,name,id_number,institution\n1,张伟\n")
    assert read_all(path) == [(2, ("1", "张伟", "", ""))]


def test_empty_cells_beyond_the_header_are_accepted(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "candidates.csv", "exam_no,name,id_number,institution\n1,张伟,110,学院,, \n"
    )
    assert read_all(path) == [(2, ("1", "张伟", "110", "学院"))]


def test_a_filled_cell_beyond_the_header_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "candidates.csv",
        "exam_no,name,id_number,institution\n1,张伟,110,学院\n2,李娜,120,学院,,欧阳娜娜\n",
    )
    error = refusal(path)
    assert (error.file, error.row, error.column) == ("candidates.csv", 3, "F")
    assert "outside the header's 4 columns" in error.reason
    assert "欧阳娜娜" not in str(error)


def test_a_column_with_an_empty_header_must_stay_empty(tmp_path: Path) -> None:
    ok = write_csv(tmp_path / "ok.csv", "exam_no,,name,id_number,institution\n1,,张伟,110,\n")
    assert read_all(ok) == [(2, ("1", "张伟", "110", ""))]
    bad = write_csv(tmp_path / "bad.csv", "exam_no,,name,id_number,institution\n1,张伟,,110,\n")
    error = refusal(bad)
    assert (error.file, error.row, error.column) == ("bad.csv", 2, "B")
    assert "header is empty" in error.reason
    assert "张伟" not in str(error)


def test_optional_columns_present_absent_and_reordered(tmp_path: Path) -> None:
    columns = ("exam_no", "component")
    optional = ("image", "note")
    absent = write_csv(tmp_path / "a.csv", "component,exam_no\ntheory,1\n")
    assert read_all(absent, columns, optional) == [(2, ("1", "theory", "", ""))]
    some = write_csv(tmp_path / "b.csv", "note,component,exam_no\nlate,theory,1\n")
    assert read_all(some, columns, optional) == [(2, ("1", "theory", "", "late"))]
    every = write_csv(tmp_path / "c.csv", "image,note,exam_no,component\np.png,n,1,skills\n")
    assert read_all(every, columns, optional) == [(2, ("1", "skills", "p.png", "n"))]


def test_a_single_column_table(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", "exam_no\n1\n2\n")
    assert read_all(path, ["exam_no"]) == [(2, ("1",)), (3, ("2",))]
    only_optional = write_csv(tmp_path / "two.csv", "exam_no\n1\n")
    assert read_all(only_optional, ["exam_no"], ["image"]) == [(2, ("1", ""))]


def test_column_specification_must_be_distinct(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="distinct"):
        read_rows(tmp_path / "x.csv", ["exam_no", "Exam_No"])


# --- header and file rules --------------------------------------------------------------


def test_missing_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "candidates.csv", "exam_no,name,institution\n1,张伟,学院\n")
    error = refusal(path)
    assert (error.file, error.row, error.column, error.reason) == (
        "candidates.csv",
        1,
        "id_number",
        "missing column",
    )


def test_unknown_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "candidates.csv", "exam_no,name,id_number,institution,Phone\n")
    error = refusal(path)
    assert (error.row, error.column) == (1, "Phone")
    assert error.reason.startswith("unknown column; expected exam_no, name, id_number")


def test_unknown_column_hints_at_the_separator(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "candidates.csv", "exam_no;name;id_number;institution\n1;a;b;c\n")
    with pytest.raises(InputErrors) as caught:
        read_all(path)
    assert "separated by tabs or semicolons" in caught.value.errors[0].reason


def test_duplicate_column_ignores_case(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "candidates.csv", "exam_no,name,id_number,institution,Name\n")
    error = refusal(path)
    assert (error.row, error.column, error.reason) == (1, "Name", "duplicate column")


def test_several_header_problems_are_listed_together(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "candidates.csv", "exam_no,exam_no,phone\n1,1,1\n")
    with pytest.raises(InputErrors) as caught:
        read_all(path)
    found = [(e.file, e.row, e.column, e.reason.split(";")[0]) for e in caught.value.errors]
    assert found == [
        ("candidates.csv", 1, "exam_no", "duplicate column"),
        ("candidates.csv", 1, "phone", "unknown column"),
        ("candidates.csv", 1, "name", "missing column"),
        ("candidates.csv", 1, "id_number", "missing column"),
        ("candidates.csv", 1, "institution", "missing column"),
    ]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "candidates.csv"
    path.write_bytes(content)
    error = refusal(path)
    assert error.file == "candidates.csv"
    assert error.reason.startswith("empty file")


def test_blank_first_row_is_not_a_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "responses.csv", ",,\nexam_no,component,question,response\n")
    error = refusal(path, RESPONSES, ["image"])
    assert error.row == 1
    assert "row 1 is blank; it must be the header" in error.reason
    assert "(optional: image)" in error.reason


@pytest.mark.parametrize(
    "text", ["exam_no,name,id_number,institution\n", "exam_no,name,id_number,institution\n\n,,,\n"]
)
def test_header_without_data_rows(tmp_path: Path, text: str) -> None:
    error = refusal(write_csv(tmp_path / "candidates.csv", text))
    assert (error.file, error.reason) == ("candidates.csv", "no data rows below the header")


def test_an_unclosed_quote_is_refused_at_its_row(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "responses.csv",
        'exam_no,component,question,response\n1,theory,1,A\n\n1,theory,2,"B\n1,theory,3,C\n',
    )
    error = refusal(path, RESPONSES)
    assert (error.file, error.row) == ("responses.csv", 4)
    assert error.reason.startswith("malformed CSV")


def test_malformed_header_is_refused_at_row_1(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "responses.csv", 'exam_no,"component"x,question,response\n')
    error = refusal(path, RESPONSES)
    assert (error.row, error.reason) == (1, "malformed CSV: ',' expected after '\"'")


def test_text_after_a_closing_quote_is_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "responses.csv", 'exam_no,component,question,response\n1,"a"b,1,A\n'
    )
    error = refusal(path, RESPONSES)
    assert error.row == 2
    assert "malformed CSV" in error.reason


def test_unsupported_file_type_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_rows(tmp_path / "candidates.txt", CANDIDATES)
    assert caught.value.file == "candidates.txt"
    assert "expected .csv or .xlsx" in caught.value.reason


@pytest.mark.parametrize("name", ["candidates.csv", "candidates.xlsx"])
def test_missing_file(tmp_path: Path, name: str) -> None:
    error = refusal(tmp_path / name)
    assert error.file == name
    assert error.reason.startswith("cannot read the file")


def test_closing_the_iterator_early_closes_the_file(tmp_path: Path) -> None:
    # An unclosed file would surface as a ResourceWarning, which is an error here.
    path = write_csv(tmp_path / "candidates.csv", "exam_no,name,id_number,institution\n1,a,b,c\n")
    rows = read_rows(path, CANDIDATES)
    assert next(rows) == (2, ("1", "a", "b", "c"))
    rows.close()


# --- encodings --------------------------------------------------------------------------

ROSTER = (
    "exam_no,name,id_number,institution\n2026001,张伟,110,广州技师学院\n2026002,欧阳娜娜,120,\n"
)
ROSTER_ROWS = [
    (2, ("2026001", "张伟", "110", "广州技师学院")),
    (3, ("2026002", "欧阳娜娜", "120", "")),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_reads_each_accepted_encoding(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "candidates.csv", ROSTER, encoding)
    assert read_all(path) == ROSTER_ROWS


def test_gb18030_characters_outside_gbk(tmp_path: Path) -> None:
    # 𠮷 (U+20BB7) needs GB18030's four-byte form.
    path = write_csv(tmp_path / "candidates.csv", ROSTER.replace("张伟", "𠮷张伟"), "gb18030")
    assert read_all(path)[0][1][1] == "𠮷张伟"


def test_gb18030_byte_order_mark_is_ignored_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    path.write_bytes(b"\x84\x31\x95\x33" + ROSTER.encode("gb18030"))
    assert read_all(path) == ROSTER_ROWS


def test_bytes_that_are_neither_encoding_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    good = ROSTER.encode("utf-8")
    path.write_bytes(good + b"2026003,\xff\xfe\xfd,130,\n")
    error = refusal(path)
    assert (error.file, error.row) == ("candidates.csv", 4)
    assert error.reason.startswith("bytes are neither UTF-8 nor GB18030")


def test_a_truncated_sequence_at_the_end_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    path.write_bytes(ROSTER.encode("utf-8") + b"2026003,\xe5")
    error = refusal(path)
    assert error.row == 4
    assert "neither UTF-8 nor GB18030" in error.reason


def test_utf16_is_refused_with_a_hint(tmp_path: Path) -> None:
    error = refusal(write_csv(tmp_path / "candidates.csv", ROSTER, "utf-16"))
    assert error.row == 1
    assert "UTF-16" in error.reason


def test_scan_across_small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny chunks split multi-byte characters and lines at every possible place.
    monkeypatch.setattr(tabular, "_CHUNK", 3)
    utf8 = write_csv(tmp_path / "a.csv", ROSTER)
    assert read_all(utf8) == ROSTER_ROWS
    gb = write_csv(tmp_path / "b.csv", ROSTER, "gb18030")
    assert read_all(gb) == ROSTER_ROWS
    bad = tmp_path / "c.csv"
    bad.write_bytes(ROSTER.encode("utf-8") + b"\n\n2026003,\xe5\xbc\xa0\xff,130,\n")
    assert refusal(bad).row == 6


@pytest.mark.parametrize("chunk", [1, 2, 5, 1 << 20])
def test_bad_line_is_exact_whatever_the_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(tabular, "_CHUNK", chunk)
    path = tmp_path / "candidates.csv"
    path.write_bytes("h\n张\n伟\n".encode() + b"\xe5\xbc" + b"\n")
    assert refusal(path).row == 4


def test_an_ambiguous_file_is_read_as_utf8(tmp_path: Path) -> None:
    # Bytes valid in both encodings: UTF-8 wins (documented).
    path = tmp_path / "one.csv"
    path.write_bytes(b"exam_no\n\xc3\xa9\n")
    assert read_all(path, ["exam_no"]) == [(2, ("é",))]


settings_fast = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
cell_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12
).map(str.strip)


@settings_fast
@given(
    rows=st.lists(st.tuples(cell_text, cell_text, cell_text), min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_round_trip_through_csv_writer(
    tmp_path: Path, rows: list[tuple[str, str, str]], encoding: str
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    path = tmp_path / "t.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    expected = [(n, row) for n, row in enumerate(rows, start=2) if any(row)]
    if expected:
        assert read_all(path, ["a", "b", "c"]) == expected
    else:
        assert refusal(path, ["a", "b", "c"]).reason == "no data rows below the header"


# --- XLSX -------------------------------------------------------------------------------


def test_xlsx_cells_become_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "examiners.xlsx",
        [
            ["username", "number", "expires", "flag", "empty"],
            ["wang", 20260001, dt.datetime(2027, 6, 30), True, None],
            [" li ", 20260002.0, dt.date(2028, 1, 2), False, ""],
            ["zhao", 12.5, dt.datetime(2027, 6, 30, 8, 30), 0, "x"],
        ],
    )
    rows = read_all(path, ["username", "number", "expires", "flag", "empty"])
    assert rows == [
        (2, ("wang", "20260001", "2027-06-30", "TRUE", "")),
        (3, ("li", "20260002", "2028-01-02", "FALSE", "")),
        (4, ("zhao", "12.5", "2027-06-30 08:30:00", "0", "x")),
    ]


def test_xlsx_numeric_exam_numbers_and_chinese_names(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "candidates.xlsx",
        [
            ["Exam_No", "Name", "id_number", "institution"],
            [2026001, "张伟", "110101199001011234", "技师学院"],
            [2026002.0, "欧阳娜娜", "110101199202022345", None],
        ],
    )
    assert read_all(path) == [
        (2, ("2026001", "张伟", "110101199001011234", "技师学院")),
        (3, ("2026002", "欧阳娜娜", "110101199202022345", "")),
    ]


def test_xlsx_number_too_long_to_be_exact(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "candidates.xlsx",
        [list(CANDIDATES), [1, "张伟", "110", ""], [2, "欧阳娜娜", 1.10101199001011e17, ""]],
    )
    error = refusal(path)
    assert (error.file, error.row, error.column) == ("candidates.xlsx", 3, "id_number")
    assert "longer than 15 digits" in error.reason
    assert "11010119" not in str(error)


def test_xlsx_reads_the_first_sheet_not_the_active_one(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.append(["exam_no"])
    first.append(["1"])
    other = workbook.create_sheet("other")
    other.append(["wrong"])
    workbook.active = 1
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    assert read_all(path, ["exam_no"]) == [(2, ("1",))]


def test_xlsx_row_numbers_count_gaps_and_blank_rows(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "exam_no"
    sheet["B1"] = "name"
    sheet["A3"] = "1"
    sheet["B3"] = "张伟"
    sheet["A4"] = None
    sheet["A7"] = 2
    sheet["D7"] = None  # an empty cell beyond the header
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    assert read_all(path, ["exam_no", "name"]) == [(3, ("1", "张伟")), (7, ("2", ""))]


def test_xlsx_filled_cell_beyond_header_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", [["exam_no", "name"], ["1", "张伟", None, "x"]])
    error = refusal(path, ["exam_no", "name"])
    assert (error.row, error.column) == (2, "D")


def test_xlsx_header_problems(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", [["exam_no", 2026], ["1", "2"]])
    with pytest.raises(InputErrors) as caught:
        read_all(path, ["exam_no", "name"])
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "2026"), (1, "name")]


@pytest.mark.parametrize("rows", [[], [["exam_no"]]], ids=["empty sheet", "header only"])
def test_xlsx_without_data(tmp_path: Path, rows: list[list[str]]) -> None:
    error = refusal(write_xlsx(tmp_path / "t.xlsx", rows), ["exam_no"])
    assert error.file == "t.xlsx"
    assert error.reason.startswith("empty file") or error.reason == "no data rows below the header"


def test_xlsx_upper_case_suffix(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "T.XLSX", [["exam_no"], [7]])
    assert read_all(path, ["exam_no"]) == [(2, ("7",))]


@pytest.mark.parametrize(
    "content",
    [b"not a zip at all", b"PK\x03\x04 truncated", b""],
    ids=["garbage", "truncated zip", "empty"],
)
def test_corrupt_xlsx_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "candidates.xlsx"
    path.write_bytes(content)
    error = refusal(path)
    assert error.file == "candidates.xlsx"
    assert "not a readable .xlsx workbook" in error.reason


def test_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "candidates.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "张伟")
    assert "not a readable .xlsx workbook" in refusal(path).reason


def test_broken_sheet_xml_is_refused(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [list(CANDIDATES), [1, "张伟", "110", ""]])
    path = tmp_path / "candidates.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    error = refusal(path)
    assert error.file == "candidates.xlsx"
    assert "not a readable .xlsx workbook" in error.reason


def test_xlsx_workbook_is_closed_when_iteration_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", [["exam_no"], [1], [2], [3]])
    opened: list[Any] = []
    load = openpyxl.load_workbook

    def spy(*args: Any, **kwargs: Any) -> Any:
        workbook = load(*args, **kwargs)
        opened.append(workbook)
        return workbook

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    for finish in ("close", "exhaust"):
        rows = read_rows(path, ["exam_no"])
        assert next(rows) == (2, ("1",))
        if finish == "close":
            rows.close()
        else:
            assert list(rows) == [(3, ("2",)), (4, ("3",))]
        assert opened[-1]._archive.fp is None  # the zip file is closed
