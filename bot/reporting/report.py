"""The year's paragraph and charts for the township's annual rule-of-law report (法治建设年度报告).

Staff paste a paragraph like "全年通过公众号提供法律咨询N人次，其中智能答复X次、转法律顾问Y件
（办结率Z%）…" into the report, with a chart of the months and one of the categories. The
figures come from ``bot.reporting.stats`` so they agree with `legalbot stats` and the ledger.

Charts are drawn with matplotlib's Agg backend (no display on a server). Chinese labels need a
CJK font (Debian: fonts-noto-cjk), found even when matplotlib's font cache is older than the font;
without one the charts fall back to English labels rather than printing empty boxes, and
`legalbot report` says so.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from bot.reporting.stats import (UNKNOWN_CATEGORY, Period, consultation_rows, grouped, legal_rows,
                       summarize)

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Micro Hei",
             "WenQuanYi Zen Hei", "Source Han Sans SC", "SimHei", "Microsoft YaHei", "PingFang SC")
CATEGORY_ENGLISH = {
    "婚姻家庭": "Marriage & family", "继承": "Inheritance", "土地与宅基地": "Land & homesteads",
    "相邻关系": "Neighbours", "借贷": "Loans & debts", "劳动": "Work & wages", "侵权": "Injury & damage",
    "消费与合同": "Consumers & contracts", "纠纷解决与法律服务": "Disputes & legal aid",
    "公共安全": "Public safety", "便民服务": "Township services", "未分类": "Uncategorised",
}
TOP_CATEGORIES = 3
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
                "/Library/Fonts", "/System/Library/Fonts", "C:/Windows/Fonts")
CJK_FILE_PATTERNS = ("NotoSansCJK*.tt[cf]", "NotoSansCJK*.otf", "NotoSerifCJK*.tt[cf]",
                     "NotoSansSC*.otf", "wqy-*.tt[cf]", "SourceHanSans*.otf", "simhei.ttf", "msyh.tt[cf]")
NO_CJK_FONT = ("没有找到中文字体，图表只能用英文标注。请安装 Noto CJK 字体"
               "（Debian/Ubuntu：sudo apt-get install fonts-noto-cjk）后重新生成。")


def year_rows(db, year: int, include_test: bool = False) -> list[dict[str, Any]]:
    """The year's legal consultations (small talk, and test traffic unless asked, excluded)."""
    return legal_rows(consultation_rows(db, Period.year(year), include_test=include_test))


def monthly_counts(rows: Sequence[dict[str, Any]], year: int) -> dict[str, dict[str, int]]:
    """Consultations and tickets for each of the twelve months, empty months included."""
    groups = grouped(rows, "month")
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    return {m: {"total": groups.get(m, {}).get("total", 0),
                "tickets": groups.get(m, {}).get("tickets", 0)} for m in months}


def category_counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    return {key: g["total"] for key, g in grouped(rows, "category").items()}


def top_categories_text(categories: dict[str, int]) -> str:
    known = [(name, count) for name, count in categories.items() if name != UNKNOWN_CATEGORY]
    named = [f"{name}（{count}次）" for name, count in known[:TOP_CATEGORIES]]
    if len(named) > 1:
        return "、".join(named[:-1]) + "和" + named[-1]
    return "".join(named)


def headline(figures: dict[str, Any]) -> str:
    tickets = f"转法律顾问{figures['tickets']}件"
    if figures["completion_rate"] is not None:
        tickets += f"（办结率{figures['completion_rate'] * 100:.1f}%）"
    return (f"全年通过公众号提供法律咨询{figures['total']}人次（{figures['people']}人），"
            f"其中智能答复{figures['answered_by_bot']}次、{tickets}")


def report_paragraph(year: int, figures: dict[str, Any], categories: dict[str, int]) -> str:
    """The paragraph for the annual report, in the report's own phrasing."""
    if figures["total"] == 0:
        return f"{year}年公众号尚未记录法律咨询。"
    sentences = [headline(figures) + (f"，紧急求助{figures['urgent']}件" if figures["urgent"] else "")]
    if categories:
        sentences.append(f"咨询较多的是{top_categories_text(categories)}")
    if figures["median_hours_to_answer"] is not None:
        sentences.append(f"法律顾问答复送达用时中位数{figures['median_hours_to_answer']:.1f}小时")
    return "。".join(sentences) + "。"


def build_report(db, year: int, include_test: bool = False) -> dict[str, Any]:
    """`legalbot report --year Y --json`: the paragraph and the figures behind it."""
    rows = year_rows(db, year, include_test)
    figures = summarize(rows)
    categories = category_counts(rows)
    from bot.reporting.register_report import sections   # the 调解台账 and the 普法 register
    return {"year": year, "text": report_paragraph(year, figures, categories),
            "figures": figures, "by_month": monthly_counts(rows, year),
            "by_category": categories, "by_village": {k: g["total"] for k, g in
                                                      grouped(rows, "village").items()},
            **sections(db, year, include_test)}


def cjk_font() -> str | None:
    """The name of an installed font that has Chinese glyphs, if any.

    matplotlib lists the system's fonts once and caches the list; a CJK font installed after
    that (fonts-noto-cjk added after the first chart) is not in it. So when the list has none,
    the font files are looked for where systems keep them and added to the list.
    """
    from matplotlib import font_manager
    found = listed_cjk_font(font_manager.fontManager)
    if found is None:
        for path in cjk_font_files():
            font_manager.fontManager.addfont(str(path))
        found = listed_cjk_font(font_manager.fontManager)
    return found


def listed_cjk_font(manager) -> str | None:
    installed = {f.name for f in manager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def cjk_font_files() -> list[Path]:
    """Font files of the CJK families above in the system's font folders."""
    found: list[Path] = []
    for folder in map(Path, map(os.path.expanduser, FONT_FOLDERS)):
        if folder.is_dir():
            found += [p for pattern in CJK_FILE_PATTERNS for p in sorted(folder.rglob(pattern))]
    return found


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def labels(chinese: bool) -> dict[str, str]:
    if chinese:
        return {"monthly": "{year}年各月法律咨询", "month": "月份", "count": "人次",
                "total": "咨询人次", "tickets": "转法律顾问", "categories": "{year}年咨询类别"}
    return {"monthly": "Legal consultations by month, {year}", "month": "Month", "count": "Count",
            "total": "Consultations", "tickets": "Passed to adviser",
            "categories": "Consultations by category, {year}"}


def draw_monthly(report: dict[str, Any], path: Path, font: str | None) -> Path:
    plt = pyplot()
    text = labels(font is not None)
    months = list(report["by_month"])
    x = range(len(months))
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    ax.bar([i - 0.2 for i in x], [report["by_month"][m]["total"] for m in months], 0.4,
           label=text["total"], color="#2f7d5b")
    ax.bar([i + 0.2 for i in x], [report["by_month"][m]["tickets"] for m in months], 0.4,
           label=text["tickets"], color="#e0a030")
    ax.set_xticks(list(x), [m[-2:] for m in months])
    ax.set(title=text["monthly"].format(year=report["year"]), xlabel=text["month"], ylabel=text["count"])
    ax.legend()
    whole_numbers(ax.yaxis)
    return save(fig, path, plt)


def draw_categories(report: dict[str, Any], path: Path, font: str | None) -> Path:
    plt = pyplot()
    text = labels(font is not None)
    names = list(report["by_category"])[::-1]
    shown = names if font else [CATEGORY_ENGLISH.get(n, f"Category {i + 1}") for i, n in enumerate(names)]
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.45 * len(names) + 1.2)), dpi=120)
    ax.barh(shown, [report["by_category"][n] for n in names], color="#2f7d5b")
    ax.set(title=text["categories"].format(year=report["year"]), xlabel=text["count"])
    whole_numbers(ax.xaxis)
    return save(fig, path, plt)


def whole_numbers(axis) -> None:
    """Counts are whole numbers: no 0.2-person ticks."""
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def save(fig, path: Path, plt) -> Path:
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def draw_charts(report: dict[str, Any], directory: str | Path) -> list[Path]:
    """Write monthly.png and categories.png into ``directory``; return their paths."""
    from matplotlib import rc_context
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    font = cjk_font()
    settings = {"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    with rc_context(settings):
        return [draw_monthly(report, folder / f"monthly-{report['year']}.png", font),
                draw_categories(report, folder / f"categories-{report['year']}.png", font)]
