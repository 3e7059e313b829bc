"""Request dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.services.sessions() as s:
        yield s


Db = Annotated[Session, Depends(get_session)]

# Record ids in paths: positive and within a signed 32-bit integer (SQLite and PostgreSQL
# both store them), so an absurd id is a 422, never a database overflow.
RecordId = Annotated[int, Path(ge=1, le=2_147_483_647, description="record id")]
