"""The bulletin as a filed document: its number (文号), issuing authority and issue date.

A month's bulletin is dated `issue_day` of the next month (China calendar). Its number is
the jurisdiction's prefix, the issue date's year in 〔〕 and the issue month (plus the
configured offset) as the sequence number: the October 2026 bulletin of 包河区 issued on
5 November 2026 is 包建安〔2026〕11号, the December one (issued in January) 包建安〔2027〕1号.
The same month always gets the same number, so a downloaded copy and a later one agree.
A jurisdiction without a configured authority gets no number and no invented authority.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from siteguard.api.settings import BulletinSettings


def issue_date_of(month: str, issue_day: int) -> date:
    """The day a month's (YYYY-MM) bulletin is dated: `issue_day` of the next month."""
    year, mon = (int(x) for x in month.split("-"))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return date(year, mon, issue_day)


def document_number(prefix: str, issued: date, offset: int = 0) -> str:
    return f"{prefix}〔{issued.year}〕{issued.month + offset}号"


def bulletin_document(jurisdiction: str, month: str, settings: BulletinSettings) -> dict[str, Any]:
    """number, authority (None when not configured), issue_date (ISO date), configured."""
    issued = issue_date_of(month, settings.issue_day)
    issuer = settings.issuer_of(jurisdiction)
    return {
        "number": document_number(issuer.number_prefix, issued, issuer.sequence_offset)
        if issuer
        else None,
        "authority": issuer.authority if issuer else None,
        "issue_date": issued.isoformat(),
        "configured": issuer is not None,
    }
