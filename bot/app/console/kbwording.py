"""The knowledge base's check messages in Chinese, for the draft pages.

`kb check` and the load checks (bot/kb/kbcheck.py, bot/kb/knowledge.py) word their findings for the
people who edit knowledge/ as files; a draft is checked by the very same functions
(bot/learning/drafts.py ``problems``), and staff and advisers read the findings here in their own
language. A message no pattern knows is still shown, as a plain request to ask for help,
never in English.
"""
from __future__ import annotations

import re
from typing import Callable

Render = Callable[[re.Match], str]
UNKNOWN = "还有一处不符合知识库的规则，请联系管理员运行 legalbot kb check 查看。"

MESSAGES: list[tuple[re.Pattern, Render]] = [(re.compile(p), r) for p, r in [
    (r"^line 1 is empty", lambda m: "第一行是空的：第一行要直接回答问题（能 / 不能 / 要看情况……）。"),
    (r"^line 1 is (\d+) characters, at most (\d+)", lambda m: f"第一行有{m[1]}个字，最多{m[2]}个字。"),
    (r"^line 1 must not be numbered", lambda m: "第一行不要编号：它直接回答问题。"),
    (r"^has (\d+) numbered steps after line 1, needs (\d+) to (\d+)",
     lambda m: f"第一行之后有{m[1]}步，要写{m[2]}到{m[3]}步，每步一行，写成“1. ……”。"),
    (r"^line (\d+) is blank", lambda m: f"第{m[1]}行是空行：答复中间不要空行。"),
    (r"^line (\d+) must be step '(\d+)\. …'",
     lambda m: f"第{m[1]}行要写成“{m[2]}. ……”（数字、英文句点、空格）。"),
    (r"^step (\d+) is (\d+) characters, at most (\d+)", lambda m: f"第{m[1]}步有{m[2]}个字，最多{m[3]}个字。"),
    (r"^answer is (\d+) characters with placeholders filled, at most (\d+)",
     lambda m: f"答复共{m[1]}个字，最多{m[2]}个字。"),
    (r"^answer says 你", lambda m: "答复里用了“你”，请称“您”。"),
    (r"^answer promises a hand-over", lambda m: "答复里不要写“转人工”“回复1”：需要时机器人会自己提出转法律顾问。"),
    (r"^answer is empty", lambda m: "答复是空的。"),
    (r"^has (\d+) questions, needs at least (\d+)", lambda m: f"现在有{m[1]}个问法，至少要{m[2]}个：照村民的说法多写几种问法。"),
    (r"^needs at least (\d+) questions, has (\d+)", lambda m: f"现在有{m[2]}个问法，至少要{m[1]}个。"),
    (r"^question '(.*)' repeats one of", lambda m: f"问法“{m[1]}”和知识库里已有的问法重复了。"),
    (r"^'questions' must be a list of non-empty strings", lambda m: "问法不能是空行。"),
    (r"^excerpt is missing", lambda m: "还没有原文摘录：请从引用的法条里摘出答复所依据的那一句。"),
    (r"^excerpt given but no quoted article", lambda m: "写了原文摘录，但没有选引用哪一条法条。"),
    (r"^excerpt is (\d+) characters, at most (\d+)", lambda m: f"原文摘录有{m[1]}个字，最多{m[2]}个字。"),
    (r"^excerpt of (\S+) is not verbatim in the article: the first (\d+) characters match, then '(.*)' differs",
     lambda m: f"原文摘录和{m[1]}的原文不一致：前{m[2]}个字相同，从“{m[3]}”起不同（注意全角标点）。"),
    (r"^excerpt of (\S+) must start where a sentence starts",
     lambda m: f"原文摘录要从{m[1]}一句话的开头摘起（条文开头、新的一款，或“。；：”之后）。"),
    (r"^excerpt of (\S+) must end with", lambda m: f"原文摘录要在“。”或“；”处结束（或摘到{m[1]}末尾）。"),
    (r"^quote is required when there are citations", lambda m: "列了法条，还要选定答复里引用原文的那一条。"),
    (r"^quote '(.*)' is not among its citations", lambda m: f"引用原文的“{m[1]}”不在所列法条里。"),
    (r"^quote '(.*)': the source's text of this article is garbled",
     lambda m: f"“{m[1]}”的原文在数据来源中有错漏，不能引用原文，请换一条。"),
    (r"^citation '(.*)' is not canonical \(write '(.*)'\)", lambda m: f"法条“{m[1]}”请写作“{m[2]}”。"),
    (r"^citation '(.*)' is not canonical", lambda m: f"“{m[1]}”不是法条的写法，应写成“民法典第1079条”这样。"),
    (r"^citation '(.*)' is not in knowledge/statutes", lambda m: f"法条库里没有“{m[1]}”。"),
    (r"^citation '(.*)' is of a law not in force \(the (\S+) text, in force only until (\S+)\)",
     lambda m: f"“{m[1]}”引的是{m[2]}的文本，只施行到{m[3]}，已失效，不能再引用；请按修订后的新文本引用（条号可能变了）。"),
    (r"^citation '(.*)' is of a law not in force", lambda m: f"“{m[1]}”所在的法律现在不施行，不能引用。"),
    (r"^(?:.*\[(.*)\]: )?glosses a law not in force \(the (\S+) text, in force only until (\S+)\)",
     lambda m: f"{'“' + m[1] + '”的' if m[1] else ''}村民问法是按{m[2]}的文本写的，这个文本只施行到{m[3]}，"
               f"已失效：请按修订后的新文本重写。"),
    (r"^cites no article", lambda m: "至少要引用一条法条（法条库里现行有效的）。"),
    (r"^answer names '(.*)', which is not an in-force article",
     lambda m: f"答复里提到的“{m[1]}”不是法条库里现行有效的条文；规章、司法解释请用文字说出名称。"),
    (r"^placeholder \{(\w+)\} is not a key", lambda m: f"答复里的占位符{{{m[1]}}}不存在。"),
    (r"^reply is over (\d+) bytes", lambda m: "答复加上法条原文太长，一条微信消息放不下，请缩短。"),
    (r"^answer is too long .* to leave room", lambda m: "答复太长，放不下引用的法条原文，请缩短。"),
    (r"^id '(.*)' must look like area\.topic", lambda m: f"编号“{m[1]}”要写成“类别.主题”的形式：小写英文字母、数字和下划线，用点隔开，例如 property.lost_phone。"),
    (r"^id also used in", lambda m: "这个编号已被知识库里的另一条使用，请换一个。"),
    (r"^category '(.*)' is not one of", lambda m: "请选择类别。"),
    (r"^role '(.*)' is not one of", lambda m: "“适用一方”只能选受害方、加害方、债权人或债务人。"),
    (r"^basis says (\S+) (\S+), statutes hold (\S+)", lambda m: f"{m[1]}的文本已更新为{m[3]}版，请按新文本重新审核。"),
    (r"^basis does not name (\S+)", lambda m: f"审核依据里缺{m[1]}的版本。"),
    (r"^correction rule '(.*)': must not say '(.*)' \((.*)\)$",
     lambda m: f"法律审核记录（{m[1]}）：不能写“{m[2]}”——{m[3]}"),
    (r"^correction rule '(.*)': must say '(.*)' \((.*)\)$", lambda m: f"法律审核记录（{m[1]}）：要写明“{m[2]}”——{m[3]}"),
    (r"^correction rule '(.*)': must cite (\S+) \((.*)\)$", lambda m: f"法律审核记录（{m[1]}）：要引用{m[2]}——{m[3]}"),
]]


def explain(problem: str) -> str:
    """One check finding in Chinese."""
    for pattern, render in MESSAGES:
        match = pattern.search(problem)
        if match:
            return render(match)
    return UNKNOWN
