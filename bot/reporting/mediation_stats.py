"""Counting the 调解台账 the way the township's annual report counts it.

"排查调出新发案件20起（“三大纠纷”12起，邻里纠纷1起，婚姻3起，宅基地2起，其他2起），调解成功20件":
the cases found in the year (by the day they were found or brought), by kind, and of those how
many were mediated and how many succeeded. One set of pure functions over rows read once feeds
`legalbot stats --mediation`, the ledger's 调解台账 sheet, the report's paragraph and its chart.

Definitions (also in README):
- found (排查调出/受理): every case whose ``found_at`` falls in the period, however it was found;
- mediated (调解): of those, the ones mediation was actually tried on — a session recorded, or
  an outcome of 调解成功 or 调解未成功 (a case withdrawn or sent to court before any session was
  not mediated);
- succeeded (调解成功); success rate (调解成功率) = succeeded / mediated;
- still being mediated: open or mediating at the end of the period's records.
Test cases (opened from the simulator, `legalbot chat`, or by an adviser's own WeChat) are left
out unless ``include_test``, like the consultations.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from bot.retrieval.disputes import KIND_LABELS, THREE_MAJOR, Kind
from bot.community.mediation import ACTIVE, SOURCE_LABELS, STATUS_LABELS, Source, Status
from bot.reporting.stats import Period, local_time

ROWS_SQL = ("SELECT id, village, kind, found_via, status, summary, parties, mediator, sessions, agreement,"
            " judicial_confirmation, found_at, closed_at, is_test FROM mediation_cases"
            " WHERE found_at >= ? AND found_at < ? AND (? OR is_test = 0) ORDER BY found_at, id")
# The report's own lines, in its order: “三大纠纷”, 邻里纠纷, 婚姻, 宅基地, 其他.
REPORT_GROUPS = (("“三大纠纷”", THREE_MAJOR), ("邻里纠纷", (Kind.NEIGHBOUR,)), ("婚姻", (Kind.MARRIAGE,)),
                 ("宅基地", (Kind.HOMESTEAD,)), ("其他", (Kind.OTHER,)))
KIND_ORDER = (Kind.LAND, Kind.FOREST, Kind.WATER, Kind.NEIGHBOUR, Kind.MARRIAGE, Kind.HOMESTEAD, Kind.OTHER)
MEDIATED_OUTCOMES = (Status.SUCCEEDED, Status.FAILED)


def case_rows(db, period: Period = Period(), villages: Iterable[str] | None = None,
              include_test: bool = False) -> list[dict[str, Any]]:
    """The cases found in ``period`` (test cases only with ``include_test``), oldest first."""
    start, end = period.bounds()
    rows = [dict(r) for r in db.query(ROWS_SQL, [start, min(end, 1e12), int(include_test)])]
    if villages is not None:
        allowed = set(villages)
        rows = [r for r in rows if r["village"] in allowed]
    return rows


def was_mediated(row: dict[str, Any]) -> bool:
    return row["sessions"] > 0 or row["status"] in MEDIATED_OUTCOMES


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """found / mediated / succeeded / rate, and the rest of the outcomes, over any set of cases."""
    count = lambda status: sum(1 for r in rows if r["status"] == status)  # noqa: E731
    mediated = sum(1 for r in rows if was_mediated(r))
    succeeded = count(Status.SUCCEEDED)
    return {"found": len(rows), "mediated": mediated, "succeeded": succeeded,
            "success_rate": rate(succeeded, mediated), "failed": count(Status.FAILED),
            "referred": count(Status.REFERRED), "withdrawn": count(Status.WITHDRAWN),
            "in_progress": sum(1 for r in rows if r["status"] in ACTIVE),
            "sessions": sum(r["sessions"] for r in rows),
            "agreements": sum(1 for r in rows if r["agreement"]),
            "judicial_confirmations": sum(1 for r in rows if r["judicial_confirmation"])}


def by_kind(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Figures for each kind, every kind listed (zeros included), in the report's order."""
    return {str(kind): figures([r for r in rows if r["kind"] == kind]) for kind in KIND_ORDER}


def by_group(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Figures for the report's five lines (the “三大纠纷” together)."""
    return {label: figures([r for r in rows if r["kind"] in kinds]) for label, kinds in REPORT_GROUPS}


def by_village(rows: Sequence[dict[str, Any]], village_names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Figures for each configured village (zeros included), then any other village found."""
    names = list(village_names) + sorted({r["village"] for r in rows} - set(village_names))
    return {name: figures([r for r in rows if r["village"] == name]) for name in names}


def by_source(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    return {str(source): sum(1 for r in rows if r["found_via"] == source) for source in Source}


def mediation_stats(db, period: Period, village_names: Sequence[str], villages: Iterable[str] | None = None,
                    include_test: bool = False) -> dict[str, Any]:
    """`legalbot stats --mediation --json`: the period, the totals, by kind, by village, by source."""
    rows = case_rows(db, period, villages, include_test)
    shown = village_names if villages is None else [v for v in village_names if v in set(villages)]
    return {**period.as_json(), **figures(rows), "three_major": figures([r for r in rows if r["kind"] in THREE_MAJOR]),
            "by_kind": by_kind(rows), "by_village": by_village(rows, shown), "by_source": by_source(rows)}


# ---- words ---------------------------------------------------------------------------------------

def percent(value: float | None) -> str:
    """66.7% or 100% (no “.0”), — when there is nothing to divide."""
    if value is None:
        return "—"
    text = f"{value * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def report_paragraph(year: int, stats: dict[str, Any]) -> str:
    """The year's sentence in the report's own form."""
    if stats["found"] == 0:
        return f"{year}年调解台账未登记案件。"
    groups = "，".join(f"{label}{stats['groups'][label]['found']}起" for label, _ in REPORT_GROUPS)
    text = (f"排查调出新发案件{stats['found']}起（{groups}），调解成功{stats['succeeded']}件，"
            f"调解成功率{percent(stats['success_rate'])}")
    if stats["in_progress"]:
        text += f"，另有{stats['in_progress']}起正在调解"
    return text + "。"


def year_section(db, year: int, village_names: Sequence[str], include_test: bool = False) -> dict[str, Any]:
    """The report's mediation part: its paragraph and the figures behind it."""
    rows = case_rows(db, Period.year(year), include_test=include_test)
    stats = {**figures(rows), "groups": by_group(rows), "by_kind": by_kind(rows),
             "by_village": by_village(rows, village_names)}
    return {**stats, "text": report_paragraph(year, stats)}


STAT_LABELS = (("发现（受理）", "found"), ("调解", "mediated"), ("调解成功", "succeeded"))


def summary_text(stats: dict[str, Any]) -> list[str]:
    """`legalbot stats --mediation` in words and two small tables."""
    lines = [f"调解案件 {stats['found']} 起，调解 {stats['mediated']} 起，成功 {stats['succeeded']} 起，"
             f"成功率 {percent(stats['success_rate'])}；未成功 {stats['failed']}，转诉讼或仲裁 {stats['referred']}，"
             f"撤回 {stats['withdrawn']}，正在调解 {stats['in_progress']}",
             f"  调解 {stats['sessions']} 次，签协议 {stats['agreements']} 份，申请司法确认 {stats['judicial_confirmations']} 件",
             "  来源：" + " · ".join(f"{SOURCE_LABELS[Source(k)]} {v}" for k, v in stats["by_source"].items())]
    for title, groups in (("按类型", {KIND_LABELS[Kind(k)]: g for k, g in stats["by_kind"].items()}),
                          ("按村", stats["by_village"])):
        lines += ["", f"{title}：发现 / 调解 / 成功 / 成功率"]
        lines += [f"  {name}  {g['found']} / {g['mediated']} / {g['succeeded']} / {percent(g['success_rate'])}"
                  for name, g in groups.items()]
    return lines


# ---- the ledger's 调解台账 sheet ------------------------------------------------------------------

SHEET_HEADERS = ("序号", "编号", "发现日期", "村", "类型", "来源", "纠纷简况", "当事人", "调解员", "调解次数",
                 "结果", "结案日期", "调解协议书", "申请司法确认")
SHEET_WIDTHS = (6, 8, 12, 10, 10, 10, 40, 28, 14, 10, 14, 12, 12, 12)


def day(epoch: float | None) -> str:
    return local_time(epoch).strftime("%Y-%m-%d") if epoch else ""


def parties_cell(row: dict[str, Any]) -> str:
    """Masked: surnames and starred phones only (the sheet leaves the machine)."""
    import json
    from bot.community.mediation import Party
    return "；".join(Party(**p).masked().label() for p in json.loads(row["parties"] or "[]"))


def sheet_line(number: int, row: dict[str, Any]) -> list[Any]:
    from bot.reporting.export import abridge
    closed = row["status"] not in ACTIVE
    return [number, f"调解#{row['id']}", day(row["found_at"]), row["village"], KIND_LABELS[Kind(row["kind"])],
            SOURCE_LABELS[Source(row["found_via"])], abridge(row["summary"]), parties_cell(row),
            row["mediator"] or "", row["sessions"], STATUS_LABELS[Status(row["status"])],
            day(row["closed_at"]) if closed else "", "已签" if row["agreement"] else "",
            "已申请" if row["judicial_confirmation"] else ""]


def figure_table(title: str, groups: dict[str, dict[str, Any]]) -> list[list[Any]]:
    lines: list[list[Any]] = [[title, "发现（受理）", "调解", "调解成功", "调解成功率"]]
    lines += [[name, g["found"], g["mediated"], g["succeeded"], percent(g["success_rate"])]
              for name, g in groups.items()]
    return lines


def sheet_lines(rows: Sequence[dict[str, Any]], village_names: Sequence[str]) -> list[list[Any]]:
    """The 调解台账 sheet: one line per case, then the figures by kind and by village."""
    lines: list[list[Any]] = [list(SHEET_HEADERS)]
    lines += [sheet_line(i, row) for i, row in enumerate(rows, start=1)]
    kinds = {KIND_LABELS[Kind(k)]: g for k, g in by_kind(rows).items()}
    total = figures(rows)
    lines += [[], *figure_table("按类型", {**kinds, "合计": total}), [],
              *figure_table("按村", {**by_village(rows, village_names), "合计": total})]
    return lines


def ledger_sheet(db, period: Period, village_names: Sequence[str], include_test: bool = False) -> dict[str, Any]:
    """The sheet as ``bot.reporting.export`` writes extra sheets: title, lines, column widths."""
    return {"title": "调解台账", "lines": sheet_lines(case_rows(db, period, include_test=include_test),
                                                     village_names), "widths": SHEET_WIDTHS}


# ---- the report's chart --------------------------------------------------------------------------

def draw_chart(section: dict[str, Any], year: int, folder, font: str | None):
    """mediation-YEAR.png: found and succeeded for each kind (Chinese labels when a CJK font is
    installed, English otherwise, like the report's other charts)."""
    from bot.reporting.report import pyplot, save, whole_numbers
    plt = pyplot()
    kinds = list(section["by_kind"])
    english = {"land": "Land", "forest": "Forest", "water": "Water", "neighbour": "Neighbours",
               "marriage": "Family", "homestead": "Homesteads", "other": "Other"}
    names = [KIND_LABELS[Kind(k)] if font else english[k] for k in kinds]
    x = range(len(kinds))
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    ax.bar([i - 0.2 for i in x], [section["by_kind"][k]["found"] for k in kinds], 0.4,
           label="发现（受理）" if font else "Found", color="#2f7d5b")
    ax.bar([i + 0.2 for i in x], [section["by_kind"][k]["succeeded"] for k in kinds], 0.4,
           label="调解成功" if font else "Settled", color="#e0a030")
    ax.set_xticks(list(x), names)
    ax.set(title=f"{year}年人民调解案件" if font else f"People's mediation cases, {year}",
           ylabel="件" if font else "Cases")
    ax.legend()
    whole_numbers(ax.yaxis)
    return save(fig, folder / f"mediation-{year}.png", plt)
