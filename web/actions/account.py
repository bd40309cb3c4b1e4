"""An account's own API tokens: listed and revoked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import NotFound
from marking.store.models import Account, ApiToken, utcnow
from web.actions.common import plain


def tokens(db: Session, account: Account) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "name": t.name,
            "created_at": t.created_at.isoformat(),
            "last_used_at": plain(t.last_used_at),
            "revoked": t.revoked_at is not None,
        }
        for t in db.scalars(
            select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id)
        )
    ]


def revoke_token(db: Session, account: Account, token_id: int) -> dict[str, Any]:

    token = db.get(ApiToken, token_id)
    if token is None or token.account_id != account.id:
        raise NotFound(f"no token {token_id} of yours")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.flush()
    return {"id": token_id, "revoked": True}
