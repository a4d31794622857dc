"""`legalbot worker` drains the outbox; `legalbot menu push` creates the menu through the API."""
from __future__ import annotations

import json
import logging
import time

import click

from bot.escalation import outbox
from bot.app import worker
from bot.cli.common import make_services, print_json
from bot.community.publicity import MenuCreate, menu_json
from bot.core.redact import redact_logging


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass (deadlines, then due rows), then exit.")
@click.option("--retry-failed", is_flag=True,
              help="First put the rows that failed for good back in the queue (once a fault "
                   "such as WeChat's IP whitelist is mended).")
def worker_command(once: bool, retry_failed: bool) -> None:
    """Send what the outbox holds (adviser notifications, answers) and chase late tickets."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    redact_logging()
    services = make_services()
    if retry_failed:
        requeue_failed(services)
    if once:
        print_json(worker.run_once(services))
        return
    click.echo(f"worker: polling every {services.config.outbox.poll_seconds:g}s; Ctrl-C stops")
    try:
        worker.loop(services)
    except KeyboardInterrupt:
        pass


def requeue_failed(services) -> None:
    db = services.open_db()
    try:
        click.echo(f"worker: {outbox.retry_failed(db, time.time())} failed rows back in the queue",
                   err=True)
    finally:
        db.conn.close()


@click.group("menu")
def menu_group() -> None:
    """The account's menu (config.toml [[menu]])."""


@menu_group.command("push")
@click.option("--dry-run", is_flag=True, help="Print the JSON instead of queueing it.")
def push_command(dry_run: bool) -> None:
    """Queue menu/create with config's menu; the worker sends it (run `legalbot worker --once`)."""
    services = make_services()
    menu = menu_json(services.config)
    if dry_run:
        click.echo(json.dumps(menu, ensure_ascii=False, indent=2))
        return
    db = services.open_db()
    now = time.time()
    outbox.enqueue(db, MenuCreate(menu), now, dedupe_key=f"menu:{now:.0f}")
    print_json(worker.run_once(services, now=now, db=db))


def register(main: click.Group) -> None:
    main.add_command(worker_command)
    main.add_command(menu_group)
