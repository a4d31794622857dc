"""The reply pipeline completes a copy of the handler's reply: the notes, the village question,
waiting adviser answers and the cut for 更多 go into the reply it returns, and the reply the
handler gave is left as it was (no function writes its result onto its caller's argument)."""
from __future__ import annotations

from bot.conversation.dispatch import Consultation, Context, Incoming, Reply
from bot.conversation.pipeline import prepare

OPENID = "oPrepareCopy0001"
ANSWER = "彩礼的事，按民法典第1042条办。"


def test_the_completed_reply_is_a_copy_and_the_handlers_reply_is_unchanged(app, db):
    """An answer to a villager whose village is not known yet gets the village question under it."""
    ctx = Context(services=app.extensions["legalbot"], db=db, now=1_900_000_000.0)
    given = Reply(text=ANSWER, handler="text",
                  consultation=Consultation(question="彩礼能要回来吗", action="answer", faq_id="marriage.bride_price"))
    sent = prepare(ctx, Incoming(openid=OPENID, msg_type="text", text="彩礼能要回来吗"), given)
    assert given.text == ANSWER
    assert sent is not given and sent.text.startswith(ANSWER) and "哪个村" in sent.text
    assert (sent.handler, sent.consultation) == (given.handler, given.consultation)


def test_no_reply_stays_no_reply(app, db):
    ctx = Context(services=app.extensions["legalbot"], db=db, now=1_900_000_000.0)
    silent = Reply(text=None, handler="events")
    assert prepare(ctx, Incoming(openid=OPENID, msg_type="event", event="view"), silent).text is None
