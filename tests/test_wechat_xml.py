"""The webhook's quick reading of a message's XML (bot/app/wechat_xml.py) gives exactly what
xmltodict gives, for flat messages and for every other document (those are handed to xmltodict):
the same dict, or the same 400."""
from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app.wechat_xml import NotFlat, flat_fields, scanned
from bot.app.webhook import Refused, parse_xml_dict

NAMES = st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId",
                         "Event", "EventKey", "Recognition", "MediaId", "Encrypt", "a", "b_1"])
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(" \n\t"), max_size=30)
GAP = st.sampled_from(["", " ", "\n  "])


@st.composite
def element(draw) -> str:
    name, text = draw(NAMES), draw(TEXT)
    form = draw(st.sampled_from(["plain"] * 4 + ["cdata"] * 4 + ["empty", "attribute", "nested"]))
    if form == "cdata":
        return f"<{name}><![CDATA[{text.replace(']]>', '')}]]></{name}>"
    if form == "empty":
        return f"<{name}/>"
    if form == "attribute":
        return f'<{name} kind="x">{escape(text)}</{name}>'
    if form == "nested":
        return f"<{name}><Item>{escape(text)}</Item></{name}>"
    return f"<{name}>{escape(text)}</{name}>"


@st.composite
def document(draw) -> str:
    gap = draw(GAP)
    body = gap.join(draw(st.lists(element(), max_size=6)))
    root = draw(st.sampled_from(["xml"] * 7 + ["other"]))
    extra = draw(st.sampled_from([""] * 6 + ["stray text", "<!-- note -->"]))
    head = draw(st.sampled_from([""] * 6 + ['<?xml version="1.0" encoding="utf-8"?>', "<!DOCTYPE xml>"]))
    return f"{head}<{root}>{gap}{body}{extra}{gap}</{root}>"


def read_by_xmltodict(xml: str):
    try:
        root = xmltodict.parse(xml).get("xml")
    except Exception:  # noqa: BLE001 - whatever xmltodict refuses, the webhook refuses
        return "refused"
    return root if isinstance(root, dict) else "refused"


def read_by_webhook(xml: str):
    try:
        return parse_xml_dict(xml)
    except Refused as exc:
        assert exc.status == 400
        return "refused"


@settings(max_examples=400, deadline=None)
@given(document())
def test_the_webhook_reads_any_document_as_xmltodict_does(xml):
    assert read_by_webhook(xml) == read_by_xmltodict(xml)


def test_a_wechat_text_message_is_read_in_the_quick_pass():
    xml = ("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oA]]></FromUserName>"
           "<CreateTime>1764490000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           "<Content><![CDATA[ 借钱不还怎么办 ]]></Content><MsgId>1</MsgId><Empty></Empty></xml>")
    assert scanned(xml) == xmltodict.parse(xml)["xml"]
    assert flat_fields(xml) == xmltodict.parse(xml)["xml"]
    assert flat_fields(xml)["Content"] == "借钱不还怎么办" and flat_fields(xml)["Empty"] is None


@pytest.mark.parametrize("xml", [
    "<xml><a>1</a><a>2</a></xml>",                      # a name twice: a list in xmltodict
    '<xml><a x="1">t</a></xml>',                        # an attribute
    "<xml><a><b>1</b></a></xml>",                       # an element inside an element
    "<xml>t<a>1</a></xml>",                             # text beside the elements
    "<xml></xml>",                                      # no elements
    "<root><a>1</a></root>",                            # another root
    '<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><MsgType>&a;</MsgType></xml>',   # an entity
    "<xml><a>1</a>",                                    # cut short
])
def test_anything_but_a_flat_message_is_left_to_xmltodict(xml):
    with pytest.raises(NotFlat):
        flat_fields(xml)
    assert read_by_webhook(xml) == read_by_xmltodict(xml)


# The quick scan (``scanned``) against text that is not escaped: brackets that may close a CDATA
# section early, references, carriage returns, characters XML forbids, Unicode spaces.
RAW = st.lists(st.sampled_from(list("a借 \n\t\r]>&<;\u3000\x0b\ufffe") + ["]]>", "&amp;", "&#20511;"]),
               max_size=8).map("".join)


@st.composite
def raw_element(draw) -> str:
    name, text = draw(st.sampled_from(["Content", "MsgId", "a", "a-b", "_x"])), draw(RAW)
    if draw(st.booleans()):
        return f"<{name}><![CDATA[{text}]]></{name}>"
    return f"<{name}>{text}</{name}>"


@st.composite
def raw_document(draw) -> str:
    gap = draw(st.sampled_from(["", " ", "\n", "\r\n", "\u3000"]))
    tail = draw(st.sampled_from(["", "\n", " x", "<a>1</a>"]))
    return f"<xml>{gap}{gap.join(draw(st.lists(raw_element(), max_size=5)))}{gap}</xml>{tail}"


@settings(max_examples=600, deadline=None)
@given(raw_document())
def test_the_quick_scan_reads_only_what_xmltodict_reads_the_same_way(xml):
    quick = scanned(xml)
    if quick is not None:
        assert quick == read_by_xmltodict(xml)
    assert read_by_webhook(xml) == read_by_xmltodict(xml)


@pytest.mark.parametrize("xml", [
    "<xml><a><![CDATA[x]]>y]]></a></xml>",              # a CDATA section closed early
    "<xml><a>x]]>y</a></xml>",                          # ]]> in text: not XML
    "<xml><a>x\r\ny</a></xml>",                         # XML reads \r\n as \n
    "<xml><a>&#20511;</a></xml>",                       # a reference
    "<xml><a-b>1</a-b></xml>",                          # a name the scan does not read
    "<xml><a>1</a></xml><b>2</b>",                      # something after the root
])
def test_the_quick_scan_leaves_other_forms_to_expat(xml):
    assert scanned(xml) is None
    assert read_by_webhook(xml) == read_by_xmltodict(xml)
