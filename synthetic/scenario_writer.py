"""Writing a scenario mapping back to TOML (for calibrated scenarios).

Only the value types a scenario file uses are written: strings, numbers,
booleans, arrays and tables. Top-level tables whose values are all tables
(``covariates``, ``sites``, ``effects``) become ``[section.name]`` headers,
arrays of tables become ``[[section]]`` blocks, and everything deeper is an
inline table on one line (TOML 1.0 does not let inline tables span lines).
Floats are written with ``repr``, which round-trips exactly.
"""

from __future__ import annotations

import json
import math
import re

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write the non-finite number {value!r} to a scenario file")
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise ValueError(f"cannot write a {type(value).__name__} to a scenario file")


def _items(table: dict, comments: dict, path: tuple) -> list[str]:
    lines = []
    for key, value in table.items():
        line = f"{_key(key)} = {_value(value)}"
        note = comments.get((*path, key))
        lines.append(f"{line}   # {note}" if note else line)
    return lines


def scenario_toml(raw: dict, header: list[str], comments: dict | None = None) -> str:
    """TOML text for a scenario mapping; ``header`` lines become leading comments and
    ``comments`` maps key paths such as ("sites", "bone", "seeding_fraction") to a
    trailing comment."""
    comments = comments or {}
    lines = [f"# {line}".rstrip() for line in header]
    lines.append("")

    def array_of_tables(value) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)

    # Plain keys first: after a [section] header a key would belong to it.
    plain = {k: v for k, v in raw.items() if not isinstance(v, dict) and not array_of_tables(v)}
    lines += _items(plain, comments, ())
    for section, value in raw.items():
        if array_of_tables(value):
            for entry in value:
                lines += ["", f"[[{_key(section)}]]", *_items(entry, comments, (section,))]
        elif isinstance(value, dict):
            nested = value and all(isinstance(v, dict) for v in value.values())
            if nested and section in ("covariates", "sites", "effects"):
                for name, table in value.items():
                    header_line = f"[{_key(section)}.{_key(name)}]"
                    lines += ["", header_line, *_items(table, comments, (section, name))]
            else:
                lines += ["", f"[{_key(section)}]", *_items(value, comments, (section,))]
    return "\n".join(lines) + "\n"
