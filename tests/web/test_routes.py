"""Every route × every role (and anonymous) against the expected table: a new route without
an entry here fails, and so does a route that lets in a role it should not."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from tests.web.conftest import ROLES, USERNAMES, World, csrf_of

PUBLIC = "public"  # no login needed
ANY = "any"  # any logged-in account
EXPECTED: dict[str, set[str] | str] = {
    "set_language": PUBLIC,
    "auth.home": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": ANY,
    "auth.account": ANY,
    "auth.token_create": ANY,
    "auth.token_revoke": ANY,
    "auth.share_take": {"office", "director", "lead", "admin"},
    "auth.conflict_declare": {"examiner", "lead"},
    "auth.invitation": PUBLIC,
    "examiner.home": {"examiner"},
    "examiner.mark": {"examiner"},
    "examiner.qualification": {"examiner"},
    "examiner.qualification_start": {"examiner"},
    "examiner.qualification_mark": {"examiner"},
    "examiner.interview": {"examiner"},
    "examiner.interview_enter": {"examiner"},
    "lead.home": {"lead", "examiner"},
    "lead.session": {"lead"},
    "lead.approve": {"lead"},
    "lead.withdraw": {"lead"},
    "lead.assign": {"lead"},
    "lead.anomalies": {"lead"},
    "lead.resolve": {"lead"},
    "lead.correct_key": {"lead"},
    "lead.arbitration": {"lead"},
    "lead.arbitrate": {"lead"},
    "lead.corrections": {"lead"},
    "lead.correct": {"lead"},
    "lead_quality.overview": {"lead"},
    "lead_quality.group_items": {"lead"},
    "lead_quality.add_item": {"lead"},
    "lead_quality.retire_item": {"lead"},
    "lead_quality.close_reports": {"lead"},
    "lead_quality.confirm_suspend": {"lead"},
    "lead_quality.suspend": {"lead"},
    "lead_quality.reinstate": {"lead"},
    "lead_quality.qualify": {"lead"},
    "lead_quality.alarms": {"lead"},
    "lead_quality.close_alarm": {"lead"},
    "lead.monitoring": {"lead"},
    "lead.monitoring_csv": {"lead"},
    "office.home": {"office"},
    "office.create": {"office"},
    "office.builder": {"office"},
    "office.builder_template": {"office"},
    "office.builder_form": {"office"},
    "office.session": {"office"},
    "office.keys": {"office"},
    "office.intake": {"office"},
    "office.assign": {"office"},
    "office.unassign": {"office"},
    "office.deputy": {"office"},
    "office.withdraw": {"office"},
    "office.conflicts": {"office"},
    "office.examiners": {"office"},
    "office.examiners_import": {"office"},
    "office.examiner_absence": {"office"},
    "office.examiner_record": {"office"},
    "office.publication": {"office"},
    "office.publish": {"office"},
    "office.results": {"office"},
    "office.sheets": {"office"},
    "office.sheet_layout": {"office"},
    "office.notices_job": {"office"},
    "office.notices_run": {"office"},
    "office.notices_download": {"office"},
    "office.verify": {"office"},
    "office.examiner_access": {"office"},
    "office.examiner_password": {"office"},
    "office.examiner_invite": {"office"},
    "office.records": {"office"},
    "office.violation_enter": {"office"},
    "office.interview_transcribe": {"office"},
    "office.interview_absent": {"office"},
    "office.records_upload": {"office"},
    "office.record_withdraw": {"office"},
    "office.scans_progress": {"office"},
    "office.scan_batch_new": {"office"},
    "office.scan_files_add": {"office"},
    "office.quarantine": {"office"},
    "office.quarantine_resolve": {"office"},
    "office.quarantine_crop": {"office"},
    "office.scan_batch_close": {"office"},
    "office.revisions": {"office"},
    "office.office_monitoring": {"office"},
    "office.office_monitoring_csv": {"office"},
    "director.director_monitoring": {"director"},
    "director.director_monitoring_csv": {"director"},
    "office.revision_open": {"office"},
    "office.revision_publish": {"office"},
    "archive.start": {"office", "director"},
    "archive.run": {"office", "director"},
    "archive.download": {"office", "director"},
    "archive.verify": {"office", "director"},
    "director.home": {"director"},
    "director.session": {"director"},
    "director.approve": {"director"},
    "director.team_override": {"director"},
    "director.withdraw": {"director"},
    "director.results": {"director"},
    "director.revision": {"director"},
    "director.revision_approve": {"director"},
    "director.revision_withdraw": {"director"},
    "director.verify_director": {"director"},
    "centre.home": {"centre"},
    "centre.approve": {"centre"},
    "admin.home": {"admin"},
    "admin.create": {"admin"},
    "admin.update": {"admin"},
    "admin.approve": {"admin"},
    "admin.reject": {"admin"},
    "api.openapi": PUBLIC,
    "api.whoami": ANY,
    "api.token_list": ANY,
    "api.token_create": ANY,
    "api.token_revoke": ANY,
    "api.sessions": ANY,
    "api.session_create": {"office"},
    "api.session_progress": {"office", "director", "lead"},
    "api.session_keys": {"office"},
    "api.session_custodians": {"office", "director"},
    "api.share_list": {"office", "director", "lead", "admin"},
    "api.share_take": {"office", "director", "lead", "admin"},
    "api.session_intake": {"office"},
    "api.examiner_list": {"office"},
    "api.examiner_import": {"office"},
    "api.group_assign": {"office"},
    "api.session_deputy": {"office"},
    "api.session_batches": {"office"},
    "api.batch_withdraw": {"office"},
    "api.session_conflicts": {"office"},
    "api.conflict_list": {"examiner", "lead"},
    "api.conflict_declare": {"examiner", "lead"},
    "api.session_verify": {"office", "director"},
    "api.session_notices": {"office"},
    "api.examiner_password": {"office"},
    "api.examiner_invite": {"office"},
    "api.examiner_session": {"examiner"},
    "api.examiner_claim": {"examiner"},
    "api.examiner_qualification": {"examiner"},
    "api.examiner_qualification_start": {"examiner"},
    "api.examiner_qualification_held": {"examiner"},
    "api.examiner_held": {"examiner"},
    "api.examiner_mark": {"examiner"},
    "api.examiner_release": {"examiner"},
    "api.examiner_flag": {"examiner"},
    "api.examiner_last_mark": {"examiner"},
    "api.examiner_correct": {"examiner"},
    "api.response_image": {"examiner", "lead"},
    "api.lead_scheme": {"lead"},
    "api.lead_approve": {"lead"},
    "api.lead_anomalies": {"lead"},
    "api.lead_resolve": {"lead"},
    "api.lead_correct_key": {"lead"},
    "api.lead_arbitrations": {"lead"},
    "api.lead_arbitrate": {"lead"},
    "api.lead_response_marks": {"lead"},
    "api.lead_correct": {"lead"},
    "api.publication_state": {"office", "director"},
    "api.publication_approve": {"director"},
    "api.publication_withdraw": {"director"},
    "api.publication_publish": {"office"},
    "api.session_results": {"office", "director"},
    "api.session_export": {"office", "director"},
    "api.session_report": {"office", "director", "lead"},
    "api.session_records": {"office"},
    "api.violation_enter": {"office"},
    "api.interview_transcribe": {"office"},
    "api.interview_absent": {"office"},
    "api.record_withdraw": {"office"},
    "api.interview_mine": {"examiner"},
    "api.collectives_waiting": {"centre"},
    "api.collective_approve": {"centre"},
    "api.account_list": {"admin"},
    "api.account_create": {"admin"},
    "api.account_update": {"admin"},
    "api.account_request_list": {"admin"},
    "api.account_request_approve": {"admin"},
    "api.account_request_reject": {"admin"},
}
ARGS = {
    "code": "ROUTES-1",
    "group": "short",
    "handle": "0" * 26,  # well formed, but no response's or anomaly's: 404 where allowed
    "batch_id": 999999,
    "item_id": 999999,
    "token_id": 999999,
    "request_id": 999999,
    "record_id": 999999,
    "collective_id": 999999,
    "run_id": 999999,
    "username": "nobody",
    "what": "paper",
    "kind": "stats",
    "purpose": "seed",
    "component": "theory",
    "token": "x" * 43,  # no invitation's: the login page says the link is not valid
}


@pytest.fixture(scope="module", autouse=True)
def routes_session(world: World) -> None:
    world.session("ROUTES-1")


def rules(world: World) -> list[Rule]:
    found = [r for r in world.app.url_map.iter_rules() if r.endpoint != "static"]
    # Logging out ends the client's login: it goes last.
    return sorted(found, key=lambda r: r.endpoint == "auth.logout")


def url(rule: Rule) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", str(ARGS[name])).replace(f"<int:{name}>", str(ARGS[name]))
    return path


def test_every_route_has_an_entry(world: World) -> None:
    endpoints = {r.endpoint for r in rules(world)}
    assert endpoints - EXPECTED.keys() == set(), "routes without an expected-access entry"
    assert EXPECTED.keys() - endpoints == set(), "entries for routes that no longer exist"


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_reaches_exactly_its_routes(world: World, role: str | None) -> None:
    client = world.client(USERNAMES[role] if role else None)
    if role is None:  # a form token of its own, so that the login check is what answers
        client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_of(client)
    wrong = []
    for rule in rules(world):
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        answer = client.open(url(rule), method=method, data={})
        expected = EXPECTED[rule.endpoint]
        status = answer.status_code
        if expected == PUBLIC:
            ok = status not in (401, 403)
        elif role is None:
            is_api = rule.rule.startswith("/api/")
            ok = status == 401 if is_api else (status == 302 and "/login" in answer.location)
        elif expected == ANY or role in expected:
            ok = status not in (401, 403)
        else:
            ok = status == 403
        if not ok:
            wrong.append(f"{role or 'anonymous'} {method} {rule.rule}: {status}")
    assert not wrong, "\n".join(wrong)


def test_an_examiner_of_another_session_is_refused(world: World) -> None:
    world.session("ROUTES-2", examiners=("e4", "e5"))
    outsider = world.client("e4")
    answer = outsider.post("/api/v1/sessions/ROUTES-1/claim", json={"size": 1})
    assert answer.status_code == 403
    assert "ROUTES-1" in answer.json["detail"]
    assert outsider.get("/examiner/sessions/ROUTES-1/mark").status_code == 403
    # ...and a lead only leads their own sessions (here the lead of both is "lead").
    assert world.client("e1").get("/lead/sessions/ROUTES-2").status_code == 403
