"""legalbot commands (placeholder until this module's commands are written)."""
import click


def register(main: click.Group) -> None:
    pass
