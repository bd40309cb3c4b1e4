"""Answer-sheet layout (DESIGN §12): deterministic, inside the page, nothing overlapping,
the header untouched by answers, boxes whole and flowing, options following the key."""

from __future__ import annotations

import json
from decimal import Decimal
from itertools import combinations, pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marking.demo.synthetic import session_toml
from marking.domain.definition import (
    ComponentDef,
    QuestionDef,
    QuestionType,
    parse_session_definition,
)
from marking.paper.layout import (
    CAPTION,
    CONTENT_TOP,
    GAP,
    MARK_INSET,
    MAX_DIGITS,
    MAX_LINES,
    MAX_PAGES,
    LayoutError,
    layout_digest,
    layout_json,
    layout_text,
    sheet_layout,
)
from marking.paper.printing import print_sheets
from reports.sheetdata import (
    ANSWER,
    BOTTOM,
    FILL_BLANK,
    LEFT,
    LINE_PITCH,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RIGHT,
    Box,
    SheetLayout,
    SheetPage,
)

SESSION = parse_session_definition(session_toml("2026-GD-0412", questions_per_component=30))
THEORY = SESSION.components[0]


def q(number: str, kind: QuestionType, top: str = "2", answer: str | None = None) -> QuestionDef:
    objective = kind.is_objective
    return QuestionDef(
        number=number,
        bank_item=f"B-{number}",
        type=kind,
        max=Decimal(top),
        step=Decimal(top) if objective else Decimal(1),
        tolerance=None if objective else Decimal(1),
        group=None if objective else kind.value,
        reference="",
        scheme="",
        answer=(answer or "A",) if objective else None,
    )


def component(*questions: QuestionDef) -> ComponentDef:
    return ComponentDef("theory", "理论知识", questions)


def content(page: SheetPage) -> list[tuple[str, Box]]:
    """Every element of the page but the header's insides, named for the messages."""
    items = [(f"mark {i}", m) for i, m in enumerate(page.marks)] + [("qr", page.qr)]
    if page.header is not None:
        items.append(("header", page.header.box))
    items += [(f"section {s.title}", s.box) for s in page.sections]
    items += [(f"bubble {b.question}{b.option}", b.box) for b in page.bubbles]
    items += [(f"box {a.question}", a.box) for a in page.answers]
    return items


def assert_sound(layout: SheetLayout) -> None:
    """Inside the margins, pairwise disjoint, boxes whole on a page, header untouched."""
    for page in layout.pages:
        items = content(page)
        page_area = Box(
            MARK_INSET, MARK_INSET, PAGE_WIDTH - 2 * MARK_INSET, PAGE_HEIGHT - 2 * MARK_INSET
        )
        column = Box(LEFT, MARK_INSET, RIGHT - LEFT, BOTTOM - MARK_INSET)
        for name, box in items:
            assert page_area.contains(box), (page.number, name)
        for name, box in items[5:]:  # the content, within its column above the footer
            assert column.contains(box), (page.number, name)
        for (name_a, a), (name_b, b) in combinations(items, 2):
            assert not a.overlaps(b), f"page {page.number}: {name_a} overlaps {name_b}"
        for answer in page.answers:
            assert page.header is None or not answer.box.overlaps(page.header.box)
        if page.number > 1:
            assert page.header is None
            assert all(box.y >= CONTENT_TOP for _name, box in items[5:])


def assert_header_sound(layout: SheetLayout) -> None:
    header = layout.pages[0].header
    assert header is not None
    parts = [header.name, header.id_number, header.absent, header.violation]
    parts += header.exam_number_cells
    parts += [b.box for b in header.exam_number]
    for part in parts:
        assert header.box.contains(part)
    for a, b in combinations(parts, 2):
        assert not a.overlaps(b)


def test_the_same_definition_gives_the_same_layout_and_bytes() -> None:
    again = parse_session_definition(session_toml("2026-GD-0412", questions_per_component=30))
    assert sheet_layout(again.components[0]) == sheet_layout(THEORY)
    assert layout_text(sheet_layout(again.components[0])) == layout_text(sheet_layout(THEORY))
    # A different definition (one answer box more) is a different layout, and digest.
    more = component(*THEORY.questions, q("99", QuestionType.ESSAY, "20"))
    assert layout_digest(sheet_layout(more)) != layout_digest(sheet_layout(THEORY))


@pytest.mark.parametrize("comp", SESSION.components, ids=lambda c: c.key)
def test_every_element_is_inside_the_page_and_none_overlaps(comp: ComponentDef) -> None:
    layout = sheet_layout(comp)
    assert_sound(layout)
    assert_header_sound(layout)


def test_every_question_appears_once_in_order() -> None:
    layout = sheet_layout(THEORY)
    bubbled = {b.question for p in layout.pages for b in p.bubbles}
    answers = [a for p in layout.pages for a in p.answers]
    kinds = {a.question: a.kind for a in answers}
    for question in THEORY.questions:
        if question.type is QuestionType.FILL_BLANK:
            assert kinds[question.number] == FILL_BLANK and question.number not in bubbled
        elif question.is_objective:
            assert question.number in bubbled and question.number not in kinds
        else:
            assert kinds[question.number] == ANSWER and question.number not in bubbled
    assert len(answers) == len(kinds)
    written = [a.question for a in answers if a.kind == ANSWER]
    assert written == [x.number for x in THEORY.questions if not x.is_objective]


def test_answer_boxes_flow_whole_onto_the_next_page() -> None:
    # Boxes of 10 lines (87 mm): two to a continuation page, the third goes over.
    questions = [q(str(n), QuestionType.ESSAY, "10") for n in range(1, 8)]
    layout = sheet_layout(component(*questions), lines={str(n): 10 for n in range(1, 8)})
    assert_sound(layout)
    placed = [(p.number, a) for p in layout.pages for a in p.answers]
    assert all(a.box.h == CAPTION + 10 * LINE_PITCH for _n, a in placed)
    for (page_a, a), (page_b, b) in pairwise(placed):
        if page_b == page_a:
            assert b.box.y == a.box.bottom + GAP
        else:  # moved on only because it did not fit below its predecessor
            assert page_b == page_a + 1 and b.box.y == CONTENT_TOP
            assert a.box.bottom + GAP + b.box.h > BOTTOM
    assert [n for n, _a in placed] == [1, 2, 2, 3, 3, 4, 4]


def test_answer_box_height_follows_max_or_the_lines_hint_up_to_a_page() -> None:
    questions = (
        q("1", QuestionType.SHORT_ANSWER, "10"),
        q("2", QuestionType.ESSAY, "20"),
        q("3", QuestionType.ESSAY, "1000"),
        q("4", QuestionType.CALCULATION, "10"),
    )
    layout = sheet_layout(component(*questions), lines={"4": 3})
    boxes = {a.question: a for p in layout.pages for a in p.answers}
    assert {n: a.lines for n, a in boxes.items()} == {"1": 7, "2": 12, "3": MAX_LINES, "4": 3}
    assert boxes["3"].box.h <= BOTTOM - CONTENT_TOP
    assert_sound(layout)
    huge = sheet_layout(component(*questions), lines={"1": 500})
    assert next(a for p in huge.pages for a in p.answers if a.question == "1").lines == MAX_LINES


@pytest.mark.parametrize(
    ("hints", "message"),
    [
        ({"lines": {"77": 3}}, "no examiner-marked question 77"),
        ({"lines": {"5": 3}}, "no examiner-marked question 5"),
        ({"lines": {"1": 0}}, "at least 1 line"),
        ({"options": {"1": 6}}, "no choice question 1"),
        ({"options": {"5": 1}}, "cannot hold its key"),
        ({"options": {"5": 27}}, "cannot hold its key"),
        ({"exam_number_digits": MAX_DIGITS + 1}, "1 to 14 digits"),
        ({"exam_number_digits": 0}, "1 to 14 digits"),
    ],
)
def test_hints_that_cannot_be_followed_are_refused(hints: dict[str, object], message: str) -> None:
    comp = component(
        q("1", QuestionType.SHORT_ANSWER, "10"), q("5", QuestionType.SINGLE_CHOICE, answer="C")
    )
    with pytest.raises(LayoutError, match=message):
        sheet_layout(comp, **hints)  # type: ignore[arg-type]


def test_options_follow_the_key() -> None:
    comp = component(
        q("1", QuestionType.SINGLE_CHOICE, answer="B"),
        q("2", QuestionType.SINGLE_CHOICE, answer="E"),
        q("3", QuestionType.MULTIPLE_CHOICE, answer="ACF"),
        q("4", QuestionType.TRUE_FALSE, answer="T"),
        q("5", QuestionType.MULTIPLE_CHOICE, answer="AB"),
        q("6", QuestionType.FILL_BLANK, answer="接地"),
    )
    layout = sheet_layout(comp, options={"5": 5})
    options: dict[str, list[str]] = {}
    for b in layout.pages[0].bubbles:
        options.setdefault(b.question, []).append(b.option)
    assert options == {
        "1": list("ABCD"),
        "2": list("ABCDE"),
        "3": list("ABCDEF"),
        "4": ["T", "F"],
        "5": list("ABCDE"),
    }
    rows: dict[str, set[float]] = {}
    for b in layout.pages[0].bubbles:
        rows.setdefault(b.question, set()).add(b.y)
    assert all(len(ys) == 1 for ys in rows.values())  # a question's options on one row
    assert [s.title for s in layout.pages[0].sections] == [
        "单项选择题",
        "多项选择题",
        "判断题",
        "填空题",
    ]
    assert_sound(layout)


def test_the_exam_number_grid_has_a_column_per_digit() -> None:
    layout = sheet_layout(THEORY, exam_number_digits=12)
    header = layout.pages[0].header
    assert header is not None and len(header.exam_number_cells) == 12
    grid = {(b.column, b.digit): b for b in header.exam_number}
    assert set(grid) == {(c, d) for c in range(12) for d in range(10)}
    for c in range(12):
        ys = [grid[c, d].y for d in range(10)]
        assert ys == sorted(ys) and len({grid[c, d].x for d in range(10)}) == 1
    xs = [grid[c, 0].x for c in range(12)]
    assert xs == sorted(xs)
    assert_header_sound(sheet_layout(THEORY, exam_number_digits=MAX_DIGITS))


def test_many_objective_questions_continue_their_section_on_the_next_page() -> None:
    questions = [q(str(n), QuestionType.SINGLE_CHOICE, answer="B") for n in range(1, 201)]
    layout = sheet_layout(component(*questions))
    assert len(layout.pages) > 1
    assert_sound(layout)
    for page in layout.pages:  # each page the section is on starts with its title
        assert [s.title for s in page.sections] == ["单项选择题"]
        assert page.sections[0].box.y < min(b.y for b in page.bubbles)
    seen = [b.question for p in layout.pages for b in p.bubbles if b.option == "A"]
    assert seen == [str(n) for n in range(1, 201)]


def test_the_layout_file_has_the_form_design_gives() -> None:
    layout = sheet_layout(THEORY)
    text = layout_text(layout)
    document = json.loads(text)
    assert document == json.loads(json.dumps(layout_json(layout)))
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert document["unit"] == "mm" and document["page_size"] == {"w": 210.0, "h": 297.0}
    first, *rest = document["pages"]
    assert first["page"] == 1 and len(first["corner_marks"]) == 4
    assert set(first["qr"]) == {"x", "y", "w", "h"}
    assert {"name", "id_number", "absent", "violation"} <= set(first["header"])
    assert len(first["exam_number"]) == 100
    assert set(first["exam_number"][0]) == {"column", "digit", "x", "y", "r"}
    assert set(first["objective"][0]) == {"question", "option", "x", "y", "r"}
    boxes = [a for page in document["pages"] for a in page["answer_boxes"]]
    assert {"question", "kind", "lines", "x", "y", "w", "h"} == set(boxes[0])
    assert all(page["header"] is None and page["exam_number"] == [] for page in rest)


QUESTION_TYPES = st.sampled_from(list(QuestionType))


@st.composite
def components(draw: st.DrawFn) -> ComponentDef:
    kinds = draw(st.lists(QUESTION_TYPES, min_size=1, max_size=40))
    questions = []
    for n, kind in enumerate(kinds, start=1):
        top = draw(st.sampled_from(["1", "2", "5", "10", "20", "40"]))
        answer = {
            QuestionType.SINGLE_CHOICE: draw(st.sampled_from("ABCDEFG")),
            QuestionType.MULTIPLE_CHOICE: draw(st.sampled_from(["AB", "ACE", "BDFH"])),
            QuestionType.TRUE_FALSE: draw(st.sampled_from("TF")),
        }.get(kind, "x")
        questions.append(q(str(n), kind, top, answer))
    return component(*questions)


@settings(max_examples=40, deadline=None)
@given(components(), st.integers(min_value=1, max_value=MAX_DIGITS))
def test_any_component_lays_out_soundly(comp: ComponentDef, digits: int) -> None:
    layout = sheet_layout(comp, exam_number_digits=digits)
    assert_sound(layout)
    assert_header_sound(layout)
    assert layout == sheet_layout(comp, exam_number_digits=digits)


def test_a_set_longer_than_a_page_code_can_number_is_refused() -> None:
    # A page of writing each: MAX_PAGES questions fit (page 1 holds the header and one box).
    essays = [q(str(n), QuestionType.ESSAY, top="100") for n in range(1, MAX_PAGES + 1)]
    assert len(sheet_layout(component(*essays[:-1])).pages) == MAX_PAGES
    with pytest.raises(LayoutError, match=f"need {MAX_PAGES + 1} pages"):
        sheet_layout(component(*essays))


def test_a_session_code_too_long_for_a_page_code_is_refused_before_printing() -> None:
    session = parse_session_definition(session_toml("S" * 65, questions_per_component=4))
    with pytest.raises(LayoutError, match="longer than the 64 characters"):
        print_sheets(session, "theory", 1)
