"""Write a report: self-contained HTML (figures embedded), Markdown, PNGs and CSVs.

Everything is written into a temporary folder beside the destination and
moved into place at the end (``destination.write_folder``), so an interrupted
run never leaves a half report, and nothing but the report's own files is
touched.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .content import Report
from .destination import write_folder

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.1em}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.sub{color:#666;margin-top:0} table{border-collapse:collapse;font-size:.85em;margin:.6em 0 1.4em}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right} th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left} caption{caption-side:top;text-align:left;
font-weight:600;padding:.3em 0} figure{margin:1em 0} figcaption{color:#555;font-size:.9em}
img{max-width:100%} .flag{color:#a40000;font-weight:600} code{background:#f5f5f5;padding:0 .2em}
"""


def _fmt(value: object, digits: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        if np.isfinite(value) and value == round(value) and (value == 0 or 1 <= abs(value) < 1e6):
            return f"{value:.0f}"  # counts, degrees of freedom, times: no spurious decimals
        if value != 0 and (abs(value) < 10 ** (-digits) or abs(value) >= 1e6):
            return f"{value:.{digits}g}" if abs(value) >= 1e6 else f"{value:.2e}"
        return f"{value:.{digits}f}"
    return str(value)


def _formatted(frame: pd.DataFrame, digits: int) -> pd.DataFrame:
    out = frame.reset_index() if _has_named_index(frame) else frame.copy()
    for col in out.columns:
        out[col] = [_fmt(v, digits) for v in out[col]]
    return out


def _has_named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _markdown_table(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "/") for v in row) + " |")
    return "\n".join(lines)


def _plain(value: object) -> object:
    """JSON fallback for numpy scalars and other simple objects."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def render(report: Report, folder: Path) -> None:
    """Write report.html, report.md, checks.json, figures/ and tables/ into ``folder``."""
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    h = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1><p class='sub'>{html.escape(report.subtitle)}</p>",
    ]
    md = [f"# {report.title}", "", f"_{report.subtitle}_", ""]
    for section in report.sections:
        h.append(f"<h2>{html.escape(section.title)}</h2>")
        md += [f"## {section.title}", ""]
        for para in section.paragraphs:
            h.append(f"<p>{html.escape(para)}</p>")
            md += [para, ""]
        if section.bullets:
            h.append(
                "<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in section.bullets) + "</ul>"
            )
            md += [f"- {b}" for b in section.bullets] + [""]
        for table in section.tables:
            (table.frame if table.csv is None else table.csv).to_csv(
                folder / "tables" / f"{table.name}.csv"
            )
            shown = _formatted(table.frame, table.digits)
            body = shown.to_html(index=False, escape=True, border=0)
            cut = body.index(">") + 1  # after the opening <table ...> tag
            h.append(f"{body[:cut]}<caption>{html.escape(table.caption)}</caption>{body[cut:]}")
            md += [
                f"**{table.caption}** (`tables/{table.name}.csv`)",
                "",
                _markdown_table(shown),
                "",
            ]
        for fig in section.figures:
            data = _png(fig.figure)
            (folder / "figures" / f"{fig.name}.png").write_bytes(data)
            b64 = base64.b64encode(data).decode()
            h.append(
                f"<figure><img alt='{html.escape(fig.caption)}' src='data:image/png;base64,{b64}'>"
                f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
            )
            md += [f"![{fig.caption}](figures/{fig.name}.png)", "", f"_{fig.caption}_", ""]
    h.append("</body></html>")
    (folder / "report.html").write_text("\n".join(h), encoding="utf-8")
    # the findings, machine-readable (CI jobs and analyses assert on them)
    (folder / "checks.json").write_text(
        json.dumps(report.checks, indent=2, default=_plain), encoding="utf-8"
    )
    (folder / "report.md").write_text("\n".join(md), encoding="utf-8")


def write_atomically(
    report: Report,
    out_dir: str | os.PathLike,
    inputs: Iterable[str | os.PathLike] = (),
    force: bool = False,
) -> Path:
    """Render into a temporary folder beside ``out_dir``, then move the files into place.

    Only the report's own files are ever written or removed; see
    ``survkit.report.destination`` for the rules (``inputs``: the data files
    the report read, whose folders it refuses to write into).
    """
    return write_folder(lambda folder: render(report, folder), out_dir, inputs, force)
