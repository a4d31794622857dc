"""Matters for a person, read from what people write (knowledge/dict/triggers.toml): words need
not stand together, a denied or feared event does not count, and the ordinary questions that
share the words stay with the FAQ. The phrasings below are this project's own."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.text import normalize
from bot.retrieval.lexicons import default_lexicons
from bot.retrieval.triggers import Reading, build_triggers, largest_amount

NEEDS_A_PERSON = [
    ("我哥被公安抓了 说是盗窃 家里该怎么办", "criminal"),
    ("我老公被派出所带走了 到现在还没放回来", "criminal"),
    ("我堂哥涉嫌盗窃被刑拘了 家属能做什么", "criminal"),
    ("我叔叔在看守所里 我们想请律师", "person"),
    ("法院给我寄了一张传票 说下个月开庭", "court"),
    ("对方把我告到法院了 要我还十万块", "court"),
    ("一审判决我不服 还能上诉吗", "court"),
    ("开庭需要带什么材料", "court"),
    ("我的银行卡被法院冻结了 里面是孩子的学费", "enforcement"),
    ("我上了失信名单 坐不了高铁", "enforcement"),
    ("收到了法院的执行通知书 怎么办", "enforcement"),
    ("我哥欠了网贷 现在法院说要拘留他", "enforcement"),
    ("我弟打架把人打成重伤了", "injury"),
    ("手术后我妈一直昏迷 医院说不是他们的责任", "injury"),
    ("我家孩子在学校被几个人打 鼻梁骨折了 报了警", "injury"),
    ("前天骑电动车被货车撞了 现在还在重症监护室", "injury"),
    ("我爸在工地上摔下来死了 老板不管", "death"),
    ("我爸喝了酒开车把人撞了 人伤得很重", "injury"),
    ("镇政府说要征我家的承包地 补偿才给几千块", "land_taking"),
    ("村里趁我们不在家把老房子推了", "land_taking"),
    ("我家房子被开发商强拆了", "land_taking"),
    ("政府修路要拆我家的房子 一分钱补偿都没有", "land_taking"),
    ("村支书把扶贫款挪用了 我们想告他", "village_funds"),
    ("村长把集体的山林偷偷卖给老板了", "village_funds"),
    ("网上投资被骗了二十多万", "fraud"),
    ("婆婆被人骗去搞传销 把八万块养老钱都投进去了", "fraud"),
    ("邻居把我爸打伤住院了 派出所不给立案", "police"),
]

STAYS_WITH_THE_FAQ = [
    "打架会被拘留吗", "我没有被起诉 只是对方说要告我", "欠信用卡会不会坐牢", "怎么申请强制执行",
    "被狗咬了 去医院打了疫苗 狗主人要赔吗", "父亲去世了 留下的房子怎么分", "老人在医院去世了 存款怎么取",
    "征地补偿款外嫁女有份吗", "找律师一般要多少钱", "醉驾没出事故会怎么处罚", "对方逃逸了 我被撞伤了怎么办",
    "被人打了一巴掌 能报警吗", "朋友借了我五万块不还", "网购被骗了两百块", "我没被抓 只是去派出所做了个笔录",
    "以前坐过牢 现在能当村干部吗", "打官司要多少钱", "我哥没被公安抓 只是叫去问了话", "老公打我怎么办",
    "工伤住院期间工资怎么算", "被车撞了骨折 对方保险公司赔多少", "老人摔了一跤住院了 儿女都不管",
    "我想起诉离婚 要准备什么", "胜诉了对方不给钱 可以向法院申请冻结他的账户吗",
]


def reason_of(text: str) -> str | None:
    return default_lexicons().triggers.escalate_reason(normalize(text))


@pytest.mark.parametrize("text, reason", NEEDS_A_PERSON)
def test_what_people_write_about_serious_matters_reaches_a_person(text, reason):
    found = reason_of(text)
    assert found is not None and found.split(":")[0] == reason, (text, found)


@pytest.mark.parametrize("text", STAYS_WITH_THE_FAQ)
def test_ordinary_questions_sharing_those_words_stay_with_the_faq(text):
    assert reason_of(text) is None


def test_words_of_one_matter_need_not_stand_together():
    assert reason_of("我哥被公安抓了") == "criminal: 被公安抓"
    assert reason_of("老公被多人打 现在住院") is not None


def test_a_denied_event_does_not_count_but_not_yet_does():
    assert reason_of("没被抓") is None and reason_of("我们没有被起诉") is None
    assert reason_of("还没开庭 我该准备什么") == "court: 开庭"


def test_a_feared_event_does_not_count():
    assert reason_of("会不会被起诉") is None and reason_of("他会被抓吗") is None
    assert reason_of("村委会被起诉了") == "court: 被起诉"       # 会 ending 村委会 is no worry


def test_reading_skips_small_linking_words_between_the_marker_and_the_cue():
    reading = Reading(negators=("没有",), links="被")
    assert not reading.counts("没有被抓", 3) and reading.counts("他被抓", 2)


def test_each_escalation_rule_names_its_category_for_the_records():
    triggers = default_lexicons().triggers
    assert triggers.category_of("court: 传票") == "纠纷解决与法律服务"
    assert triggers.category_of("land_taking: 强拆") == "土地与宅基地"
    assert triggers.category_of("nothing") is None


def test_a_sum_written_with_duo_and_wan_is_read_whole():
    assert largest_amount(normalize("被骗了二十多万")) == 200000
    assert largest_amount("30000块") == 30000


def test_a_together_rule_needs_every_group_within_reach():
    triggers = build_triggers({
        "urgent": {"phrases": ["救命"]},
        "escalate": {"hurt": {"together": [{"within": 4, "groups": [["住院"], ["被打"]]}]}},
        "chitchat": {"greeting": {"phrases": ["你好"], "reply": "您好"}},
    })
    assert triggers.escalate_reason("被打了住院") == "hurt: 住院+被打"
    assert triggers.escalate_reason("被打了 后来过了好多好多天才住院") is None


def test_escalation_rules_are_not_read_by_the_faq_view():
    assert default_lexicons().triggers.without_escalation().escalate_reason(normalize("法院传票")) is None


LONG_SERIOUS = (
    "我是石门村的，去年腊月我弟弟在镇上一家砖厂打工，老板一直没给他买保险。上个月他在厂里搬砖的"
    "时候被铲车倒车撞了，当场昏迷，送到县医院抢救了三天，医生说以后可能要瘫痪。老板一开始还来医院"
    "看了两次，后来电话也不接了，厂子也关了门。我们家里拿不出钱，医院天天催着交费，想问问我们现在"
    "应该找谁，能不能让老板出这个钱，要去哪里告他")
LONG_ORDINARY = (
    "我家和隔壁邻居是几十年的老邻居了，以前关系一直挺好。前两年他家翻盖新房，把院墙往我家这边挪"
    "了差不多半米，当时碍于情面我也没说什么。今年我想在院子里搭个棚子放农具，一量才发现地方不够了，"
    "去找他说，他说墙早就砌好了，当年我也没反对，现在不能拆。村里调解过一次也没谈拢。我想问问这种"
    "情况我还能要回那半米地吗，需要准备什么材料")


def test_a_long_story_of_a_serious_matter_reaches_a_person_and_an_ordinary_one_does_not():
    assert 150 <= len(LONG_SERIOUS) <= 300 and 150 <= len(LONG_ORDINARY) <= 300
    assert reason_of(LONG_SERIOUS).startswith("injury")
    assert reason_of(LONG_ORDINARY) is None


@pytest.mark.parametrize("text", ["现在催收天天打我电话 我要还吗", "他又打我手机 一直骂人", "他们现在还在打我微信语音"])
def test_a_phone_call_is_not_read_as_a_beating(text):
    assert default_lexicons().triggers.urgent_reason(normalize(text)) is None


@pytest.mark.parametrize("text", ["老公现在正在打我", "他又打我了 快来人"])
def test_someone_being_beaten_now_is_still_urgent(text):
    assert default_lexicons().triggers.urgent_reason(normalize(text)) is not None


# ---- the first look (``Triggers.cues``): never a different answer from reading every rule ----

def rules_one_by_one(triggers, text: str) -> str | None:
    """The escalation reason as the rules give it without the first look."""
    for reason, rule in triggers.escalate.items():
        found = rule.find(text, triggers.reading)
        if found:
            return f"{reason}: {found}"
    return None


def cue_words(triggers) -> list[str]:
    return sorted({word for words in triggers.cues.by_first.values() for word in words})


def test_the_first_look_agrees_with_every_rule_on_the_faq_and_the_serious_matters():
    lexicons = default_lexicons()
    triggers = lexicons.triggers
    texts = [q for entry in lexicons_kb_questions() for q in entry] + \
        [t for t, _ in NEEDS_A_PERSON] + STAYS_WITH_THE_FAQ + [LONG_SERIOUS, LONG_ORDINARY]
    found = [normalize(t) for t in texts]
    assert sum(rules_one_by_one(triggers, t) is not None for t in found) >= len(NEEDS_A_PERSON)
    assert [triggers.escalate_reason(t) for t in found] == [rules_one_by_one(triggers, t) for t in found]


def lexicons_kb_questions() -> list[tuple[str, ...]]:
    from bot.core.config import load_config
    from bot.kb.knowledge import load_knowledge
    return [entry.questions for entry in load_knowledge(load_config(environ={})).entries]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_first_look_agrees_with_every_rule_on_texts_made_of_their_words(data):
    triggers = default_lexicons().triggers
    words = cue_words(triggers)
    pieces = st.sampled_from(words) | st.sampled_from(["没", "会不会", "万一", "被", "十万", "我", "他", "，", " "]) \
        | st.text(alphabet="打伤死撞法院被骗钱万我他邻居的了", max_size=3)
    text = normalize("".join(data.draw(st.lists(pieces, max_size=8))))
    assert triggers.escalate_reason(text) == rules_one_by_one(triggers, text)


def test_a_rule_of_only_tangled_parties_or_a_fraud_still_gets_past_the_first_look():
    triggers = build_triggers({
        "urgent": {"phrases": ["救命"]},
        "escalate": {
            "tangle": {"parties": ["哥哥", "姐姐", "邻居"], "issues": ["房子", "地"],
                       "min_parties": 2, "min_issues": 1},
            "fraud": {"phrases": ["被骗"], "min_amount": 50000},
            "hurt": {"together": [{"within": 4, "groups": [["住院", "打"], ["被打"]]}]},
        },
        "chitchat": {"greeting": {"phrases": ["你好"], "reply": "您好"}},
    })
    assert triggers.escalate_reason("哥哥和邻居都要分房子") == "tangle: 2 parties, 1 issues"
    assert triggers.escalate_reason("被骗了80000块") == "fraud: 被骗"
    assert triggers.escalate_reason("被打了住院") == "hurt: 住院+被打"
    assert triggers.escalate_reason("房子和地怎么分") is None
    assert not triggers.cues.in_text("房子和地怎么分")
