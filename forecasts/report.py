"""Report content of the forecasts (Markdown pieces the outlook embeds): the published price
forecast with its backtest verdict and data age, and the backtest tables with their counts."""

from __future__ import annotations

import pandas as pd

from forecasts import prices

#: Months ahead of the origin shown in the report's price table.
REPORT_HORIZONS = (12, 24)


def published_model(forecast: pd.DataFrame) -> str:
    """The model the backtest chose (marked ``published``), last value when none is marked."""
    if "published" in forecast.columns:
        chosen = forecast.loc[forecast["published"].astype(bool), "model"]
        if len(chosen):
            return str(chosen.iloc[0])
    return prices.BASELINE_LAST


def _fmt(value: float) -> str:
    """A price with three significant digits."""
    return "" if pd.isna(value) else f"{value:.3g}"


def _markdown(df: pd.DataFrame) -> str:
    """A plain Markdown table (no index)."""
    if df.empty:
        return "_(none)_"
    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def price_forecast_section(forecast: pd.DataFrame) -> str:
    """The published model's verdict, then its median and intervals 12 and 24 months after each
    series' last observation, with the observation's date and age; a median below a tenth of
    the cheapest price ever observed is flagged instead of shown as a number."""
    model = published_model(forecast)
    rows = forecast[(forecast["model"] == model) & (forecast["status"] == "ok")]
    verdict = rows["backtest_verdict"].iloc[0] if len(rows) and "backtest_verdict" in rows else ""
    rows = rows[rows["horizon_months"].isin(REPORT_HORIZONS)].sort_values(
        ["tier", "region", "price_side", "horizon_months"], kind="mergesort"
    )
    flagged = rows.get("below_floor", pd.Series(False, index=rows.index)).astype(bool)
    table = pd.DataFrame(
        {
            "tier": rows["tier"],
            "region": rows["region"],
            "side": rows["price_side"],
            "last observed": pd.to_datetime(rows["last_observed_date"]).dt.strftime("%Y-%m-%d"),
            "data age (days)": rows["data_age_days"],
            "month": pd.to_datetime(rows["target_month"]).dt.strftime("%Y-%m"),
            "last USD/Mtok": rows["last_price_usd_per_mtok"].map(_fmt),
            "median": [
                "below a tenth of the cheapest ever seen (flagged)" if f else _fmt(m)
                for f, m in zip(flagged, rows["median_usd_per_mtok"], strict=True)
            ],
            "80%": [
                f"{_fmt(a)}-{_fmt(b)}"
                for a, b in zip(
                    rows["lower_80_usd_per_mtok"], rows["upper_80_usd_per_mtok"], strict=True
                )
            ],
            "95%": [
                f"{_fmt(a)}-{_fmt(b)}"
                for a, b in zip(
                    rows["lower_95_usd_per_mtok"], rows["upper_95_usd_per_mtok"], strict=True
                )
            ],
        }
    )
    lead = (
        f"Published model: **{model}**. Backtest verdict: {verdict}"
        if verdict
        else (f"Published model: **{model}** (no backtest verdict in this vintage).")
    )
    return lead + "\n\n" + _markdown(table)


def backtest_section(scores: pd.DataFrame, series: str) -> str:
    """One domain's backtest by model and horizon with the number of forecasts behind each
    figure (pooled series only)."""
    rows = scores[(scores["series"] == series) & (scores["status"] == "ok")].sort_values(
        ["model", "horizon_months"], kind="mergesort"
    )
    cols = {
        "model": rows["model"],
        "horizon (months)": rows["horizon_months"],
        "forecasts": rows["n_forecasts"],
        "origins": rows["n_cutoffs"],
    }
    for name, label, digits in (
        ("mase_log", "MASE", 2),
        ("mae_log", "MAE (log)", 3),
        ("brier", "Brier", 3),
        ("coverage_80_pct", "80 % cover", 0),
        ("coverage_95_pct", "95 % cover", 0),
        ("interval_score_80_log", "IS 80", 2),
        ("interval_score_95_log", "IS 95", 2),
        ("skill_vs_last_value", "skill vs last value", 3),
    ):
        if name in rows and rows[name].notna().any():
            cols[label] = rows[name].map(lambda v, d=digits: "" if pd.isna(v) else f"{v:.{d}f}")
    return _markdown(pd.DataFrame(cols))


def backtest_verdict(scores: pd.DataFrame | None, what: str) -> str:
    """One line under a forecast: its backtest verdict with the counts behind it. Survival: the
    IPCW Brier of each model beside the no-exit (persistence) baseline per horizon; a domain
    whose backtest scored nothing says so with the reason (e.g. too few points to judge)."""
    if scores is None or scores.empty:
        return f"Backtest verdict ({what}): no backtest materialized."
    ok = scores[scores["status"] == "ok"]
    if ok.empty:
        return f"Backtest verdict ({what}): not judged: {scores['reason'].iloc[0]}."
    if ok["brier"].notna().any():
        cells = []
        for h, grp in ok.sort_values(["horizon_months", "model"]).groupby("horizon_months"):
            briers = ", ".join(f"{r.model} {r.brier:.3f}" for r in grp.itertuples())
            cells.append(f"{h} months (n={int(grp['n_forecasts'].max())}): {briers}")
        base = ok[ok["model"] == "baseline_persistence"]
        rest = ok[ok["model"] != "baseline_persistence"].merge(
            base[["horizon_months", "brier"]], on="horizon_months", suffixes=("", "_base")
        )
        beaten = int((rest["brier"] < rest["brier_base"]).sum())
        return (
            f"Backtest verdict ({what}): IPCW Brier by horizon (lower is better; "
            f"baseline_persistence predicts no exit): {'; '.join(cells)}. Models beat the "
            f"no-exit baseline in {beaten} of {len(rest)} model-horizon cells."
        )
    cells = "; ".join(
        f"{r.model} {r.horizon_months} m: MAE {r.mae_log:.2f}, 80 % cover "
        f"{r.coverage_80_pct:.0f} %, n={r.n_forecasts}"
        for r in ok.itertuples()
    )
    return f"Backtest verdict ({what}): {cells}."


def data_age_line(as_of: object, last_date: object, what: str) -> str:
    """The age of the newest data point behind a forecast at its vintage."""
    if pd.isna(last_date) or pd.isna(as_of):
        return f"Data age ({what}): unknown."
    age = (pd.Timestamp(as_of) - pd.Timestamp(last_date)).days
    return f"Data age ({what}): newest figure dated {pd.Timestamp(last_date):%Y-%m-%d}, {age} days before the vintage {pd.Timestamp(as_of):%Y-%m-%d}."
