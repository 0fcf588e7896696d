"""Durable, resumable storage of a study's estimates: ``DIR/estimates.parquet/``.

``estimates.parquet`` is a parquet *dataset* (a directory, read whole by
``pandas.read_parquet``): one file per completed chunk of replicates, written
to a hidden temporary name and renamed into place, so a chunk is either
entirely present or absent whenever the process is killed. A single parquet
file cannot be appended to, and a streaming writer killed mid-way leaves a file
with no footer, i.e. nothing readable.

``_study.json`` (ignored by parquet readers, as every ``_``/``.`` name is)
holds the definition's fingerprint; every chunk file carries it in its
metadata too, with its mechanism, replicate indices and timings. A study is
resumed only into a directory whose fingerprint matches.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = [
    "dgm",
    "rep",
    "method",
    "estimand",
    "estimate",
    "se",
    "status",
    "reason",
    "misspecified",
]
_META_KEY = b"survkit.simstudy"


class StudyMismatchError(ValueError):
    """The output directory holds results of a different study definition."""


class EstimateStore:
    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.path = self.out / "estimates.parquet"
        self._info = self.path / "_study.json"

    # -------------------------------------------------------------- opening
    def open(self, fingerprint: str, identity: dict, description: dict) -> bool:
        """Create the store, or check that it holds this study; True when it existed."""
        if self.path.exists() and not self.path.is_dir():
            raise StudyMismatchError(
                f"{self.path} is a file, not a simstudy results directory; choose another --out"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in self.path.glob(".tmp-*"):  # a chunk whose writer was killed
            stale.unlink()
        identity = json.loads(json.dumps(identity))  # tuples -> lists, as stored
        environment = code_environment()
        if self._info.exists():
            stored = json.loads(self._info.read_text())
            if stored["fingerprint"] != fingerprint:
                changes = "; ".join(_differences(stored["identity"], identity)) or "unknown"
                raise StudyMismatchError(
                    f"{self.out} holds results of a different study definition "
                    f"(changed: {changes}); refusing to resume into them. Use a new --out "
                    "directory, or restore the original definition"
                )
            if stored.get("environment") != environment:
                # Not refused: the definition is the same. But new chunks may
                # differ from old ones in the last bits, so say so.
                changed = _differences(stored.get("environment", {}), environment)
                warnings.warn(
                    f"{self.out} was started with other code or library versions "
                    f"({'; '.join(changed)}); resuming, but replicates run now may differ "
                    "from the stored ones in the last bits",
                    UserWarning,
                    stacklevel=3,
                )
            return True
        parts = self.parts()
        if parts:
            raise StudyMismatchError(
                f"{self.path} has {len(parts)} chunk files but no _study.json; "
                "it was not written by this harness, choose another --out"
            )
        _atomic_write(
            self._info,
            json.dumps(
                {
                    "fingerprint": fingerprint,
                    "identity": identity,
                    "definition": description,
                    "environment": environment,
                },
                indent=1,
            ).encode(),
        )
        return False

    # ---------------------------------------------------------------- state
    def parts(self) -> list[Path]:
        """The chunk files (names starting with _ or . are not data, as for pyarrow)."""
        return sorted(p for p in self.path.glob("*.parquet") if not p.name.startswith(("_", ".")))

    def chunks(self) -> list[dict]:
        """Metadata of every completed chunk (mechanism, reps, timings)."""
        info = json.loads(self._info.read_text())
        found = []
        for part in self.parts():
            meta = json.loads(pq.read_schema(part).metadata[_META_KEY])
            if meta["fingerprint"] != info["fingerprint"]:
                raise StudyMismatchError(
                    f"{part} belongs to a different study definition; remove it or use a new --out"
                )
            found.append(meta)
        return found

    def completed(self) -> dict[int, set[int]]:
        done: dict[int, set[int]] = {}
        for meta in self.chunks():
            reps = done.setdefault(meta["mechanism"], set())
            overlap = reps.intersection(meta["reps"])
            if overlap:
                raise StudyMismatchError(
                    f"{self.path} holds replicate(s) {sorted(overlap)[:5]} twice; "
                    "the directory was edited by hand, start a new --out"
                )
            reps.update(meta["reps"])
        return done

    def write(self, frame: pd.DataFrame, fingerprint: str, mechanism: int, reps, timing: dict):
        """Add one completed chunk, atomically."""
        reps = [int(r) for r in reps]
        meta = {
            "fingerprint": fingerprint,
            "mechanism": int(mechanism),
            "reps": reps,
            "timing": timing,
        }
        table = pa.Table.from_pandas(frame[COLUMNS], preserve_index=False)
        metadata = dict(table.schema.metadata or {})
        metadata[_META_KEY] = json.dumps(meta).encode()
        table = table.replace_schema_metadata(metadata)
        name = f"d{mechanism:03d}-r{reps[0]:09d}-{reps[-1]:09d}.parquet"
        final = self.path / name
        if final.exists():
            raise StudyMismatchError(f"{final} exists already; replicates would be repeated")
        temporary = self.path / f".tmp-{name}"
        pq.write_table(table, temporary)
        _fsync(temporary)
        os.replace(temporary, final)

    def read(self) -> pd.DataFrame:
        """All stored estimates, sorted by mechanism, replicate, method, estimand."""
        parts = self.parts()
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in COLUMNS})
        frame = pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
        frame = frame.sort_values(["dgm", "rep", "method", "estimand"], kind="stable")
        return frame.reset_index(drop=True).astype(_DTYPES)

    def read_table(self, name: str) -> pd.DataFrame | None:
        path = self.path / f"_{name}.parquet"
        return pq.read_table(path).to_pandas() if path.exists() else None

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        path = self.path / f"_{name}.parquet"
        temporary = self.path / f".tmp-_{name}.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), temporary)
        os.replace(temporary, path)

    @contextlib.contextmanager
    def lock(self):
        """Refuse a second run writing into the same directory at the same time."""
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; one writer is the user's job
            yield
            return
        with open(self.out / ".simstudy.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StudyMismatchError(
                    f"another simstudy is writing to {self.out}; wait for it or use another --out"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_DTYPES = {
    "dgm": object,
    "rep": np.int64,
    "method": object,
    "estimand": object,
    "estimate": np.float64,
    "se": np.float64,
    "status": object,
    "reason": object,
    "misspecified": bool,
}


def code_environment() -> dict:
    """Versions of the numeric libraries and a digest of survkit's and synthetic's
    source: what, besides the definition, decides the estimates' last bits."""
    import numba
    import numpy
    import pandas
    import scipy

    import synthetic

    digest = hashlib.sha256()
    # survkit's own folder from this file's place (simstudy never imports the package root)
    for root in (Path(__file__).resolve().parents[1], Path(synthetic.__file__).parent):
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(path.read_bytes())
    return {
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "numba": numba.__version__,
        "source_sha256": digest.hexdigest(),
    }


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".tmp-{path.name}")
    temporary.write_bytes(data)
    _fsync(temporary)
    os.replace(temporary, path)


def _fsync(path: Path) -> None:
    # the rename must not reach the disk before the data does
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _differences(old, new, path: str = "") -> list[str]:
    """Readable list of what differs between two identity records (at most 5)."""
    out = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                out.append(f"{where} {'added' if key not in old else 'removed'}")
            else:
                out += _differences(old[key], new[key], where)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += _differences(a, b, f"{path}[{i}]")
    elif old != new:
        if path.endswith("contents"):
            out.append(f"{path} (the scenario file or its overrides)")
        else:
            out.append(f"{path} {_short(old)} -> {_short(new)}")
    return out[:5]


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
