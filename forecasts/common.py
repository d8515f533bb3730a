"""Shared rules of every forecast: the fit guard, as-of filtering, quiet fitting and determinism."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: A model needs at least this many points more than it has parameters, or it refuses to fit.
MIN_EXTRA_POINTS = 4
#: Seed of every random draw in the forecasts, so a vintage is reproducible byte for byte.
SEED = 20240521
STATUS_OK = "ok"
STATUS_REFUSED = "refused"
STATUS_FAILED = "failed"


def refusal_reason(
    n_points: int, n_params: int, what: str = "points", extra: int = MIN_EXTRA_POINTS
) -> str | None:
    """The reason a model may not be fitted on ``n_points`` (None when it may): fewer than
    ``n_params + extra`` (4 unless a model states what it needs) points cannot support it."""
    need = n_params + extra
    if n_points < need:
        return f"{n_points} {what} < {n_params} parameters + {extra} = {need}"
    return None


@dataclass
class FitLog:
    """The warnings raised while fitting one model, kept for the output instead of the log."""

    messages: list[str] = field(default_factory=list)

    def text(self) -> str:
        """All distinct messages joined by ' | ' (empty when the fit was clean)."""
        return " | ".join(dict.fromkeys(self.messages))


@contextlib.contextmanager
def quiet_fit() -> Iterator[FitLog]:
    """Catches every warning raised inside (convergence, estimation) into a FitLog, so the run log
    stays clean and the output records what happened."""
    log = FitLog()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield log
        finally:
            for w in caught:
                log.messages.append(f"{w.category.__name__}: {str(w.message).splitlines()[0]}")


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """Limits BLAS/OpenMP to one thread for the block (threadpoolctl when installed), so matrix
    reductions sum in one order and results are identical run to run; without threadpoolctl
    the limit relies on OMP_NUM_THREADS/OPENBLAS_NUM_THREADS being 1 before numpy loads
    (``forecasts/__init__`` sets them if unset)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def rng(offset: int = 0) -> np.random.Generator:
    """The seeded generator of the forecasts (``offset`` separates independent streams)."""
    return np.random.default_rng(SEED + offset)


def to_timestamp(value: object) -> pd.Timestamp:
    """A date given as text or datetime as a pandas Timestamp (naive, day precision)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts.normalize()


def parse_published(values: pd.Series) -> pd.Series:
    """Publication dates (``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY``, ``n.d.``) as datetime64 at the
    first day of the period named; unknown becomes NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    text = values.astype("string").str.strip()
    out = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    month = pd.to_datetime(text, format="%Y-%m", errors="coerce")
    year = pd.to_datetime(text, format="%Y", errors="coerce")
    return out.fillna(month).fillna(year).astype("datetime64[ns]")


def known_as_of(
    df: pd.DataFrame, as_of: object, date_col: str | None, published_col: str | None = "published"
) -> pd.DataFrame:
    """Rows the pipeline could have known on ``as_of``: the data date (when given) and the
    publication date (when known) are on or before it; an unknown data date drops the row."""
    cutoff = to_timestamp(as_of)
    keep = pd.Series(True, index=df.index)
    if date_col is not None:
        dates = pd.to_datetime(df[date_col], errors="coerce")
        keep &= dates.notna() & (dates <= cutoff)
    if published_col is not None and published_col in df.columns:
        published = parse_published(df[published_col])
        keep &= published.isna() | (published <= cutoff)
    return df.loc[keep].copy()


def set_thread_env() -> None:
    """Asks BLAS/OpenMP libraries loaded after this call for one thread (no-op if already set)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
