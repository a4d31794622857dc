"""One message through the bot: the handler registry, the reply pipeline, records, replies
and the hand-over conversation."""
