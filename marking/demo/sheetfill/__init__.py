"""Filled, degraded answer-sheet scans and their truth, seeded: the scan path's test corpus.

DESIGN §12 asks the scan path to be judged on sheets the project makes itself: printed
(marking.paper.printing, the real PDF), filled on the rendered pixels through the layout
(exam numbers, bubbles dark, light, ticked, crossed out, erased, double; handwriting in
answer boxes or none; 缺考 and 违纪), degraded as scanners do, and bundled with a missing
page, a repeated page and a page of another session. The truth says what a reader must
find, or refuse. Used by the accuracy and end-to-end tests and bench/scan.py; never by
real intake.

    source = source_from_definition(session_def, "theory", key=b"...")  # or source_from_exam
    corpus = make_corpus(source, exam_numbers, seed=7, faults=Faults(missing=1, foreign=1))
    write_pdf(corpus.images(), Path("bundle.pdf"))
    corpus.sheets[0].rows, corpus.pages[3].scan.locate(x_mm, y_mm)
"""

from marking.demo.sheetfill.blank import (
    SheetSource,
    sheet_page,
    source_from_definition,
    source_from_exam,
)
from marking.demo.sheetfill.corpus import Corpus, ScanImage, make_corpus
from marking.demo.sheetfill.truth import (
    CLEAN_MIX,
    NO_DEGRADE,
    BoxTruth,
    Degrade,
    ExamNumberTruth,
    Faults,
    Mix,
    PageTruth,
    RowTruth,
    Scan,
    SheetTruth,
)
from marking.demo.sheetfill.writers import (
    file_bytes,
    write_files,
    write_pdf,
    write_pdfs,
    write_tiff,
)

__all__ = [
    "CLEAN_MIX",
    "NO_DEGRADE",
    "BoxTruth",
    "Corpus",
    "Degrade",
    "ExamNumberTruth",
    "Faults",
    "Mix",
    "PageTruth",
    "RowTruth",
    "Scan",
    "ScanImage",
    "SheetSource",
    "SheetTruth",
    "file_bytes",
    "make_corpus",
    "sheet_page",
    "source_from_definition",
    "source_from_exam",
    "write_files",
    "write_pdf",
    "write_pdfs",
    "write_tiff",
]
