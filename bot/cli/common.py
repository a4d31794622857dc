"""Helpers shared by the command modules: the services, outside Flask."""
from __future__ import annotations

import json
import sys
from typing import Any

from bot.core.config import load_config
from bot.app.services import Services


def make_services() -> Services:
    """The same services the web app uses, for a command-line process."""
    return Services(load_config())


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()
