"""`blindmark correct`: a mark corrected, or the lead's arbitration (R6, 第七条(八))."""

from __future__ import annotations

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.store.db import transaction


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--response", "handle", help="The response's handle (as screens show it).")
@click.option("--script", "script_code", help="Or the script's code (with --question).")
@click.option("--question", help="component/number, e.g. theory/2 (with --script).")
@click.option("--by", required=True, help="Who corrects: the mark's examiner, or the lead.")
@click.option("--examiner", help="Whose mark the lead corrects (default: --by's own).")
@click.option(
    "--arbitration", is_flag=True, help="The lead corrects their arbitration, not a mark."
)
@click.option("--value", required=True, help="The corrected mark.")
@click.option("--reason", required=True, help="Why (R6: a correction is signed).")
@pass_ctx
@handle_errors
def correct(
    ctx: Context,
    code: str,
    handle: str | None,
    script_code: str | None,
    question: str | None,
    by: str,
    examiner: str | None,
    arbitration: bool,
    value: str,
    reason: str,
) -> None:
    """Correct a mark: a new record naming the old one, with the reason (nothing is
    overwritten). The examiner corrects their own while the response is not final; after
    that only the lead (the deputy where the lead is excluded). The response is reconciled
    again at once."""
    from marking.people.accounts import get_account
    from marking.queue import handles
    from marking.queue.corrections import correct_arbitration, correct_mark, response_by_script
    from marking.setup.sessions import get_session

    if (handle is None) == (script_code is None):
        raise click.UsageError("name the response: --response HANDLE, or --script CODE --question")
    if script_code is not None and (question is None or "/" not in question):
        raise click.UsageError("--script needs --question component/number, e.g. theory/2")
    if arbitration and examiner is not None:
        raise click.UsageError("--arbitration corrects the lead's ruling, not an examiner's mark")
    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        if handle is not None:
            response_id = handles.response_id(exam, handle)
        else:
            assert script_code is not None and question is not None
            component, _slash, number = question.partition("/")
            response_id = response_by_script(
                db, exam, script_code=script_code, component=component, question=number
            )
        account = get_account(db, by)
        if arbitration:
            ruling = correct_arbitration(
                db, exam, account, response_id=response_id, value=value, reason=reason
            )
            click.echo(f"arbitration corrected to {ruling.value:f} by {by}")
            return
        done = correct_mark(
            db,
            exam,
            account,
            response_id=response_id,
            examiner=get_account(db, examiner) if examiner else None,
            value=value,
            reason=reason,
        )
        final = "" if done.final is None else f", final {done.final:f}"
        click.echo(
            f"mark corrected from {done.correction.old_value:f} to {done.correction.value:f} "
            f"by {by}: the response is {done.state.value}{final}"
        )
