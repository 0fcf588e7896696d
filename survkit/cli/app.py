"""The ``survkit`` command group: one-line errors for data problems, ``--debug`` for tracebacks."""

from __future__ import annotations

import click

from .._version import __version__
from .messages import cli_message

DATA_ERRORS = (ValueError, KeyError, OSError, TypeError)


class _Group(click.Group):
    """Turns data errors into one-line messages (exit 1) unless --debug."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except (click.ClickException, click.Abort):
            raise
        except DATA_ERRORS as exc:
            if ctx.params.get("debug"):
                raise
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            # the library names Python arguments; the user typed options
            command = self.get_command(ctx, ctx.invoked_subcommand or "")
            message = cli_message(message, command)
            raise click.ClickException(f"{type(exc).__name__}: {message}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(__version__, prog_name="survkit")
def main(debug: bool) -> None:
    """Cox and competing-risks models for site-specific metastatic relapse."""
