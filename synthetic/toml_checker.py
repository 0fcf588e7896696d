"""Validation helpers for TOML-derived tables: every failure is a ValueError
that names the file, the key, the problem and a fix."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path


class Checker:
    """Builds error messages that name the file, the key and a fix."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str, fix: str):
        raise ValueError(f"{self.source}: {key} {problem}; {fix}")

    def table(self, parent: dict, key: str, path: str, *, required: bool = True) -> dict:
        value = parent.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.fail(path, "is missing or not a table", f"add a [{path}] table")
        return value

    def known_keys(self, table: dict, allowed, path: str):
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.fail(where, "is not a known key", f"use one of {sorted(allowed)}")

    def number(self, table: dict, key: str, path: str, *, default=None, **bounds) -> float:
        where = f"{path}.{key}" if path else key
        if key not in table:
            if default is not None:
                return default
            self.fail(where, "is missing", "add it (a number)")
        return self.value(table[key], where, **bounds)

    def value(self, value, where: str, *, low=None, high=None, low_open=False) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            self.fail(where, f"= {value!r} is not a finite number", "give a number")
        too_low = low is not None and (value < low or (low_open and value == low))
        if too_low or (high is not None and value > high):
            opening = "(" if low_open else "["
            if low is not None and high is not None:
                bound = f"in {opening}{low:g}, {high:g}]"
            elif low is not None:
                bound = f"> {low:g}" if low_open else f">= {low:g}"
            else:
                bound = f"<= {high:g}"
            self.fail(where, f"= {value!r} is out of range", f"it must be {bound}")
        return float(value)

    def string(self, table: dict, key: str, path: str, *, default=None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(
                f"{path}.{key}" if path else key,
                "is missing or not a string",
                "give a non-empty string",
            )
        return value


def read_toml(path: Path) -> dict:
    """A TOML file as a mapping; a missing file or bad syntax is a ValueError naming it."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{source}: file not found; check the path") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{source}: not valid TOML ({error}); fix the syntax") from None


def resolve_named_file(name_or_path: str | Path, directory: Path, what: str) -> Path:
    """A built-in file of ``directory`` by name, or a path to a .toml file."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        path = directory / f"{name_or_path}.toml"
        if not path.exists():
            available = sorted(p.stem for p in directory.glob("*.toml"))
            raise ValueError(
                f"{what} {str(name_or_path)!r} is neither a built-in {what} nor a file; "
                f"use one of {available} or a path to a .toml file"
            )
    return path
