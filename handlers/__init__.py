"""The bot's behaviour, one module per kind of incoming thing.

Each module exposes ``register(registry)`` and registers small handlers with a priority (lower
runs first; the first reply wins). ``create_app`` loads the modules listed here, in any order.

Priorities in use (keep gaps so a new handler can slot in):
  5 dedupe-free system events   8 bound advisers' commands (their answers may quote danger words)
  10 urgent danger   15 adviser binding   25 text with nothing to read (empty, emoji, sticker)
  30 pending state (更多, 改村, village choice, clarify numbers, "1" for the hand-over offered)
  34 转人工 and its kin   40 law lookup (查法条)   44 补充 / 取消   45 my tickets
  50 menu clicks and other events   60 media   65 voice   70 chitchat
  71 the story of a hand-over   72 additions to a ticket just opened
  75 numbers and quit words answering nothing   80 questions → FAQ and escalation
  1000 unknown (catch-all)
人民调解 and 普法 (handlers/mediation.py, handlers/publicity.py): 9 mediators' commands
  29 the village after "调解"   36 "调解" taking up the offer   37 the applicant's phone
  46 我的调解   47/49 普法 (typed, the menu)   53 a 群发's job report
"""

DEFAULT_HANDLERS: list[str] = [
    "handlers.events", "handlers.media", "handlers.voice", "handlers.more", "handlers.unknown",
    "handlers.binding", "handlers.adviser", "handlers.village", "handlers.my_tickets",
    "handlers.lookup", "handlers.urgent", "handlers.clarify", "handlers.chitchat", "handlers.text",
    "handlers.handover", "handlers.stray", "handlers.mediation", "handlers.publicity",
]
