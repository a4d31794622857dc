"""Keep the access token (and any query string) out of every error that is logged, stored or shown.

WeChat's API takes ``access_token`` in the query string, and the requests library puts the URL
it failed on into its exceptions ("... Max retries exceeded with url:
/cgi-bin/media/get?access_token=...&media_id=..."). Such a text reached the worker's log,
``outbox.last_error`` and a console error page. Errors are redacted where they are made
(``WeChatError``) and again where they are kept or shown, and the logging set up by the command
line redacts every record.
"""
from __future__ import annotations

import logging
import re
import traceback

# A query string after a URL or a path: "?" then at least one character up to a space or quote.
QUERY = re.compile(r"(?<=[\w/.%-])\?[^\s'\"<>)\]]+")
# A secret-looking parameter anywhere else (a form body, a JSON dump, a dict's repr).
SECRET_PARAM = re.compile(r"(?i)\b(access_token|appsecret|secret|signature|msg_signature|nonce)"
                          r"(['\"]?\s*[=:]\s*['\"]?)[^&\s'\",}]+")


def without_secrets(text: object) -> str:
    """The text with query strings cut and secret-looking parameters blanked."""
    return SECRET_PARAM.sub(r"\1\2…", QUERY.sub("?…", str(text)))


class RedactingFilter(logging.Filter):
    """A handler filter: the formatted message and traceback of each record, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = without_secrets(record.getMessage()), ()
        if record.exc_info:
            record.exc_text = without_secrets("".join(traceback.format_exception(*record.exc_info))).rstrip("\n")
            record.exc_info = None
        return True


def redact_logging() -> None:
    """Add the filter to every handler of the root logger (after ``logging.basicConfig``)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
