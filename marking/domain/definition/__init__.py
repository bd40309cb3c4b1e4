"""Parse and validate a session definition (``session.toml``) into frozen dataclasses.

Numbers are read with ``tomllib``'s ``parse_float=Decimal``, so ``0.5`` in the file is
``Decimal("0.5")`` exactly and never passes through a binary float. Every problem in
the file is collected and reported at once (InputErrors), each located by a path such
as ``components[1].questions[3] (question 41)``; indexes count from 1, in the order
the entries appear in the file, as a person reading it would count them.

The answer-key forms (what "B", "ACD", "对" or a fill-in text mean) are defined here,
once, and ``marking.domain.objective`` scores responses with the same functions.

The package, module by module: ``model`` (the frozen dataclasses and question types),
``answers`` (the answer-key forms), ``parser`` (the file, the TOML and the whole document:
[session], [[groups]], [[components]]), ``questions`` (one question), ``fields`` (typed
fields and the problems they collect). Callers import from the package.
"""

from marking.domain.definition.answers import (
    multiple_choice_letters,
    normalise_fill_blank,
    normalise_single_choice,
    normalise_true_false,
)
from marking.domain.definition.model import (
    DEFAULT_EXAM_NUMBER_DIGITS,
    DEFAULT_MAX_HELD,
    DEFAULT_TIME_ZONE,
    MAX_EXAM_NUMBER_DIGITS,
    MAX_HELD_LIMIT,
    TYPE_NAMES,
    ComponentDef,
    GroupDef,
    QualificationDef,
    QuestionDef,
    QuestionType,
    SessionDef,
)
from marking.domain.definition.parser import (
    load_session_definition,
    parse_answer,
    parse_session_definition,
    session_time_zone,
)

__all__ = [
    "DEFAULT_EXAM_NUMBER_DIGITS",
    "DEFAULT_MAX_HELD",
    "DEFAULT_TIME_ZONE",
    "MAX_EXAM_NUMBER_DIGITS",
    "MAX_HELD_LIMIT",
    "TYPE_NAMES",
    "ComponentDef",
    "GroupDef",
    "QualificationDef",
    "QuestionDef",
    "QuestionType",
    "SessionDef",
    "load_session_definition",
    "multiple_choice_letters",
    "normalise_fill_blank",
    "normalise_single_choice",
    "normalise_true_false",
    "parse_answer",
    "parse_session_definition",
    "session_time_zone",
]
