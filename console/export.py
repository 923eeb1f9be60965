"""The filtered leads as CSV or XLSX, streamed: read a batch, send it, forget it.

Memory stays flat whatever the number of leads: CSV goes out batch by batch; XLSX is
written by XlsxWriter in `constant_memory` mode (each row to a temporary file as it
comes) in a thread, then the finished file is streamed and deleted.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import xlsxwriter

from console.filters import LeadFilters
from storage.database import Database
from storage.models import Lead

BATCH = 1000
CHUNK = 64 * 1024
XLSX_MAX_ROWS = 1_048_576  # a worksheet's limit: rows past it are not written
COLUMNS = (
    "id",
    "num",
    "site_key",
    "created_at",
    "status_code",
    "status_name",
    "client_name",
    "client_phone",
    "client_email",
    "note",
    "form_name",
    "page_url",
    "utm",
    "pay_summ",
    "pay_status_name",
    "origin",
    "taken_by_name",
    "received_at",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any, when: Callable[[datetime | None], str], *, guard: bool) -> str:
    """The value as text; `guard` quotes what a spreadsheet would run as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    text = str(value)
    return "'" + text if guard and text.startswith(_FORMULA_STARTS) else text


async def batches(database: Database, filters: LeadFilters) -> AsyncIterator[list[Lead]]:
    """Every lead the filters match, newest first, a short read transaction per batch."""
    before_id = filters.before_id
    while True:
        async with database.read() as session:
            rows = await filters.leads(session, limit=BATCH, before_id=before_id)
        if not rows:
            return
        yield rows
        if len(rows) < BATCH:
            return
        before_id = rows[-1].id


def _rows(
    leads: list[Lead], when: Callable[[datetime | None], str], *, guard: bool
) -> list[list[str]]:
    return [[cell(getattr(lead, name), when, guard=guard) for name in COLUMNS] for lead in leads]


async def stream_csv(
    database: Database, filters: LeadFilters, when: Callable[[datetime | None], str]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so that Excel reads the file as UTF-8
    writer.writerow(COLUMNS)
    async for leads in batches(database, filters):
        writer.writerows(_rows(leads, when, guard=True))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def stream_xlsx(
    database: Database, filters: LeadFilters, when: Callable[[datetime | None], str]
) -> AsyncIterator[bytes]:
    handle, path = tempfile.mkstemp(prefix="leadrelay-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(
            path,
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        sheet = workbook.add_worksheet("leads")
        sheet.write_row(0, 0, COLUMNS)
        written = 1

        def write(rows: list[list[str]], first: int) -> None:
            for offset, row in enumerate(rows):
                sheet.write_row(first + offset, 0, row)

        async for leads in batches(database, filters):
            # XlsxWriter stores text as text (strings_to_formulas off): nothing to quote.
            rows = _rows(leads, when, guard=False)[: XLSX_MAX_ROWS - written]
            await asyncio.to_thread(write, rows, written)
            written += len(rows)
        await asyncio.to_thread(workbook.close)
        with open(path, "rb") as finished:  # noqa: ASYNC230 (one chunk at a time)
            while chunk := await asyncio.to_thread(finished.read, CHUNK):
                yield chunk
    finally:
        os.unlink(path)


Stream = Callable[[Database, LeadFilters, Callable[[datetime | None], str]], AsyncIterator[bytes]]


@dataclass(frozen=True, slots=True)
class ExportFile:
    suffix: str
    media_type: str
    stream: Stream


CSV = ExportFile("csv", "text/csv; charset=utf-8", stream_csv)
XLSX = ExportFile(
    "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", stream_xlsx
)
