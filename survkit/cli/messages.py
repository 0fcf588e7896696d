"""Library error messages in command-line words.

The library's errors name Python arguments ("pass censor_value=None", "formula:
1 column(s) not in the data"), which is right for a Python user and confusing
at a shell. Rather than reword the library, the CLI translates a message on
its way out: every Python argument name that is an option of the command that
failed becomes that option (``censor_value=0`` -> ``--censor-value 0``), and
``None`` becomes the word the option accepts for it (``none``). The mapping is
read from the command's own click options, so it cannot drift from them.
"""

from __future__ import annotations

import re

import click

__all__ = ["NONE_WORD", "cli_message"]

NONE_WORD = "none"  # what --censor-value / --cause accept for Python's None

# library names that are not option names but still mean something at the shell
_EXTRA = {"df": "the data (--data)"}


def _option_names(command: click.Command | None) -> dict[str, str]:
    """{python parameter name: its long option} for the options of ``command``."""
    if command is None:
        return {}
    out = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name:
            longs = [o for o in param.opts if o.startswith("--")]
            if longs:
                out[param.name] = longs[0]
    # a library argument named like the option without its _col/_path suffix
    # (data_path is --data, group_col is --group)
    for opt in list(out.values()):
        bare = opt[2:].replace("-", "_")
        out.setdefault(bare, opt)
    return out


def cli_message(message: str, command: click.Command | None) -> str:
    """``message`` with the Python argument names of ``command``'s options replaced."""
    names = _option_names(command)
    if not names:
        return message
    pattern = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))

    def assignment(match: re.Match) -> str:
        value = match.group(2)
        return f"{names[match.group(1)]} {NONE_WORD if value == 'None' else value}"

    # name=value (value up to a space, ';', ',' or a closing bracket)
    message = re.sub(
        rf"(?<![\w'\"-])({pattern})=((?:'[^']*'|\"[^\"]*\"|[^\s;,)\]])+)", assignment, message
    )
    # bare names: python-looking ones (with an underscore) anywhere; plain words
    # (formula, cause) only as the subject of a message ("formula: ...")
    snake = [n for n in names if "_" in n]
    if snake:
        alternatives = "|".join(sorted((re.escape(n) for n in snake), key=len, reverse=True))
        message = re.sub(
            rf"(?<![\w'\"-])({alternatives})(?![\w'\"])", lambda m: names[m.group(1)], message
        )
    message = re.sub(
        rf"(?:^({pattern})(?=[: ])|(?<=[;(] )({pattern})(?=:))",
        lambda m: names[m.group(1) or m.group(2)],
        message,
    )
    if "--data" in names.values():
        for word, replacement in _EXTRA.items():
            message = re.sub(rf"^{word}(?= )", replacement, message)
    return message
