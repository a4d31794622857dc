"""Start-up moves the loaded dictionaries out of the collector's sight (gc.freeze) once per
process: a process that builds app after app (the test suite, a knowledge-base rebuild) must
still free the apps it drops."""
from __future__ import annotations

import gc
import weakref

from bot import create_app
from bot.core.config import load_config
from tests.conftest import test_overrides as overrides_for


def test_an_app_built_after_start_up_is_freed_when_dropped(tmp_path):
    create_app(load_config(overrides=overrides_for(tmp_path / "first"), environ={}))
    second = create_app(load_config(overrides=overrides_for(tmp_path / "second"), environ={}))
    services = weakref.ref(second.extensions["legalbot"])
    del second
    gc.collect()
    assert services() is None
    assert gc.get_freeze_count() > 0            # start-up still settled the heap once
