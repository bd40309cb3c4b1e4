"""The words of the reports, in Chinese (the users' language, default) and English."""

from __future__ import annotations

from collections.abc import Mapping

from reports.errors import ReportError

LANGS = ("zh", "en")

CATALOG: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "register": "成绩册",
        "notice": "成绩通知单",
        "passlist": "合格人员名册",
        "stats": "统计分析报告",
        "occupation": "职业（工种）",
        "level": "等级",
        "date": "鉴定日期",
        "station": "鉴定站（所）",
        "session": "场次",
        "exam_no": "准考证号",
        "name": "姓名",
        "id_number": "身份证号",
        "institution": "单位",
        "interview": "综合评审",
        "outcome": "鉴定结果",
        "seq": "序号",
        "pass": "合格",
        "fail": "不合格",
        "void": "成绩无效",
        "absent": "缺考",
        "page": "第 {x} 页，共 {y} 页",
        "revised": "{title}（第 {n} 次修订）",
        "revision_reason": "修订原因（复核）",
        "results_sha256": "结果摘要（SHA-256）",
        "ledger_head": "账本头",
        "attributions": "评分与登统签署",
        "group": "评分组",
        "markers": "评分人",
        "third_markers": "第三评",
        "arbitrators": "仲裁",
        "correctors": "更正",
        "scheme_approved": "评分标准批准",
        "marking_period": "评分时间",
        "marks": "评分次数",
        "tally": "登统（发布）人",
        "approver": "审核人",
        "published_at": "发布时间",
        "candidates": "考生人数",
        "lead": "考评组长",
        "signature": "签字",
        "item": "项目",
        "value": "内容",
        "notice_intro": "你参加的职业技能鉴定成绩如下：",
        "component": "科目",
        "score": "成绩",
        "result": "结论",
        "passed": "合格",
        "not_passed": "不合格",
        "absent_short": "缺考",
        "issued_by": "鉴定站（所）盖章",
        "issued_at": "发布日期",
        "passlist_count": "合格人数",
        "quality": "评分质量",
        "quality_note": "本部分只涉及考评员，不含任何考生信息。",
        "results_part": "成绩统计",
        "results_pending": "成绩尚未发布：成绩统计在发布后提供（第七条(十)）。",
        "outcomes": "鉴定结果分布",
        "count": "人数",
        "share": "比例",
        "pass_rates": "各科目合格率",
        "sat": "参考人数",
        "passed_n": "合格人数",
        "pass_rate": "合格率",
        "mean": "平均分",
        "sd": "标准差",
        "distribution": "成绩分布",
        "questions": "试题分析",
        "question": "题号",
        "max": "满分",
        "responses": "答卷数",
        "facility": "难度（得分率）",
        "discrimination": "区分度（点二列相关）",
        "third_rate": "三评率",
        "arbitration_rate": "仲裁率",
        "by_group": "各评分组一致性",
        "by_examiner": "各考评员一致性与宽严",
        "examiner": "考评员",
        "pairs": "双评对数",
        "exact": "完全一致",
        "adjacent": "相邻一致",
        "qwk": "加权 Kappa (QWK)",
        "mad": "平均绝对差",
        "severity": "宽严度（与最终分之差）",
        "no_marks": "尚无评分。",
        "monitoring": "质量控制监控（各评分组、各考评员）",
        "monitoring_note": (
            "宽严度此处为与同一作答其他考评员评分之差的平均值（正值偏宽）；每份秒数为中位数，"
            "超过 10 分钟的间隔不计；样卷与回评按该题允许误差判定；三评率按其初评的作答计算；"
            "分布图：深色为该考评员，浅色为本组，按满分的十分之一分段。"
        ),
        "m_status": "状态",
        "m_seconds": "每份秒数",
        "m_severity": "宽严度",
        "m_seeds": "样卷",
        "m_seed_within": "误差内",
        "m_remarks": "回评",
        "m_consistency": "一致性",
        "m_alarms": "警报",
        "m_chart": "分布",
        "m_chart_x": "分数（占满分）",
        "m_chart_y": "占比",
        "status_active": "在评",
        "status_qualifying": "资格测试中",
        "status_suspended": "已暂停",
        "alarm_seeds_off": "样卷偏差过多",
        "alarm_seed_bias": "样卷系统性偏差",
        "generated": "生成时间",
        "state": "状态",
        "state_draft": "草稿",
        "state_intake": "报名录入",
        "state_marking": "评分中",
        "state_reconciled": "已合分",
        "state_published": "已发布",
        "stats_notes": (
            "难度为平均得分与满分之比；区分度为该题得分与科目其余得分的相关系数；"
            "一致性按同一答卷两位独立评分计算，相邻一致指相差不超过一个评分步长；"
            "宽严度为考评员评分与最终分之差的平均值（负值偏严）；"
            "加权 Kappa (QWK) 即二次加权 Kappa，衡量两次评分超出随机的一致程度："
            "1 为完全一致，0 与随机无异。"
        ),
    },
    "en": {
        "register": "Score register",
        "notice": "Score notice",
        "passlist": "Pass list",
        "stats": "Statistics report",
        "occupation": "Occupation",
        "level": "Level",
        "date": "Date",
        "station": "Station",
        "session": "Session",
        "exam_no": "Exam no.",
        "name": "Name",
        "id_number": "ID number",
        "institution": "Institution",
        "interview": "Interview",
        "outcome": "Outcome",
        "seq": "No.",
        "pass": "Pass",
        "fail": "Fail",
        "void": "Void",
        "absent": "Absent",
        "page": "page {x} of {y}",
        "revised": "{title} (revision {n})",
        "revision_reason": "Reason for the revision (appeal)",
        "results_sha256": "Results SHA-256",
        "ledger_head": "Ledger head",
        "attributions": "Marking and tally attributions",
        "group": "Group",
        "markers": "Marked by",
        "third_markers": "Third marks",
        "arbitrators": "Arbitration",
        "correctors": "Corrected by",
        "scheme_approved": "Scheme approved",
        "marking_period": "Marking period",
        "marks": "Marks",
        "tally": "Tallied (published) by",
        "approver": "Approved by",
        "published_at": "Published at",
        "candidates": "Candidates",
        "lead": "Lead examiner",
        "signature": "Signature",
        "item": "Item",
        "value": "Value",
        "notice_intro": "Your skills-appraisal results are as follows:",
        "component": "Component",
        "score": "Score",
        "result": "Result",
        "passed": "Pass",
        "not_passed": "Fail",
        "absent_short": "Absent",
        "issued_by": "Stamp of the appraisal station",
        "issued_at": "Published on",
        "passlist_count": "Candidates who passed",
        "quality": "Marking quality",
        "quality_note": "This part concerns examiners only; it names no candidate.",
        "results_part": "Results",
        "results_pending": "Results are not published yet: this part follows publication (R8).",
        "outcomes": "Outcomes",
        "count": "Count",
        "share": "Share",
        "pass_rates": "Pass rates by component",
        "sat": "Sat",
        "passed_n": "Passed",
        "pass_rate": "Pass rate",
        "mean": "Mean",
        "sd": "SD",
        "distribution": "Score distribution",
        "questions": "Questions",
        "question": "Question",
        "max": "Max",
        "responses": "Responses",
        "facility": "Facility",
        "discrimination": "Discrimination (point-biserial)",
        "third_rate": "Third-mark rate",
        "arbitration_rate": "Arbitration rate",
        "by_group": "Agreement by marking group",
        "by_examiner": "Agreement and severity by examiner",
        "examiner": "Examiner",
        "pairs": "Pairs",
        "exact": "Exact",
        "adjacent": "Adjacent",
        "qwk": "Weighted kappa (QWK)",
        "mad": "Mean abs. difference",
        "severity": "Severity (mean mark − final)",
        "no_marks": "No marks yet.",
        "monitoring": "Quality control by group and examiner",
        "monitoring_note": (
            "Severity here is the mean difference from the other examiners' marks on the same "
            "answers (positive: generous); seconds per mark are a median, gaps over 10 minutes "
            "left out; seeds and re-marks are judged against the question's tolerance; the "
            "third-mark rate is over the answers they marked first; chart: the examiner "
            "(dark) against the group (light), by tenths of the maximum."
        ),
        "m_status": "Status",
        "m_seconds": "Seconds per mark",
        "m_severity": "Severity",
        "m_seeds": "Seeds",
        "m_seed_within": "Within tolerance",
        "m_remarks": "Re-marks",
        "m_consistency": "Consistency",
        "m_alarms": "Alarms",
        "m_chart": "Distribution",
        "m_chart_x": "Score (of the maximum)",
        "m_chart_y": "Share",
        "status_active": "marking",
        "status_qualifying": "qualifying",
        "status_suspended": "suspended",
        "alarm_seeds_off": "too many seeds off",
        "alarm_seed_bias": "systematic deviation on seeds",
        "generated": "Generated",
        "state": "State",
        "state_draft": "draft",
        "state_intake": "intake",
        "state_marking": "marking",
        "state_reconciled": "reconciled",
        "state_published": "published",
        "stats_notes": (
            "Facility is the mean score over the maximum; discrimination is the correlation "
            "of the question's score with the rest of the component (point-biserial for "
            "right/wrong questions); agreement is between two independent marks of a "
            "response, adjacent meaning at most one step apart; severity is an examiner's "
            "mean mark minus the final (negative: severe); weighted kappa (QWK) is the "
            "quadratic-weighted kappa of two marks of a response, agreement beyond chance: "
            "1 is perfect agreement, 0 no better than chance."
        ),
    },
}


def catalog(lang: str) -> Mapping[str, str]:
    """The words for ``lang`` (zh or en); anything else is refused with the choices."""
    try:
        return CATALOG[lang]
    except KeyError:
        raise ReportError(
            f"unknown report language {lang!r}: choose {' or '.join(LANGS)}"
        ) from None


def titled(t: Mapping[str, str], key: str, revision: int) -> str:
    """A report's title, naming the appeal revision it shows (复核: revision 2, 3, ...)."""
    if revision <= 1:
        return t[key]
    return t["revised"].format(title=t[key], n=revision)
