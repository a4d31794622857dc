"""The things every layer passes along: an incoming message, a handler's reply, the
consultation it records, and the context a handler runs in.

They live below the dispatch layer so that the records, tickets and delivery, which the
handlers call, can name them without importing the registry that calls the handlers (bot.conversation.dispatch
re-exports them for the handlers).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping, Protocol


@dataclass
class Incoming:
    """One message or event from a villager or adviser, as the handlers see it."""

    openid: str
    msg_type: str                    # text | voice | image | video | location | link | file | event | unknown
    text: str = ""                   # Content, or voice Recognition, or a menu key's reply
    event: str = ""                  # subscribe | unsubscribe | click | view | scan | ...
    event_key: str = ""
    media_id: str = ""
    msg_id: str = ""
    create_time: int = 0
    channel: str = "wechat"          # wechat | cli | simulator
    raw: Any = None                  # the message's XML fields as a dict, when it came from WeChat
    _normalized: str | None = field(default=None, repr=False, compare=False)

    @property
    def normalized(self) -> str:
        """The text normalized once (bot.core.text.normalize), however many handlers read it."""
        if self._normalized is None:
            from bot.core.text import normalize
            self._normalized = normalize(self.text or "")
        return self._normalized


@dataclass(frozen=True)
class Considered:
    """An FAQ entry the matcher considered for a question, with its score.

    One shape from the matcher to the record: the decision carries these, `ask --json` prints
    them (``as_json``: DESIGN.md's candidate object) and the consultation's row keeps the entry
    and its score (``as_record``; its texts and articles are in the knowledge base)."""

    faq_id: str
    score: float
    question: str = ""                 # the entry's first phrasing, shown when choices are offered
    citations: tuple[str, ...] = ()
    features: Mapping[str, Any] = field(default_factory=dict)   # for people tuning the matcher

    def as_json(self) -> dict[str, Any]:
        return {"faq_id": self.faq_id, "question": self.question, "citations": list(self.citations),
                "score": round(self.score, 3), "features": dict(self.features)}

    def as_record(self) -> dict[str, Any]:
        return {"faq_id": self.faq_id, "score": round(self.score, 3)}


class Decided(Protocol):
    """What a decision about a question says (bot.retrieval.matcher.Decision), as the record reads it."""

    action: str
    faq_id: str | None
    category: str | None
    score: float
    candidates: list[Considered]
    citations: list[str]
    reason: str


@dataclass
class Consultation:
    """What was decided about one question; one row of the consultations table.

    A question may take several turns (choices, "都不是", the hand-over): each later turn names
    the message that asked it (``follows``) and updates that row instead of adding one, so the
    township counts one consultation per question.
    """

    question: str
    action: str                      # answer | clarify | escalate | urgent | chitchat | fallback
    faq_id: str | None = None
    category: str | None = None
    score: float | None = None
    candidates: list[Considered] = field(default_factory=list)   # the decision's, as they were
    citations: list[str] = field(default_factory=list)
    ticket_id: int | None = None     # a ticket opened for it: linked once, on the ticket's row
    reason: str = ""                 # why, in a few words (the matcher's or the escalation's)
    follows: int | None = None       # the message id of the question this turn continues

    @classmethod
    def of(cls, decision: Decided, question: str, **changes: Any) -> "Consultation":
        """The record of a decision: its action, entry, category, score, reason, articles and
        the entries it weighed (the same ``Considered``), for ``question``; ``changes`` are the
        fields a turn sets otherwise (a hand-over's action, the message it continues)."""
        made = cls(question=question, action=decision.action, faq_id=decision.faq_id,
                   category=decision.category, score=round(decision.score, 3),
                   candidates=list(decision.candidates), citations=list(decision.citations),
                   reason=decision.reason or "")
        return dataclasses.replace(made, **changes) if changes else made


@dataclass
class Reply:
    """A handler's answer: text to send (None means answer WeChat with ``success``).

    ``decision`` is what `legalbot ask --json` reports for the message (bot.retrieval.matcher.Decision);
    ``consultation`` what the records keep. Commands, menu taps and numbers carry no
    consultation: they are not questions.
    """

    text: str | None
    handler: str = ""
    consultation: Consultation | None = None
    decision: Decided | None = None
    channel: str | None = None       # the channel the record names when the handler knows better
                                     # than the message (a voice message answered as text)


@dataclass
class Context:
    """What a handler may use: the app's services, this request's database, the clock."""

    services: Any                    # bot.app.services.Services
    db: Any                          # sqlite_utils.Database
    now: float
    message_id: int | None = None    # this message's row (bot.conversation.records.claim), when recorded

    @cached_property
    def config(self):
        """The services' config, looked up once per context (the handlers ask some ten times a
        message; a context lives for one message, and its services are never swapped)."""
        return self.services.config
