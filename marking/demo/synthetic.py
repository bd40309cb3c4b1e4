"""Synthetic sessions, rosters and responses (Chinese names, valid ID numbers), seeded.

Used by `blindmark demo`, the tests and the benchmarks; never by real intake.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容", "司徒", "长孙")
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏辉玲桂芳燕丹建华红梅晶飞浩凯"
    "宇轩子涵梓萱欣怡一诺思远雨桐俊杰家豪嘉怡志强文博晓东春燕海燕国庆建国志明永红淑珍"
)
INSTITUTIONS = (
    "广州市技师学院",
    "深圳市第二职业技术学校",
    "佛山市顺德区职业技术学校",
    "东莞市技师学院",
    "广东省电力工程公司",
    "珠海市高级技工学校",
    "中山市建筑安装有限公司",
    "惠州市供电局",
)
REGIONS = ("440103", "440104", "440106", "440303", "440304", "440604", "441900", "440402")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

SUBJECTIVE_SNIPPETS = (
    "答：应先切断电源，验明无电后挂接地线，再悬挂标示牌。",
    "根据欧姆定律 I=U/R，电流为 2.2 安培，功率约 484 瓦。",
    "三相异步电动机的启动方式有直接启动、星三角降压启动和自耦变压器降压启动。",
    "漏电保护器应每月按试验按钮检查一次，动作不可靠时立即更换。",
    "接地电阻不大于4欧姆，测量时应断开接地线与设备的连接。",
    "检查线路绝缘，用兆欧表测量，绝缘电阻不低于0.5兆欧。",
    "先检查熔断器和热继电器，再检查接触器线圈和控制回路。",
    "不会。",
)


def id_check_char(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


@dataclass(frozen=True)
class SyntheticCandidate:
    exam_no: str
    name: str
    id_number: str
    institution: str
    ability: float


def roster(n: int, *, seed: int, prefix: str = "2612") -> list[SyntheticCandidate]:
    """``n`` candidates sorted by exam number, with unique, checksummed ID numbers."""
    rng = random.Random(seed)
    ids: set[str] = set()
    out = []
    for i in range(1, n + 1):
        pool = COMPOUND_SURNAMES if rng.random() < 0.04 else SURNAMES
        surname = rng.choice(pool)
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        while True:
            birth = dt.date(1975, 1, 1) + dt.timedelta(days=rng.randrange(365 * 30))
            first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
            idn = first17 + id_check_char(first17)
            if idn not in ids:
                ids.add(idn)
                break
        out.append(
            SyntheticCandidate(
                exam_no=f"{prefix}{i:08d}",
                name=surname + given,
                id_number=idn,
                institution=rng.choice(INSTITUTIONS),
                ability=min(0.97, max(0.15, rng.gauss(0.68, 0.15))),
            )
        )
    return out


OBJECTIVE_TYPES = ("single_choice", "multiple_choice", "true_false", "fill_blank")
SUBJECTIVE_TYPES = ("short_answer", "calculation", "essay", "case_analysis", "practical")
GROUPS = {
    "short_answer": ("short", "简答题", 2, "10", "0.5", "2"),
    "calculation": ("calc", "计算题", 2, "10", "1", "2"),
    "essay": ("essay", "论述题", 2, "20", "1", "4"),
    "case_analysis": ("case", "案例分析题", 2, "20", "1", "4"),
    "practical": ("practical", "实操题", 3, "20", "0.5", "6"),
}


@dataclass(frozen=True)
class PaperQuestion:
    component: str
    number: str
    type: str
    max: str
    answer: str | None


def paper(questions_per_component: int = 30, objective_share: float = 0.5) -> list[PaperQuestion]:
    """A paper of two components; the first share of each component's questions is objective."""
    out = []
    for component in ("theory", "skills"):
        n_obj = round(questions_per_component * objective_share)
        for i in range(1, questions_per_component + 1):
            if i <= n_obj:
                qtype = OBJECTIVE_TYPES[(i - 1) % len(OBJECTIVE_TYPES)]
                answer, qmax = {
                    "single_choice": ("ABCD"[i % 4], "2"),
                    "multiple_choice": (("AC", "BCD", "ABD")[i % 3], "2"),
                    "true_false": ("TF"[i % 2], "1"),
                    "fill_blank": (("接地", "绝缘电阻", "36")[i % 3], "2"),
                }[qtype]
            else:
                pool = SUBJECTIVE_TYPES[:3] if component == "theory" else SUBJECTIVE_TYPES[3:]
                qtype = pool[(i - n_obj - 1) % len(pool)]
                answer, qmax = None, GROUPS[qtype][3]
            out.append(PaperQuestion(component, str(i), qtype, qmax, answer))
    return out


def session_toml(
    code: str,
    *,
    level: int = 3,
    date: str = "2026-12-05",
    questions_per_component: int = 30,
    objective_share: float = 0.5,
    station: str = "GD-0107",
    group_lines: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """A session definition in DESIGN §11's format for an electrician (电工) exam;
    ``group_lines``: group key → extra lines of its ``[[groups]]`` table (quality control,
    DESIGN §13: ``qualification``, ``seed_rate``, ``remark_rate``)."""
    questions = paper(questions_per_component, objective_share)
    used = sorted({q.type for q in questions if q.answer is None}, key=SUBJECTIVE_TYPES.index)
    lines = [
        "[session]",
        f'code = "{code}"',
        'occupation = "电工"',
        'occupation_code = "6-31-01-03"',
        f"level = {level}",
        f'date = "{date}"',
        f'station = "{station}"',
        "",
    ]
    for qtype in used:
        key, name, required, *_ = GROUPS[qtype]
        lines += [
            "[[groups]]",
            f'key = "{key}"',
            f'name = "{name}"',
            f"marks_required = {required}",
            *(group_lines or {}).get(key, ()),
            "",
        ]
    names = {"theory": "理论知识", "skills": "操作技能"}
    for component in ("theory", "skills"):
        lines += ["[[components]]", f'key = "{component}"', f'name = "{names[component]}"', ""]
        for q in (q for q in questions if q.component == component):
            prefix = "DG3" if component == "theory" else "DG3S"
            lines += [
                "[[components.questions]]",
                f'number = "{q.number}"',
                f'bank_item = "{prefix}-{int(q.number):04d}"',
                f'type = "{q.type}"',
                f"max = {q.max}",
            ]
            if q.answer is not None:
                lines.append(f'answer = "{q.answer}"')
            else:
                key, _name, _req, _max, step, tolerance = GROUPS[q.type]
                lines += [
                    f"step = {step}",
                    f"tolerance = {tolerance}",
                    f'group = "{key}"',
                    'reference = "要点：安全措施、步骤完整、结论正确。"',
                    'scheme = "每个要点按比例给分；表述不清酌情扣分。"',
                ]
            lines.append("")
    return "\n".join(lines)


def _png(width: int, height: int, shade: int) -> bytes:
    """A small grey PNG (stands in for a scanned answer in synthetic batches)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _wrong(answer: str, qtype: str, rng: random.Random) -> str:
    if qtype == "true_false":
        return "F" if answer == "T" else "T"
    if qtype == "fill_blank":
        return rng.choice(("不知道", "电阻", "12", ""))
    letters = [c for c in "ABCD" if c not in answer] or ["A"]
    return (
        rng.choice(letters) if qtype == "single_choice" else "".join(sorted(rng.sample("ABCD", 2)))
    )


def response_rows(
    candidates: list[SyntheticCandidate],
    questions: list[PaperQuestion],
    *,
    seed: int,
    absent_rate: float = 0.02,
    blank_rate: float = 0.03,
    image_rate: float = 0.0,
) -> Iterator[tuple[str, str, str, str, str]]:
    """Rows of responses.csv in roster order: (exam_no, component, question, response, image)."""
    rng = random.Random(seed + 1)
    by_component: dict[str, list[PaperQuestion]] = {}
    for q in questions:
        by_component.setdefault(q.component, []).append(q)
    for c in candidates:
        for component, qs in by_component.items():
            if rng.random() < absent_rate:
                continue
            for q in qs:
                if rng.random() < blank_rate:
                    continue
                image = ""
                if q.answer is not None:
                    text = q.answer if rng.random() < c.ability else _wrong(q.answer, q.type, rng)
                else:
                    text = rng.choice(SUBJECTIVE_SNIPPETS)
                    if image_rate and rng.random() < image_rate:
                        image = f"images/{rng.randrange(8)}.png"
                yield c.exam_no, component, q.number, text, image


def write_batch(
    folder: Path,
    candidates: list[SyntheticCandidate],
    questions: list[PaperQuestion],
    *,
    seed: int,
    image_rate: float = 0.0,
    absent_rate: float = 0.02,
) -> int:
    """Write candidates.csv, responses.csv (and images/) into ``folder``; returns response rows."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "candidates.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("exam_no", "name", "id_number", "institution"))
        w.writerows((c.exam_no, c.name, c.id_number, c.institution) for c in candidates)
    if image_rate:
        (folder / "images").mkdir(exist_ok=True)
        for i in range(8):
            (folder / "images" / f"{i}.png").write_bytes(_png(64, 32, 40 + 25 * i))
    count = 0
    with (folder / "responses.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("exam_no", "component", "question", "response", "image"))
        for row in response_rows(
            candidates, questions, seed=seed, image_rate=image_rate, absent_rate=absent_rate
        ):
            w.writerow(row)
            count += 1
    return count


def examiners_csv(
    path: Path,
    *,
    count: int,
    seed: int,
    occupation_code: str = "6-31-01-03",
    leads: Sequence[str] = (),
    run: int = 1,
) -> list[str]:
    """An examiners.csv with ``count`` examiners (a third senior), then a senior examiner's
    certificate for each of ``leads`` (existing lead accounts: DESIGN §14); returns the
    examiners' usernames.

    The examiners are the same people on every ``run`` of a seed (exam001… with the same
    certificates: importing the file again updates their accounts). The leads are new
    accounts on each run of the demo (``lead-demo-<seed>-<run>``), new people, so their
    certificate numbers are derived from ``run``: a certificate number is unique, and a
    later run's lead must not take an earlier run's."""
    rng = random.Random(seed + 7)
    names = roster(count, seed=seed + 11)
    usernames = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            (
                "username",
                "name",
                "certificate_no",
                "certificate_expires",
                "grade",
                "scope",
                "institution",
            )
        )
        for i, person in enumerate(names, start=1):
            username = f"exam{i:03d}"
            usernames.append(username)
            w.writerow(
                (
                    username,
                    person.name,
                    f"KPY{seed % 1000:03d}{i:05d}",
                    f"{2027 + rng.randrange(3)}-{rng.randrange(1, 13):02d}-28",
                    "senior" if i % 3 == 0 else "examiner",
                    f"{occupation_code}:3;{occupation_code}:2"
                    if i % 3 == 0
                    else f"{occupation_code}:3",
                    rng.choice(INSTITUTIONS),
                )
            )
        for i, lead in enumerate(leads, start=1):
            levels = ";".join(f"{occupation_code}:{level}" for level in (3, 2))
            w.writerow(
                (
                    lead,
                    f"考评组长{i}",
                    f"KPL{seed % 1000:03d}{run:02d}{i:03d}",
                    "2028-12-28",
                    "senior",
                    levels,
                    rng.choice(INSTITUTIONS),
                )
            )
    return usernames
