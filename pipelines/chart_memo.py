"""Charts drawn once per command-line run: a chart an asset draws for its UI metadata is stored
under a digest of the drawing function and its arguments' content, and a later asset of the same
run that asks for the same chart of the same data (the report's fan, share and survival charts)
takes the stored bytes instead of drawing them again (about 0.8 s of CPU a run).

The store is a folder that `pipelines.cli run` creates for its run and removes at the end
(``$OUTLOOK_CHART_MEMO``), so every entry was drawn by the same code: a chart is reused only
within the run that drew it. Without the variable (the UI, the daemon, tests) every chart is
drawn.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import io

#: The folder of the current command-line run's charts; unset outside it.
MEMO_ENV = "OUTLOOK_CHART_MEMO"


#: Arguments digested by their repr, which is exact for these types (a float's repr round-trips).
_SCALARS = (str, int, float, bool, type(None))


def _feed(digest, value) -> None:
    """Adds one argument to the digest: a DataFrame by its columns, dtypes, index and every
    value (pandas' own row hash), a plain scalar by its type and repr. Anything else raises
    TypeError: a repr that leaves values out (a Series', an array's) would let different data
    share a key."""
    if isinstance(value, pd.DataFrame):
        digest.update(b"frame")
        digest.update(repr([(str(c), str(t)) for c, t in value.dtypes.items()]).encode())
        digest.update(repr(len(value)).encode())
        rows = pd.util.hash_pandas_object(value, index=True, categorize=False)
        digest.update(np.ascontiguousarray(rows.to_numpy(dtype=np.uint64)).tobytes())
    elif isinstance(value, _SCALARS):
        digest.update(f"{type(value).__qualname__}:{value!r}".encode())
    else:
        raise TypeError(
            f"a chart's arguments are digested as DataFrames or plain scalars, not "
            f"{type(value).__qualname__}"
        )
    digest.update(b"\x00")


def chart_key(make: Callable[..., bytes | None], args: tuple) -> str:
    """A digest of the drawing function (its module and name) and its arguments' content: equal
    for the same function called on equal data, whichever objects hold it."""
    digest = hashlib.sha256(f"{make.__module__}.{make.__qualname__}".encode())
    digest.update(b"\x00")
    for value in args:
        _feed(digest, value)
    return digest.hexdigest()


def _path(make: Callable[..., bytes | None], args: tuple) -> Path | None:
    """Where this run stores the chart (None outside a command-line run)."""
    folder = os.environ.get(MEMO_ENV)
    return Path(folder) / f"{chart_key(make, args)}.png" if folder else None


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def stored(make: Callable[..., bytes | None], args: tuple) -> bytes | None:
    """The chart's PNG bytes if this run already drew it, else None."""
    return _read(_path(make, args))


def drawn(make: Callable[..., bytes | None], *args) -> bytes | None:
    """``make(*args)``, stored for the rest of the run (taken from the store when already drawn)."""
    path = _path(make, args)
    png = _read(path)
    if png is not None:
        return png
    png = make(*args)
    if path is not None and png is not None:
        io.write_bytes_atomic(png, path)  # a reader in another process never sees half a chart
    return png


@contextmanager
def memo_for_run() -> Iterator[Path]:
    """A fresh store for one command-line run, named in ``$OUTLOOK_CHART_MEMO`` for the run's
    processes (forked ones inherit it) and removed, with the variable, when the run ends."""
    before = os.environ.get(MEMO_ENV)
    with tempfile.TemporaryDirectory(prefix="outlook-charts-") as folder:
        os.environ[MEMO_ENV] = folder
        try:
            yield Path(folder)
        finally:
            if before is None:
                os.environ.pop(MEMO_ENV, None)
            else:
                os.environ[MEMO_ENV] = before
