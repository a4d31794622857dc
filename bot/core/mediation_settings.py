"""config.toml [mediation]: each village's 人民调解委员会 and its mediators, validated at load.

A village's committee (人民调解法第8条: set up by the 村民委员会) mediates the disputes its
villagers bring. Its mediators are named like the village advisers: a mediator may be the
village's adviser (the same name) or a 法律明白人 or another mediator, who gets an adviser
account of their own so that they bind their WeChat the same way ("绑定 12345678", bot.escalation.advisers)
and send commands ("调解 3 记录 …"). Nobody types an openid.

This module imports nothing from bot.core.config (which imports it): errors are raised as
``ConfigError`` through a late import.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

ROLES = ("村法律顾问", "法律明白人", "调解员", "主任")


def fail(message: str) -> None:
    from bot.core.config import ConfigError
    raise ConfigError(f"[mediation] {message}")


@dataclass(frozen=True)
class Mediator:
    name: str
    phone: str = ""
    role: str = "调解员"


@dataclass(frozen=True)
class Committee:
    """One village's 人民调解委员会."""

    village: str
    name: str
    mediators: tuple[Mediator, ...]

    def has(self, mediator_name: str) -> bool:
        return any(m.name == mediator_name for m in self.mediators)


@dataclass(frozen=True)
class MediationSettings:
    offer_hours: float = 24.0            # "调解" takes up the offer this long after an answer
    committees: tuple[Committee, ...] = ()

    def committee(self, village: str | None) -> Committee | None:
        return next((c for c in self.committees if c.village == village), None)

    def villages_of(self, mediator_name: str) -> list[str]:
        """The villages whose committee lists this mediator."""
        return [c.village for c in self.committees if c.has(mediator_name)]

    def mediators(self) -> dict[str, Mediator]:
        """Every configured mediator by name (the first entry of a name wins for its phone)."""
        found: dict[str, Mediator] = {}
        for committee in self.committees:
            for mediator in committee.mediators:
                found.setdefault(mediator.name, mediator)
        return found


def build_mediator(raw: Any, village: str) -> Mediator:
    if not isinstance(raw, Mapping) or not str(raw.get("name", "")).strip():
        fail(f"{village}: every mediator needs a name, got {raw!r}")
    unknown = set(raw) - {"name", "phone", "role"}
    if unknown:
        fail(f"{village}: unknown mediator setting(s) {', '.join(sorted(unknown))}")
    role = str(raw.get("role", "调解员"))
    if role not in ROLES:
        fail(f"{village}: role {role!r} is not one of {', '.join(ROLES)}")
    return Mediator(name=str(raw["name"]).strip(), phone=str(raw.get("phone", "")), role=role)


def build_committee(raw: Mapping[str, Any], villages: list[str]) -> Committee:
    village = str(raw.get("village", "")).strip()
    if not village:
        fail(f"every [[mediation.committees]] needs a village: {raw!r}")
    if villages and village not in villages:
        fail(f"committee of {village!r}: not a configured village ([[villages]])")
    mediators = tuple(build_mediator(m, village) for m in raw.get("mediators", ()))
    if not mediators:
        fail(f"committee of {village}: at least one mediator is needed")
    name = str(raw.get("name") or f"{village}人民调解委员会")
    return Committee(village=village, name=name, mediators=mediators)


def build_mediation(raw: Mapping[str, Any], villages: list[str]) -> MediationSettings:
    """The [mediation] table: committees of configured villages, one per village."""
    unknown = set(raw) - {"offer_hours", "committees"}
    if unknown:
        fail(f"unknown setting(s): {', '.join(sorted(unknown))}")
    committees = tuple(build_committee(c, villages) for c in raw.get("committees", ()))
    seen = [c.village for c in committees]
    twice = sorted({v for v in seen if seen.count(v) > 1})
    if twice:
        fail(f"more than one committee for {', '.join(twice)}")
    try:
        hours = float(raw.get("offer_hours", 24.0))
    except (TypeError, ValueError):
        fail(f"offer_hours: expected a number, got {raw.get('offer_hours')!r}")
    if hours <= 0:
        fail("offer_hours must be above 0")
    return MediationSettings(offer_hours=hours, committees=committees)
