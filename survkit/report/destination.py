"""Where a report may be written, and writing it without touching anything else.

Rules (a report must never lose a user's data):

- ``out`` may not be the current directory, one of its parents, or a folder
  holding (at any depth) one of the input files.
- An existing ``out`` must be empty or a previous survkit report (it holds the
  marker file ``.survkit-report``, which lists the files that report wrote).
  Any other non-empty folder is refused unless ``force``; even then only the
  report's own files are written, and a user file with the same name as one of
  them is refused rather than overwritten.
- The report is rendered completely in a temporary folder beside ``out``
  first. A new ``out`` is that folder renamed into place (atomic); into an
  existing folder the files are moved one by one (each move atomic), the
  marker last, and files of the previous report that the new one no longer
  writes are removed. The folder itself is never replaced, so its
  permissions and any other files in it are kept.
- A temporary folder left by an interrupted run (it holds ``.survkit-tmp``
  with the writer's process id) is removed by the next run once that process
  is gone.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

MARKER = ".survkit-report"
TMP_MARKER = ".survkit-tmp"
__all__ = ["MARKER", "check_destination", "write_folder"]


def _tmp_prefix(out: Path) -> str:
    return f".{out.name}.survkit-tmp-"


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def previous_files(out: Path) -> list[str] | None:
    """Files listed by the marker of a previous report in ``out`` (None: not a report)."""
    marker = out / MARKER
    if not marker.is_file():
        return None
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError):
        return None
    # only relative paths inside out, never an escape such as ../x
    return [f for f in files if isinstance(f, str) and _within((out / f).resolve(), out)]


def check_destination(
    out_dir: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), force: bool = False
) -> Path:
    """The resolved ``out`` if a report may be written there; ``ValueError`` saying why not."""
    out = Path(out_dir).resolve()
    cwd = Path.cwd().resolve()
    if _within(cwd, out):
        what = "the current directory" if out == cwd else "a parent of the current directory"
        raise ValueError(
            f"--out {str(out_dir)!r} is {what}; the report needs a folder of its own, "
            "e.g. --out report/."
        )
    for path in inputs:
        src = Path(path).resolve()
        if _within(src, out):
            raise ValueError(
                f"--out {str(out_dir)!r} holds the input file {str(path)!r}; write the report "
                "to a folder of its own, e.g. a new folder beside the data."
            )
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"--out {str(out_dir)!r} is a file; give a folder name.")
        entries = list(out.iterdir())
        if entries and previous_files(out) is None and not force:
            raise ValueError(
                f"--out {str(out_dir)!r} is not empty ({len(entries)} entries) and is not a "
                f"survkit report (no {MARKER} file); choose a new or empty folder, or pass "
                "--force to add the report's files to it (nothing else in it is touched)."
            )
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temporaries(out: Path) -> list[Path]:
    """Remove temporary folders of interrupted runs for ``out`` (only ours, only dead writers)."""
    removed = []
    if not out.parent.is_dir():
        return removed
    for tmp in out.parent.glob(_tmp_prefix(out) + "*"):
        marker = tmp / TMP_MARKER
        if not (tmp.is_dir() and marker.is_file()):
            continue
        try:
            pid = int(marker.read_text(encoding="utf-8").strip())
        except ValueError:
            continue
        if pid != os.getpid() and _alive(pid):
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    return removed


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != TMP_MARKER
    )


def write_folder(
    render: Callable[[Path], None],
    out_dir: str | os.PathLike,
    inputs: Iterable[str | os.PathLike] = (),
    force: bool = False,
) -> Path:
    """Render into a temporary folder with ``render(tmp)``, then move the files into ``out``."""
    out = check_destination(out_dir, inputs, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(out)
    tmp = out.parent / f"{_tmp_prefix(out)}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()  # mode 0o777 less the umask, as any folder the user creates
    try:
        (tmp / TMP_MARKER).write_text(str(os.getpid()), encoding="utf-8")
        render(tmp)
        files = _files(tmp)
        manifest = json.dumps({"survkit_report": 1, "files": files}, indent=1)
        if not out.exists():
            (tmp / TMP_MARKER).unlink()
            (tmp / MARKER).write_text(manifest, encoding="utf-8")
            os.replace(tmp, out)
            return out
        old = previous_files(out) or []
        clash = [f for f in files if (out / f).exists() and f not in old]
        if clash:
            raise ValueError(
                f"--out {str(out_dir)!r} already has {len(clash)} file(s) the report would "
                f"overwrite ({', '.join(clash[:3])}); they are not from a survkit report, so "
                "they are left alone: choose a new folder."
            )
        for f in files:
            (out / f).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / f, out / f)
        for f in old:
            if f not in files and (out / f).is_file():
                (out / f).unlink()
        for sub in {Path(f).parent for f in old} - {Path(".")}:
            if (out / sub).is_dir() and not any((out / sub).iterdir()):
                (out / sub).rmdir()
        marker = tmp / MARKER
        marker.write_text(manifest, encoding="utf-8")
        os.replace(marker, out / MARKER)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
