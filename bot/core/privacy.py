"""Privacy: mask identifiers for exports, purge old text while keeping the counts.

A question to a lawyer is sensitive. After the retention period the words people wrote are
deleted, but every row that is counted in the statistics stays (action, category, village,
dates, latencies), so the annual figures do not change when old text is purged.

Who sees what a villager typed, phone and ID numbers included:
- Lists (tickets, consultations, the dashboard), the ledger export and the annual report: masked
  for everyone (``mask_text``); the openid is always masked (``mask_openid``).
- A ticket's page: in full for whoever has to call the villager back — the adviser of its
  village or the one it is assigned to, and staff when the 司法所 (the backup, whom staff answer
  for) holds it. Anyone else who may open it sees it masked.
- A consultation record's page (what the bot decided): masked for everyone; a call back goes
  through the ticket.

``mask_text`` finds mobile numbers with a +86, 86 or 0086 prefix, with dashes or spaces between
the groups, landlines with an area code (0776-7612345, (0776)7612345), 18- and 15-digit ID-card
numbers, in ASCII or full-width digits. A bare 7–8 digit number without area code is left alone:
it is as likely an amount of money.
"""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from bot.core.store import transaction

if TYPE_CHECKING:   # not imported at run time: loading jieba is for the callers that scrub text
    import jieba

    from bot.core.text import Dictionaries

UNITS = {"d": 86400, "w": 7 * 86400, "m": 30 * 86400, "y": 365 * 86400}

# Text columns that may hold what a person wrote or was told; everything else is kept.
PURGED_COLUMNS = {
    "messages": ("content", "reply_xml", "media_id"),
    "consultations": ("question", "reply", "candidates"),
    "tickets": ("question", "context", "answer", "media_id"),
    # 调解台账: the parties' names and phones and what was said go; kind, village, dates,
    # sessions and outcome stay, so the mediation counts do not change (bot/reporting/mediation_stats.py)
    "mediation_cases": ("summary", "parties", "openid"),
    "mediation_events": ("note",),
    "mediation_offers": ("question",),
}
TIME_COLUMN = {"messages": "received_at", "consultations": "asked_at", "tickets": "created_at",
               "mediation_cases": "created_at", "mediation_events": "at", "mediation_offers": "offered_at"}

SEP = r"[ \-]?"          # one space or dash between groups, as people type them
ID_CARD = re.compile(rf"(?<![0-9A-Za-z])(\d{{4}})\d{{2}}{SEP}\d{{8}}{SEP}(\d{{3}}[\dXx])(?![0-9A-Za-z])")
ID_CARD_15 = re.compile(rf"(?<![0-9A-Za-z])(\d{{4}})\d{{2}}{SEP}\d{{6}}{SEP}(\d{{3}})(?![0-9A-Za-z])")
PHONE = re.compile(rf"(?<![\d+])(?:(?:\+|00)?86{SEP}|\(\+?86\){SEP})?(1[3-9]\d){SEP}\d{{4}}{SEP}(\d{{4}})(?!\d)")
LANDLINE = re.compile(rf"(?<!\d)(\(0\d{{2,3}}\)|0\d{{2,3}}){SEP}\d{{3,4}}{SEP}(\d{{4}})(?!\d)")
# Full-width digits and signs (typed with a Chinese input method) are read as ASCII ones.
FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－（）\u3000", "0123456789+-() ")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def parse_age(text: str) -> float:
    """'3y', '18m', '90d', '2w' → seconds. Months count as 30 days, years as 365."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwmy])\s*", text.lower())
    if not match:
        raise ValueError(f"not an age like 3y, 18m, 90d: {text!r}")
    return int(match.group(1)) * UNITS[match.group(2)]


def mask_openid(openid: str | None) -> str:
    """Keep enough to tell people apart in a ledger, not enough to identify them."""
    if not openid:
        return ""
    return openid[:3] + "***" + openid[-3:] if len(openid) > 8 else "***"


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 7 else "****"


def mask_text(text: str | None) -> str:
    """Mask the phone and ID-card numbers a villager typed into a question (formats above)."""
    if not text:
        return ""
    text = text.translate(FULL_WIDTH)
    text = ID_CARD_15.sub(r"\1********\2", ID_CARD.sub(r"\1**********\2", text))
    return LANDLINE.sub(r"\1-****\2", PHONE.sub(r"\1****\2", text))


# ---- free text shown beyond its ticket (a draft FAQ phrasing, the unanswered-questions list) ----
# There the villager's words are read by people who need the matter, not the person: names,
# numbers and the place below the village go, not just the middle digits (``scrub_text``).

# Surnames, most common first (Guangxi's 韦 覃 莫 蓝 农 蒙 included). Those that also start
# everyday words (钱 money, 高 tall, 林 forest, 付 pay…) count only with a cue: 老/小/阿, 某, 叫,
# or a title after them.
SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
                     "蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷"
                     "侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤欧蓝农蒙岑麦甘凌祝柯盘闭劳滕庞宾")
EVERYDAY = frozenset("钱付万于高马白方金石田江龙文向常易甘麦农任和全时史毛牛武夏包路车叶谢周孔严洪雷"
                     "温宁安余曾许丁钟段戴汤顾姜熊贺程苏欧凌祝盘闭劳宾柯林")
TITLES = frozenset(("大爷", "大妈", "大伯", "大叔", "大哥", "大姐", "大嫂", "奶奶", "爷爷", "阿婆",
                    "阿公", "婆婆", "阿姨", "叔叔", "伯伯", "老板", "师傅", "书记", "主任", "村长",
                    "组长", "队长", "会计", "老师", "医生", "律师", "经理", "局长", "所长", "校长",
                    "老头", "老太", "叔", "婶", "伯", "嫂", "哥", "姐"))
FAMILIAR = ("老", "小", "阿")
# Words that look like 老/小 + surname but name no one.
NOT_NAMES = frozenset(("小钱", "小康", "老农", "小农", "小龙", "小金", "小白", "老万", "小田", "小方",
                       "老江", "小马", "小于", "老于", "小时", "小石", "老石", "小叶", "小林"))
# Characters that are grammar, never part of a given name (钱+被 is "the money was…").
NOT_GIVEN = frozenset("的了着过地得吗呢吧啊呀也都就和跟与被把给让在是有没不要会能可对说去来到从向往里上下"
                      "个些家人们自己已还又很太")
SURNAME_CLASS = "[" + "".join(sorted(SURNAMES)) + "]"
# 我叫韦秀英, 名叫…, 姓名：…: a surname right after the cue, and one or two characters more.
NAME_CUE = re.compile(r"((?:名叫|叫做|名字叫|名字是|姓名[:：]?|(?<=[我他她])叫)\s*)" + SURNAME_CLASS
                      + r"[\u4e00-\u9fff]{1,2}")
# A word jieba knows this rarely (or not at all) that starts with a surname is a name: 黄大强,
# and 王小明 (in its dictionary, seldom). A given name after a lone surname: 韦 + 秀英.
NAME_FREQ = 40
GIVEN_FREQ = 50
FAMILIAR_FREQ = 500
# Below the village: natural villages (屯) and village groups whose names jieba does not know,
# numbered groups and production teams, house numbers and street addresses.
HAMLET = re.compile(r"([\u4e00-\u9fff]{2})屯|(?<=村)(?!民)([\u4e00-\u9fff]{2})(?:组|队)(?![织成长合员])")
NUMBERED_PLACE = re.compile(
    r"第?[一二三四五六七八九十0-9]{1,3}(?:村民小组|小组|生产队|组|队|社)(?![织成长合员])"
    r"|(?:门牌号?)?(?<![月0-9])[0-9]{1,4}(?:号楼|号|栋|幢|单元|室)(?![0-9])(?!(?:那|晚|早|上午|下午|之前|以前|以后))"
    r"|[\u4e00-\u9fff]{1,6}(?:路|街|巷)[0-9]{1,4}号")
PLATE = re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9]{5,6}")
ACCOUNT = re.compile(r"(?<![0-9])[0-9](?:[0-9 ]){10,22}[0-9](?![0-9])")
HANDLE = re.compile(r"((?:微信号?|QQ号?|qq号?|抖音号?)[:：是为]?\s*)[A-Za-z0-9_\-]{5,20}")
SOMEBODY = "某人"
# 张 after a number, a demonstrative or 了 counts sheets (一张欠条, 打了张白条, 按哪张算): no name.
COUNTED = frozenset("一二两三四五六七八九十几每这那哪了")


def scrub_text(text: str | None, keep: Iterable[str], words: Dictionaries) -> str:
    """The text with people's names, phone and ID numbers, bank accounts, number plates, chat
    handles and places below the village taken out: a name becomes 某人 (某 before a title:
    某律师), so the sentence still reads; the rest is removed. ``keep``: names that stay (the
    township's villages); ``words``: the configured knowledge directory's dictionaries (a word
    jieba knows with them is no name).

    Names are found by cue (我叫…, 老王, 黄某, 李老板) and by the shape jieba gives an unknown
    name (a surname starting a word it does not know). It errs on the side of masking: a person
    reads the result before it goes further (a draft is reviewed before it is published).
    """
    if not text:
        return ""
    keep = tuple(keep)
    text = text.translate(FULL_WIDTH_DIGITS)
    for pattern in (ID_CARD, ACCOUNT, ID_CARD_15, PHONE, LANDLINE, PLATE):
        text = pattern.sub("", text)
    text = HANDLE.sub(r"\1", text)
    text = NAME_CUE.sub(lambda m: m[1] + SOMEBODY, text)
    return scrub_names(scrub_places(text, keep, words.tokenizer), keep, words.tokenizer)


def scrub_places(text: str, keep: tuple[str, ...], tk: jieba.Tokenizer) -> str:
    """Remove places below the village: a hamlet or group jieba does not know as a word (隔壁屯
    is no place name), a numbered group, a house number. A kept name is never cut into."""
    freq = tk.FREQ

    def hamlet(match: re.Match) -> str:
        name = match[1] or match[2]
        known = (freq.get(name) or 0) >= GIVEN_FREQ
        return match[0] if known or any(name in k for k in keep) else ""
    text = HAMLET.sub(hamlet, text)
    return NUMBERED_PLACE.sub(lambda m: m[0] if any(m[0] in k for k in keep) else "", text)


def scrub_names(text: str, keep: tuple[str, ...], tk: jieba.Tokenizer) -> str:
    """Each word jieba cuts is a name, the start of one, or left alone (``name_at``). A kept
    name and a 村, 乡 or 镇 end a word first: jieba would glue 古坡村莫小红 into 古坡 + 村莫小红."""
    bounds = "|".join([*(re.escape(k) for k in sorted(keep, key=len, reverse=True)), "[村乡镇]"])
    pieces = re.split(f"({bounds})", text)
    return "".join(piece if n % 2 else names_in(piece, keep, tk) for n, piece in enumerate(pieces))


def names_in(text: str, keep: tuple[str, ...], tk: jieba.Tokenizer) -> str:
    words = tk.lcut(text, HMM=True) if text else []
    out, n = [], 0
    while n < len(words):
        counted = words[n][:1] == "张" and n > 0 and words[n - 1][-1:] in COUNTED
        taken, replaced = (1, words[n]) if counted else name_at(words, n, tk.FREQ, keep)
        out.append(replaced)
        n += taken
    return "".join(out)


def name_at(words: list[str], n: int, freq: dict, keep: tuple[str, ...]) -> tuple[int, str]:
    """(how many words, what stands for them) at ``words[n]``."""
    word, after = words[n], words[n + 1] if n + 1 < len(words) else ""
    if word in keep or not word[:1] or word == SOMEBODY:
        return 1, word
    if word[0] in FAMILIAR and len(word) == 2 and word[1] in SURNAMES:     # 老王, 小李
        known = word in NOT_NAMES or (freq.get(word) or 0) >= FAMILIAR_FREQ
        return 1, word if known else SOMEBODY
    if word in FAMILIAR and after[:1] in SURNAMES and (len(after) == 1 or after[0] not in EVERYDAY):
        return 2, SOMEBODY + after[1:]                                     # 老 + 王家 → 某人家
    if word[0] in SURNAMES and (word[1:] in TITLES or (len(word) == 1 and after in TITLES)):
        return 1, "某" + word[1:]                                          # 李老板, 覃 + 律师
    if word[0] in SURNAMES and (word[1:2] == "某" or (len(word) == 1 and after[:1] == "某")):
        return (1 if len(word) > 1 else 2), SOMEBODY                       # 黄某, 韦 + 某某
    if looks_like_name(word, freq) or (word in SURNAMES and word not in EVERYDAY
                                       and looks_like_given(after, freq)):
        return (1 if len(word) > 1 else 2), SOMEBODY                       # 黄大强, 韦 + 秀英
    return 1, word


def looks_like_name(word: str, freq: dict) -> bool:
    return (2 <= len(word) <= 3 and word[0] in SURNAMES and word[0] not in EVERYDAY
            and (freq.get(word) or 0) < NAME_FREQ and is_given(word[1:]))


def looks_like_given(word: str, freq: dict) -> bool:
    return 1 <= len(word) <= 2 and (freq.get(word) or 0) < GIVEN_FREQ and is_given(word)


def is_given(chars: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" and c not in NOT_GIVEN for c in chars)


def purge(db, older_than_seconds: float, now: float) -> dict[str, int]:
    """Delete the text of rows older than the cut-off; return how many rows each table lost."""
    cutoff = now - older_than_seconds
    counts = {}
    with transaction(db):
        for table, columns in PURGED_COLUMNS.items():
            sets = ", ".join(f"{c} = NULL" for c in columns)
            cursor = db.execute(
                f"UPDATE {table} SET {sets}, purged = 1 WHERE {TIME_COLUMN[table]} < ? AND purged = 0",
                [cutoff])
            counts[table] = cursor.rowcount
        db.execute("UPDATE outbox SET payload = '{}' WHERE created_at < ? AND status = 'sent'", [cutoff])
        counts["kb_drafts"] = purge_drafts(db)
    return counts


def purge_drafts(db) -> int:
    """The villager's masked question leaves the drafts of purged tickets: ``asked`` always, and
    the phrasing itself from drafts not published (a published entry's phrasings were reviewed
    and are the knowledge base's own). Runs inside ``purge``'s transaction;
    here rather than in bot.learning.drafts so the privacy layer needs nothing above it."""
    rows = db.execute("SELECT d.id, d.questions, d.asked, d.status FROM kb_drafts d JOIN tickets t"
                      " ON t.id = d.ticket_id WHERE t.purged = 1 AND d.asked IS NOT NULL").fetchall()
    for draft_id, questions, asked, status in rows:
        kept = [q for q in json.loads(questions or "[]") if status == "published" or q != asked]
        db.execute("UPDATE kb_drafts SET asked = NULL, questions = ? WHERE id = ?",
                   [json.dumps(kept, ensure_ascii=False), draft_id])
    return len(rows)


def backup(db, out_path: str | Path) -> Path:
    """Copy the live database with SQLite's online backup API: safe while the bot serves."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(str(out))
    try:
        db.conn.backup(target, pages=256)
    finally:
        target.close()
    return out
