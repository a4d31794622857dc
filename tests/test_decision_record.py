"""One shape from the matcher's decision to the record: the entries a decision weighed are
``Considered`` objects, the consultation holds the same ones, and only the edges serialise them
(``ask --json``'s candidate objects, the consultation row's {faq_id, score})."""
from __future__ import annotations

from bot.core.messages import Considered, Consultation
from tests.matcher_support import small_matcher

QUESTION = "订了亲又退婚礼金退不退"


def test_the_consultation_of_a_decision_holds_the_entries_it_weighed_not_a_copy_in_another_shape():
    decision = small_matcher().decide(QUESTION)
    consultation = Consultation.of(decision, QUESTION)
    assert decision.candidates and all(isinstance(c, Considered) for c in decision.candidates)
    assert consultation.candidates == decision.candidates
    assert consultation.candidates is not decision.candidates          # its own list: no shared writes
    assert (consultation.action, consultation.faq_id, consultation.reason) == (
        decision.action, decision.faq_id, decision.reason)


def test_the_edges_serialise_the_same_objects_in_their_own_shapes():
    decision = small_matcher().decide(QUESTION)
    shown = decision.as_json()["candidates"]
    assert shown == [c.as_json() for c in decision.candidates]
    assert set(shown[0]) == {"faq_id", "question", "citations", "score", "features"}
    assert [c.as_record() for c in Consultation.of(decision, QUESTION).candidates] == [
        {"faq_id": c["faq_id"], "score": c["score"]} for c in shown]


def test_a_turn_changes_only_the_fields_it_names():
    decision = small_matcher().decide(QUESTION)
    handed_over = Consultation.of(decision, QUESTION, action="escalate", faq_id=None, follows=41)
    assert (handed_over.action, handed_over.faq_id, handed_over.follows) == ("escalate", None, 41)
    assert handed_over.candidates == decision.candidates and decision.action != "escalate"
