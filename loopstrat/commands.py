"""What every `loopstrat` command shares: the process runtime, built from the environment.

A malformed setting ends the command with one line naming it, never a traceback.
"""

from __future__ import annotations

import click

from loopstrat import runtime
from loopstrat.config import ConfigError, load_settings


def command_runtime() -> runtime.Runtime:
    try:
        return runtime.configure(load_settings())
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
