"""Constant-capability API price index (Epoch AI's method): for each benchmark threshold, the
cheapest blended price among models scoring at or above it, in each month a price was observed,
and its decline rate from a log-linear OLS with a Newey–West (HAC) interval."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

from forecasts import prices as price_models
from forecasts.model_names import model_key

#: Blended price weights: 3 input tokens per output token (Epoch AI's and a16z's convention).
INPUT_WEIGHT = 0.75
OUTPUT_WEIGHT = 0.25
BLEND_NOTE = "blended USD per 1M tokens = 0.75 x input + 0.25 x output (3:1 input:output)"
#: Capability thresholds (score in %) per benchmark.
THRESHOLDS: dict[str, tuple[float, ...]] = {"mmlu": (70.0, 80.0, 85.0), "gpqa": (50.0, 65.0)}
REGIONS = ("world", "US", "CN")
#: Fewest monthly points a decline rate is fitted on (slope, intercept and two residual d.o.f.).
MIN_POINTS = 4
DAYS_PER_YEAR = 365.25
#: Columns of one index point.
POINT_COLUMNS = (
    "month",
    "blended_usd_per_mtok",
    "model",
    "provider",
    "score_pct",
    "is_frontier",
    "source_url",
)
#: Seller region of LiteLLM catalog providers (the seller's headquarters); others are left out.
CATALOG_PROVIDER_REGION = {
    "openai": "US",
    "anthropic": "US",
    "gemini": "US",
    "xai": "US",
    "together_ai": "US",
    "fireworks_ai": "US",
    "deepinfra": "US",
    "groq": "US",
    "cerebras": "US",
    "sambanova": "US",
    "hyperbolic": "US",
    "baseten": "US",
    "lambda_ai": "US",
    "deepseek": "CN",
    "dashscope": "CN",
    "moonshot": "CN",
    "zai": "CN",
    "volcengine": "CN",
    "minimax": "CN",
    "tencent": "CN",
}


def blended_usd_per_mtok(input_usd: pd.Series, output_usd: pd.Series) -> pd.Series:
    """The 3:1 blended price; missing when either side is missing (never half a price)."""
    return INPUT_WEIGHT * input_usd + OUTPUT_WEIGHT * output_usd


#: Seller region of the OpenRouter catalog: OpenRouter (OpenRouter, Inc., US) sells every model
#: it lists at its own price, whichever host serves the request, so the seller is US.
OPENROUTER_REGION = "US"
#: How far a price date may lie from the day it names, by ``date_precision``; a price is placed
#: through a dated alias only when its whole span lies inside the alias's window.
_PRECISION_SPAN = {
    "day": pd.DateOffset(days=1),
    "month": pd.DateOffset(months=1),
    "quarter": pd.DateOffset(months=3),
    "half": pd.DateOffset(months=6),
    "year": pd.DateOffset(years=1),
}


def price_observations(
    api_prices: pd.DataFrame,
    catalog: pd.DataFrame,
    snapshot_date: object,
    openrouter: pd.DataFrame | None = None,
    openrouter_date: object = None,
    aliases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Dated prices as observations: each dated row of ``api_prices`` at its effective date, each
    chat model of the current catalog (LiteLLM) at the catalog's snapshot date and, when given,
    each model of the OpenRouter catalog at its snapshot date; ``aliases`` then map spellings
    and re-pointed API ids to the scored model's key."""
    dated = api_prices[api_prices["effective_date"].notna()]
    hist = pd.DataFrame(
        {
            "model": dated["model"].astype(str),
            "provider": dated["provider"].astype(str),
            "region": dated["region"].astype(str),
            "date": pd.to_datetime(dated["effective_date"]),
            "date_precision": dated["date_precision"].astype(str)
            if "date_precision" in dated
            else "day",
            "blended_usd_per_mtok": blended_usd_per_mtok(
                dated["input_usd_per_mtok"], dated["output_usd_per_mtok"]
            ),
            "origin": "api_prices",
            "source_url": dated["source_url"].astype(str) if "source_url" in dated else "",
        }
    )
    cat = catalog[
        (catalog["mode"] == "chat") & catalog["provider"].isin(list(CATALOG_PROVIDER_REGION))
    ]
    current = catalog_observations(
        cat,
        cat["provider"].astype(str),
        cat["provider"].map(CATALOG_PROVIDER_REGION),
        snapshot_date,
        "litellm_catalog",
    )
    frames = [hist, current]
    if openrouter is not None:
        frames.append(openrouter_observations(openrouter, openrouter_date))
    out = pd.concat(frames, ignore_index=True)
    out = out[out["blended_usd_per_mtok"].notna() & (out["blended_usd_per_mtok"] > 0)]
    out["model_key"] = out["model"].map(model_key)
    if aliases is not None:
        out["model_key"] = aliased_keys(out, aliases)
    out["month"] = out["date"].dt.to_period("M").dt.to_timestamp()
    return out.reset_index(drop=True)


def openrouter_observations(models: pd.DataFrame, snapshot_date: object) -> pd.DataFrame:
    """Each model of the OpenRouter catalog at the snapshot date, sold by OpenRouter (US). Left
    out: ids with a ``:variant`` (``:batch`` is a batch discount, ``:free`` a rate-limited free
    tier, ``:thinking`` a mode), and ``~`` ids, which follow a vendor's newest model over time."""
    ids = models["model_id"].astype(str)
    keep = ~ids.str.contains(":", regex=False) & ~ids.str.startswith("~")
    rows = models[keep]
    return catalog_observations(
        rows, "openrouter", OPENROUTER_REGION, snapshot_date, "openrouter_catalog"
    )


def catalog_observations(
    rows: pd.DataFrame, provider: object, region: object, snapshot_date: object, origin: str
) -> pd.DataFrame:
    """A catalog's models (``model_id``, USD per 1M input/output tokens) as observations dated
    by its snapshot day, sold by ``provider`` in ``region`` (a value or one per row)."""
    return pd.DataFrame(
        {
            "model": rows["model_id"].astype(str),
            "provider": provider,
            "region": region,
            "date": pd.Timestamp(snapshot_date),
            "date_precision": "day",
            "blended_usd_per_mtok": blended_usd_per_mtok(
                rows["input_usd_per_mtok"], rows["output_usd_per_mtok"]
            ),
            "origin": origin,
            "source_url": rows["source_url"].astype(str) if "source_url" in rows else "",
        }
    )


def aliased_keys(observations: pd.DataFrame, aliases: pd.DataFrame) -> pd.Series:
    """Each observation's key after the alias table: an alias without a window always maps to
    its model's key; one with a window maps only a price whose whole date span (its day, month
    or year, by ``date_precision``) lies in [valid_from, valid_to). Other keys are unchanged."""
    keys = observations["model_key"].copy()
    start = pd.to_datetime(observations["date"])
    span = observations.get("date_precision", pd.Series("day", index=observations.index))
    end = pd.Series(pd.NaT, index=observations.index, dtype="datetime64[ns]")
    for precision, offset in _PRECISION_SPAN.items():
        at = (span == precision).fillna(False).to_numpy(dtype=bool)
        end[at] = start[at] + offset
    for row in aliases.itertuples():
        hit = observations["model_key"] == model_key(row.alias)
        if pd.notna(row.valid_from):
            hit &= start >= pd.Timestamp(row.valid_from)
        if pd.notna(row.valid_to):
            hit &= end <= pd.Timestamp(row.valid_to)
        if pd.notna(row.valid_from) or pd.notna(row.valid_to):
            hit &= end.notna()  # an undated span is never placed through a window
        keys[hit] = model_key(row.model)
    return keys


def model_scores_by_key(scores: pd.DataFrame, benchmark: str) -> pd.Series:
    """Score per model key on one benchmark; versions sharing a key keep their lowest score, so a
    model is placed at a threshold only when every version of it reaches it."""
    rows = scores[scores["benchmark"] == benchmark]
    return rows.groupby(rows["model"].map(model_key))["score_pct"].min()


def qualifying_observations(
    observations: pd.DataFrame, scores: pd.Series, threshold: float, region: str = "world"
) -> pd.DataFrame:
    """The observations of models whose score (``model_scores_by_key``, matched on the model
    key) is at or above ``threshold``, sold in ``region`` (every region for ``world``), with
    that score as ``score_pct``: the one rule that places a price at a threshold, for the
    index and its level forecast alike."""
    obs = observations.assign(score_pct=observations["model_key"].map(scores))
    keep = obs["score_pct"] >= threshold
    if region != "world":
        keep &= obs["region"] == region
    return obs[keep]


def cheapest_by_month(
    observations: pd.DataFrame, scores: pd.Series, threshold: float, region: str = "world"
) -> pd.DataFrame:
    """For each month with an observed price of a model scoring at or above ``threshold``, the
    cheapest such price (and its model); months without an observation have no point."""
    obs = qualifying_observations(observations, scores, threshold, region)
    if obs.empty:
        return pd.DataFrame(columns=list(POINT_COLUMNS))
    if "source_url" not in obs:
        obs = obs.assign(source_url="")
    best = obs.sort_values(["month", "blended_usd_per_mtok", "model"]).groupby("month").head(1)
    best = best.reset_index(drop=True)
    # A month sets the frontier when its cheapest price is below every earlier month's.
    earlier_min = best["blended_usd_per_mtok"].cummin().shift(1, fill_value=np.inf)
    best["is_frontier"] = best["blended_usd_per_mtok"] < earlier_min
    return best[[*POINT_COLUMNS]]


#: The price side label of the index's series (one 3:1 blend of input and output).
BLENDED = "blended"


def index_series() -> Iterator[tuple[str, float, str]]:
    """Every (benchmark, threshold, region) the index is computed for, in table order."""
    for benchmark, thresholds in THRESHOLDS.items():
        for threshold in thresholds:
            for region in REGIONS:
                yield benchmark, threshold, region


def series_label(benchmark: str, threshold: float) -> str:
    """A threshold as a series label, e.g. ``mmlu>=80`` (the ``tier`` field of the level
    forecast and backtest tables)."""
    return f"{benchmark}>={threshold:g}"


def capability_rows(
    observations: pd.DataFrame, scores: pd.DataFrame, as_of: object
) -> list[tuple[tuple[str, str, str], pd.DataFrame]]:
    """For each benchmark threshold and region, its labels (``series_label``, region,
    ``blended``) and the qualifying observations dated on or before ``as_of`` as price rows
    (key = seller / model as listed, date, blended price), the form
    ``prices.grid_from_rows`` turns into a monthly grid: each offering's last known price
    carried forward, the cheapest per month, ending at the last observation."""
    end = pd.Timestamp(as_of)
    known = observations[pd.to_datetime(observations["date"]) <= end]
    by_key = {b: model_scores_by_key(scores, b) for b in THRESHOLDS}
    out = []
    for benchmark, threshold, region in index_series():
        obs = qualifying_observations(known, by_key[benchmark], threshold, region)
        rows = pd.DataFrame(
            {
                "key": obs["provider"].astype(str) + " / " + obs["model"].astype(str),
                "date": pd.to_datetime(obs["date"]),
                "price": obs["blended_usd_per_mtok"].astype(float),
            }
        ).sort_values(["date", "key", "price"], kind="mergesort")
        out.append(((series_label(benchmark, threshold), region, BLENDED), rows))
    return out


def capability_grids(
    observations: pd.DataFrame, scores: pd.DataFrame, as_of: object
) -> list[tuple[tuple[str, str, str], pd.DataFrame]]:
    """Each threshold and region's labels with its monthly grid (see ``capability_rows``)."""
    return [
        (labels, price_models.grid_from_rows(rows))
        for labels, rows in capability_rows(observations, scores, as_of)
    ]


def newey_west_lags(n: int) -> int:
    """Newey and West's (1994) rule of thumb for the Bartlett kernel: floor(4 (n/100)^(2/9))."""
    return int(np.floor(4 * (n / 100) ** (2 / 9)))


def hac_decline(months: pd.Series, prices: pd.Series, maxlags: int | None = None) -> dict:
    """x-fold decline per year from OLS of log price on time in years, with Newey–West (HAC)
    80 % and 95 % intervals; refuses below ``MIN_POINTS`` points or with a single month."""
    t = (pd.to_datetime(months) - pd.Timestamp("2020-01-01")).dt.days.to_numpy() / DAYS_PER_YEAR
    y = np.log(prices.to_numpy(dtype=float))
    n = len(y)
    out = {"n_points": n, "maxlags": np.nan, "status": "ok", "reason": ""}
    if n < MIN_POINTS or np.ptp(t) == 0:
        return out | {"status": "refused", "reason": f"{n} monthly point(s); needs {MIN_POINTS}"}
    lags = newey_west_lags(n) if maxlags is None else maxlags
    fit = OLS(y, add_constant(t)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    slope, se = float(fit.params[1]), float(fit.bse[1])
    out |= {"maxlags": lags, "log_slope_per_year": slope, "log_slope_se": se}
    out["decline_x_per_year"] = float(np.exp(-slope))
    for level in (80, 95):
        z = stats.norm.ppf(0.5 + level / 200)
        # A faster fall (more negative slope) is the high end of the decline factor.
        out[f"decline_x_per_year_low_{level}"] = float(np.exp(-(slope + z * se)))
        out[f"decline_x_per_year_high_{level}"] = float(np.exp(-(slope - z * se)))
    return out


def index_table(observations: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The index points of every benchmark threshold and region."""
    by_key = {b: model_scores_by_key(scores, b) for b in THRESHOLDS}
    frames = []
    for benchmark, threshold, region in index_series():
        pts = cheapest_by_month(observations, by_key[benchmark], threshold, region)
        frames.append(pts.assign(benchmark=benchmark, threshold=threshold, region=region))
    out = pd.concat(frames, ignore_index=True)
    return out[["benchmark", "threshold", "region", *POINT_COLUMNS]].astype(
        {
            "month": "datetime64[ns]",
            "blended_usd_per_mtok": float,
            "score_pct": float,
            "is_frontier": bool,
            "model": "string",
            "provider": "string",
            "source_url": "string",
            "benchmark": "string",
            "region": "string",
        }
    )


def decline_table(index: pd.DataFrame) -> pd.DataFrame:
    """Decline rate per benchmark threshold and region, fitted (as Epoch does) on the months that
    set a new lowest price at the threshold; ``n_months_observed`` counts every monthly point."""
    rows = []
    for benchmark, threshold, region in index_series():
        series = index[
            (index["benchmark"] == benchmark)
            & (index["threshold"] == threshold)
            & (index["region"] == region)
        ]
        rows.append(_decline_row(benchmark, threshold, region, series))
    return pd.DataFrame(rows)


def _decline_row(benchmark: str, threshold: float, region: str, series: pd.DataFrame) -> dict:
    """One threshold and region's fit over its frontier months (refused when too few)."""
    pts = series[series["is_frontier"].astype(bool)]
    fit = hac_decline(pts["month"], pts["blended_usd_per_mtok"])
    first, last = pts["month"].min(), pts["month"].max()
    return (
        {"benchmark": benchmark, "threshold": threshold, "region": region}
        | fit
        | {"n_months_observed": len(series), "first_month": first, "last_month": last}
    )


def reconcile(decline: pd.DataFrame, published: pd.DataFrame) -> str:
    """One paragraph setting the measured world rates beside Epoch AI's and a16z's estimates."""
    if decline.empty:
        return "No threshold has enough dated monthly points to fit a decline rate."
    world = decline[(decline["region"] == "world") & (decline["status"] == "ok")]
    if world.empty:
        return "No threshold has enough dated monthly points to fit a decline rate."
    lo, hi = world["decline_x_per_year"].min(), world["decline_x_per_year"].max()
    med = world["decline_x_per_year"].median()
    pubs = "; ".join(
        f"{r.publisher}: {r.decline_factor_per_year:g}x/yr ({r.scope})"
        for r in published.itertuples()
        if pd.notna(r.decline_factor_per_year)
    )
    return (
        f"Measured world rates run {lo:.1f}x to {hi:.1f}x per year across thresholds (median "
        f"{med:.1f}x), against published estimates of {pubs}. Epoch fits the cheapest model "
        "at each threshold over the model's release dates with a per-benchmark window, so "
        "early points at the launch of a threshold's first model dominate; here a point is a "
        "month with an observed list price (launches, cuts, and the catalog's current prices), "
        "which spans a longer window with more late, slow-moving months, and uses list prices "
        "of vendors and US/Chinese hosts only, so rates sit at the low end of Epoch's 9-900x "
        "range and near a16z's 10x."
    )


def with_published(decline: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The measured rates with the published estimates (Epoch AI, a16z, ...) as rows beside
    them, each tagged by who estimated it."""
    measured = decline.assign(
        estimate_by="pipeline: constant-capability index, OLS with Newey-West HAC",
        scope=decline["benchmark"] + " >= " + decline["threshold"].map("{:g}".format),
        source="",
        source_url="",
    )
    pubs = pd.DataFrame(
        {
            "estimate_by": "published: " + published["publisher"].astype(str),
            "scope": published["scope"].astype(str),
            "decline_x_per_year": published["decline_factor_per_year"].astype(float),
            "decline_x_per_year_low_95": published["decline_factor_per_year_low"].astype(float),
            "decline_x_per_year_high_95": published["decline_factor_per_year_high"].astype(float),
            "first_month": pd.to_datetime(published["period_start"]),
            "last_month": pd.to_datetime(published["period_end"]),
            "status": "published",
            "source": published["source"].astype(str),
            "source_url": published["source_url"].astype(str),
        }
    )
    out = pd.concat([measured, pubs], ignore_index=True)
    return out.reindex(columns=list(DECLINE_COLUMNS)).astype(DECLINE_DTYPES)


DECLINE_DTYPES = {
    "estimate_by": "string",
    "benchmark": "string",
    "threshold": float,
    "region": "string",
    "scope": "string",
    "n_points": "Int64",
    "n_months_observed": "Int64",
    "maxlags": float,
    "log_slope_per_year": float,
    "log_slope_se": float,
    "decline_x_per_year": float,
    "decline_x_per_year_low_80": float,
    "decline_x_per_year_high_80": float,
    "decline_x_per_year_low_95": float,
    "decline_x_per_year_high_95": float,
    "first_month": "datetime64[ns]",
    "last_month": "datetime64[ns]",
    "status": "string",
    "reason": "string",
    "source": "string",
    "source_url": "string",
}
DECLINE_COLUMNS = tuple(DECLINE_DTYPES)
