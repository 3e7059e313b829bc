"""The notices list as people use it: filters (project, state, level, overdue), a search
over the notice number and the project, a sort (most urgent deadline first by default),
pages of `PER_PAGE`, and the same rows as an Excel workbook (`notices_xlsx`).

A row's deadline is its earliest open item's (every item's once all are answered or
closed); ``due_in_s`` is the time left to it (negative: overdue; None: nothing open)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.documents.workbook import sheet_row, workbook_bytes
from siteguard.api.errors import Invalid
from siteguard.api.notices.countdown import countdown_text
from siteguard.api.notices.progress import notice_due
from siteguard.api.notices.queries import visible_notices
from siteguard.api.notices.replies import is_open
from siteguard.api.store.clock import china_text

PER_PAGE = 25
LIMIT = 5000  # notices looked at per list (a project issues a few a week)
SORTS = ("deadline", "issued", "number", "project")


@dataclass(frozen=True)
class NoticeFilter:
    site: str = ""
    status: str = ""
    level: str = ""
    overdue: str = ""
    q: str = ""  # part of the number or the project's name / site id
    sort: str = "deadline"
    order: str = "asc"

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise Invalid(f"sort: one of {', '.join(SORTS)}")
        if self.order not in ("asc", "desc"):
            raise Invalid("order: asc or desc")

    def query(self) -> dict[str, str]:
        defaults = NoticeFilter()
        return {k: v for k, v in asdict(self).items() if v and v != getattr(defaults, k)}


@dataclass
class NoticeListRow:
    id: int
    number: str
    project: str
    site_id: str
    status: str
    item_count: int  # not `items`: Jinja would find dict.items
    major: int
    overdue: bool
    due_in_s: int | None
    deadline_at: datetime
    issued_at: datetime

    @property
    def deadline(self) -> str:
        return china_text(self.deadline_at)

    @property
    def issued(self) -> str:
        return china_text(self.issued_at)


@dataclass
class NoticePage:
    rows: list[NoticeListRow]
    total: int
    page: int
    pages: int


def notice_rows(s: Session, who: Principal, f: NoticeFilter, now: datetime) -> list[NoticeListRow]:
    """Every notice the caller may see under the filter, sorted."""
    rows = []
    needle = f.q.strip().lower()
    for n in visible_notices(s, who, f.site or None, f.status or None, limit=LIMIT):
        levels = [i.level for i in n.items]
        due = notice_due(n, now)
        late = due is not None and due < 0
        if (f.level and f.level not in levels) or (f.overdue and not late):
            continue
        project = n.project.name or n.project.site_id
        if needle and not any(
            needle in text.lower() for text in (n.number, project, n.project.site_id)
        ):
            continue
        deadlines = [i.deadline for i in n.items if is_open(i)] or [i.deadline for i in n.items]
        rows.append(
            NoticeListRow(
                n.id,
                n.number,
                project,
                n.project.site_id,
                n.status,
                len(n.items),
                levels.count("major"),
                late,
                due,
                min(deadlines, default=n.issued_at),
                n.issued_at,
            )
        )
    key = {
        # nothing open (closed) sorts after every open deadline
        "deadline": lambda r: (r.due_in_s is None, r.deadline_at, r.id),
        "issued": lambda r: (r.issued_at, r.id),
        "number": lambda r: (r.number,),
        "project": lambda r: (r.project, r.number),
    }[f.sort]
    rows.sort(key=key, reverse=f.order == "desc")
    return rows


def page_of(rows: list[NoticeListRow], page: int, per_page: int = PER_PAGE) -> NoticePage:
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(page, 1), pages)
    return NoticePage(rows[(page - 1) * per_page : page * per_page], len(rows), page, pages)


HEADERS = {
    "zh": ["编号", "项目", "站点", "状态", "逾期", "条目", "重大", "整改时限", "剩余", "签发时间"],
    "en": [
        "Number",
        "Project",
        "Site",
        "Status",
        "Overdue",
        "Items",
        "Major",
        "Deadline",
        "Time left",
        "Issued",
    ],
}


def notices_xlsx(rows: list[NoticeListRow], status_names: dict[str, str], lang: str) -> bytes:
    """The listed notices as a workbook: China times, states in the reader's language."""
    zh = lang == "zh"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "整改通知" if zh else "Notices"
    ws.append(sheet_row(HEADERS["zh" if zh else "en"]))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    yes: Any = "是" if zh else "yes"
    for r in rows:
        left = "" if r.due_in_s is None else countdown_text(r.due_in_s, lang)
        ws.append(
            sheet_row(
                [
                    r.number,
                    r.project,
                    r.site_id,
                    status_names.get(r.status, r.status),
                    yes if r.overdue else "",
                    r.item_count,
                    r.major,
                    r.deadline,
                    left,
                    r.issued,
                ]
            )
        )
    for letter, width in zip("ABCDEFGHIJ", (26, 24, 14, 10, 6, 6, 6, 17, 16, 17), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    return workbook_bytes(wb)
