"""Handing a question to a person: advisers, routing, tickets, delivery, the outbox and
WeChat's API."""
