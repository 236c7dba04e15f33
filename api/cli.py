"""The ``loupe`` command line: one group, each command in its own module."""

from __future__ import annotations

import importlib
import importlib.util
import logging

import click

COMMANDS = (
    "serve",
    "worker",
    "ingest",
    "jobs",
    "search",
    "reindex",
    "enrich",
    "keys",
    "fsck",
    "bench",
    "eval",
)
_MODULES = {
    "serve": "loupe.api.commands.serve",
    "worker": "loupe.api.commands.worker",
    "ingest": "loupe.api.commands.client",
    "jobs": "loupe.api.commands.client",
    "search": "loupe.api.commands.client",
    "reindex": "loupe.api.commands.admin",
    "enrich": "loupe.api.commands.admin",
    "keys": "loupe.api.commands.keys",
    "fsck": "loupe.api.commands.storage",
    "backup": "loupe.api.commands.storage",
    "restore": "loupe.api.commands.storage",
    "bench": "loupe.api.commands.bench",
    "eval": "loupe.api.commands.eval",
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (torch is slow to import)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [c for c in COMMANDS if self._module_exists(c)]

    @staticmethod
    def _module_exists(name: str) -> bool:
        return importlib.util.find_spec(_MODULES[name]) is not None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _MODULES or not self._module_exists(cmd_name):
            return None
        module = importlib.import_module(_MODULES[cmd_name])
        command = getattr(module, f"{cmd_name}_command", None) or module.command
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup)
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default LOUPE_LOG_LEVEL).")
def main(log_level: str | None) -> None:
    """Loupe: cross-modal semantic search over your photos and texts."""
    from loupe.api.settings import Settings

    level = log_level or Settings().log_level
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
