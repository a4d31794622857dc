"""The 调解台账 and the 普法 register in the annual report and the ledger workbook.

`legalbot report --year` prints, after the consultations' paragraph, the mediation sentence
("排查调出新发案件X起（…），调解成功Y件，调解成功率Z%") and the publicity sentence ("组织开展各类
法治宣传活动N场次…受众人数M人次"), with a chart of the cases by kind; the ledger (`legalbot export`
and the console's 导出台账) gets a 调解台账 sheet and a 普法活动 sheet. Everything is counted by
bot/reporting/mediation_stats.py and bot/community/publicity.py from the records, never typed in.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from bot.reporting import mediation_stats
from bot.community import publicity
from bot.reporting.stats import Period, local_time


def sections(db, year: int, include_test: bool = False, village_names: Sequence[str] = ()) -> dict[str, Any]:
    """The report's mediation and publicity parts (each with its "text")."""
    return {"mediation": mediation_stats.year_section(db, year, village_names, include_test),
            "publicity": publicity.year_section(db, year)}


def paragraphs(result: dict[str, Any]) -> list[str]:
    return [result[key]["text"] for key in ("mediation", "publicity") if key in result]


def draw_chart(result: dict[str, Any], directory: str | Path) -> Path:
    """mediation-YEAR.png beside the report's other charts, with the same font handling."""
    from matplotlib import rc_context

    from bot.reporting.report import cjk_font
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    font = cjk_font()
    settings = {"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    with rc_context(settings):
        return mediation_stats.draw_chart(result["mediation"], result["year"], folder, font)


# ---- the ledger's extra sheets --------------------------------------------------------------

EVENT_HEADERS = ("序号", "日期", "活动", "普法日", "地点", "村", "受众人数", "发放资料（份）", "现场咨询（人次）", "备注")
EVENT_WIDTHS = (6, 12, 24, 16, 20, 10, 10, 14, 16, 24)


def day_names(config_days) -> dict[str, str]:
    return {d.key: d.name for d in config_days}


def event_lines(db, period: Period, days: dict[str, str]) -> list[list[Any]]:
    """The 普法活动 sheet: offline events, then the 群发 sent, then the totals the report uses."""
    lines: list[list[Any]] = [list(EVENT_HEADERS)]
    events, sent = publicity.events_in(db, period), publicity.mass_sent_in(db, period)
    for i, e in enumerate(events, start=1):
        lines.append([i, e["held_on"], e["title"], days.get(e["day_key"] or "", ""), e["place"] or "",
                      e["village"] or "", e["people"], e["leaflets"], e["consultations"], e["note"] or ""])
    for i, m in enumerate(sent, start=len(events) + 1):
        reached = m["sent_count"] if m["sent_count"] is not None else "待微信回报"
        lines.append([i, local_time(m["sent_at"]).strftime("%Y-%m-%d"), "公众号群发：" + m["text"][:30],
                      days.get(m["day_key"] or "", ""), "微信公众号", "", reached, 0, 0, ""])
    f = publicity.publicity_figures(events, sent)
    lines += [[], ["合计", f"{f['activities']}场次", "", "", "", "", f["people"], f["leaflets"], f["consultations"]]]
    return lines


def ledger_sheets(db, period: Period, include_test: bool = False, village_names: Sequence[str] = (),
                  config_days=()) -> list[dict[str, Any]]:
    """Extra sheets for the ledger workbook: {title, lines, widths}."""
    return [mediation_stats.ledger_sheet(db, period, village_names, include_test),
            {"title": "普法活动", "lines": event_lines(db, period, day_names(config_days)),
             "widths": EVENT_WIDTHS}]
