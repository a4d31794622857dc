"""The `legalbot` command line: thin over the library, `--json` wherever a program may read it.

Each module below adds its commands to the group with ``register(main)``.
"""
from __future__ import annotations

import importlib

import click

COMMAND_MODULES = ["ask", "chat", "kb", "law", "records", "adviser", "worker", "ops", "admin", "console",
                   "mediation", "learning"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """legalbot: a township's legal-consultation bot for WeChat."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"bot.cli.{_name}").register(main)
