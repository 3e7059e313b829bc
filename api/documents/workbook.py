"""Excel workbooks (openpyxl) the people's tools open: rows with text Excel can hold, and
the file's bytes. Project names and reasons are user data: a control character in one
(openpyxl refuses them) must not turn an export into a 500."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def sheet_row(values: Iterable[Any]) -> list[Any]:
    """The values with the characters a worksheet cannot hold removed from text."""
    return [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]


def workbook_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
