"""The consultation ledger (法律咨询台账) as staff keep it, in .xlsx or .csv.

Township staff hand the ledger to the county's 司法局 and paste from it into the annual report,
so it has their columns (序号, 日期, 村, 类别, 问题摘要, 处理方式, 法律顾问, 答复时间, 送达) and a
汇总 sheet with the totals. It leaves the machine, so villagers are not identifiable in it: the
openid is masked and phone and ID-card numbers inside a question are starred out
(``bot.core.privacy``).

The CSV starts with a UTF-8 byte-order mark: without it Excel and WPS read UTF-8 as GBK and
show mojibake. Text that a spreadsheet would run as a formula (=, +, -, @) is kept as text.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable, Sequence

from bot.core.privacy import mask_openid, mask_text
from bot.reporting.stats import (ACTION_LABELS, UNKNOWN_CATEGORY, UNKNOWN_VILLAGE, Period,
                       consultation_rows, grouped, legal_rows, local_time, summarize)

HEADERS = ("序号", "日期", "咨询人", "村", "类别", "问题摘要", "处理方式", "法律顾问", "答复时间", "送达")
WIDTHS = (6, 12, 14, 10, 12, 44, 20, 12, 18, 18)
TICKET_STATUS_LABELS = {
    "open": "待通知", "notified": "待答复", "overdue": "超时未答", "reassigned": "已转司法所",
    "answered": "已答复", "delivered": "已送达", "closed": "已办结",
}
SUMMARY_LENGTH = 40
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def abridge(text: str | None, limit: int = SUMMARY_LENGTH) -> str:
    """One line, identifiers masked, at most ``limit`` characters."""
    line = mask_text(" ".join((text or "").split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def stamp(epoch: float | None) -> str:
    return local_time(epoch).strftime("%Y-%m-%d %H:%M") if epoch else ""


def handling(row: dict[str, Any]) -> str:
    """处理方式: what the bot did, and for a ticket its number and where it stands."""
    label = ACTION_LABELS.get(row["action"], row["action"])
    if row.get("ticket_id") is None:
        return label
    status = TICKET_STATUS_LABELS.get(row.get("ticket_status") or "", row.get("ticket_status") or "")
    return f"{label}（#{row['ticket_id']} {status}）".replace(" ）", "）")


def answered_at(row: dict[str, Any]) -> str:
    """答复时间: the adviser's answer for a ticket; the moment of the reply for the bot."""
    if row.get("ticket_id") is not None:
        return stamp(row.get("answered_at"))
    return stamp(row["asked_at"] + (row.get("latency_ms") or 0) / 1000)


def delivery(row: dict[str, Any]) -> str:
    """送达: the bot's reply arrives at once; an adviser's answer when it reached WeChat."""
    if row.get("ticket_id") is None:
        return "即时送达"
    if row.get("delivered_at"):
        return stamp(row["delivered_at"])
    return "待送达" if row.get("answered_at") else "未答复"


def ledger_line(number: int, row: dict[str, Any]) -> list[Any]:
    return [number, local_time(row["asked_at"]).strftime("%Y-%m-%d"), mask_openid(row["openid"]),
            row.get("village") or UNKNOWN_VILLAGE, row.get("category") or UNKNOWN_CATEGORY,
            abridge(row.get("question")), handling(row), row.get("adviser") or "",
            answered_at(row), delivery(row)]


def ledger_rows(db, period: Period, include_test: bool = False) -> list[dict[str, Any]]:
    """The legal consultations of the period (small talk is recorded but is not a consultation;
    test traffic is left out unless ``include_test``)."""
    return legal_rows(consultation_rows(db, period, include_test=include_test))


def ledger_lines(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [ledger_line(i, row) for i, row in enumerate(rows, start=1)]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def summary_lines(rows: Sequence[dict[str, Any]], period: Period) -> list[list[Any]]:
    """The 汇总 sheet: the headline figures, then counts by village, category and month."""
    s = summarize(rows)
    span = f"{period.since or '最早'} 至 {period.until or '今'}"
    lines: list[list[Any]] = [
        ["统计期间", span], ["咨询总人次", s["total"]], ["咨询人数", s["people"]],
        ["智能答复", s["answered_by_bot"]], ["智能追问", s["clarified"]],
        ["转法律顾问", s["tickets"]], ["其中紧急", s["urgent"]],
        ["法律顾问已答复", s["answered_by_adviser"]], ["办结率", percent(s["completion_rate"])],
        ["答复用时中位数（小时）", hours(s["median_hours_to_answer"])],
        ["90%在此时间内答复（小时）", hours(s["p90_hours_to_answer"])],
    ]
    for by, title in (("village", "按村"), ("category", "按类别"), ("month", "按月")):
        lines += [[], [title, "人次", "转法律顾问"]]
        lines += [[key, g["total"], g["tickets"]] for key, g in grouped(rows, by).items()]
    return lines


def as_text(value: Any) -> Any:
    """Keep user text from being run as a spreadsheet formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_xlsx(rows: Sequence[dict[str, Any]], period: Period, out,
               extra_sheets: Sequence[dict[str, Any]] = ()) -> None:
    """Write the ledger workbook to a path or a binary file object; ``extra_sheets`` ({title,
    lines, widths}: the 调解台账 and 普法活动 of bot/reporting/register_report.py) follow the 汇总."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    fill_sheet(sheet, [list(HEADERS), *ledger_lines(rows)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHIJ", WIDTHS):
        sheet.column_dimensions[letter].width = width
    for cell in sheet["F"][1:]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    summary = book.create_sheet("汇总")
    fill_sheet(summary, summary_lines(rows, period))
    summary.column_dimensions["A"].width = 26
    for extra in extra_sheets:
        add_sheet(book, extra)
    book.save(out)


def add_sheet(book, extra: dict[str, Any]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    sheet = book.create_sheet(extra["title"])
    fill_sheet(sheet, extra["lines"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, width in enumerate(extra.get("widths", ()), start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = "A2"


def fill_sheet(sheet, lines: Iterable[list[Any]]) -> None:
    """Append lines; text stays text even when it starts with '=' (openpyxl would make a formula)."""
    for line in lines:
        sheet.append(line)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def write_csv(rows: Sequence[dict[str, Any]], out) -> None:
    """Write the ledger as UTF-8 CSV with a BOM (so Excel and WPS detect the encoding)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    writer.writerows([as_text(v) for v in line] for line in ledger_lines(rows))
    out.write(text.getvalue().encode("utf-8-sig"))


def export_ledger(db, period: Period, out: str | Path | io.BufferedIOBase, fmt: str = "xlsx",
                  include_test: bool = False, extra_sheets: Sequence[dict[str, Any]] = ()) -> int:
    """Write the period's ledger to ``out`` (a path or a binary file); return the row count."""
    rows = ledger_rows(db, period, include_test)
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"format must be xlsx or csv, not {fmt!r}")
    if isinstance(out, (str, Path)):
        with open(out, "wb") as handle:
            write_ledger(rows, period, handle, fmt, extra_sheets)
    else:
        write_ledger(rows, period, out, fmt, extra_sheets)
    return len(rows)


def write_ledger(rows: Sequence[dict[str, Any]], period: Period, out, fmt: str,
                 extra_sheets: Sequence[dict[str, Any]] = ()) -> None:
    """The workbook (with ``extra_sheets``), or the CSV of the consultations alone."""
    if fmt == "csv":
        write_csv(rows, out)
    else:
        write_xlsx(rows, period, out, extra_sheets)


def ledger_filename(period: Period, fmt: str = "xlsx") -> str:
    span = "_".join(str(d) for d in (period.since, period.until) if d) or "全部"
    return f"法律咨询台账_{span}.{fmt}"
