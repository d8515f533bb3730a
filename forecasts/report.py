"""Report content of the forecasts (Markdown pieces the outlook embeds): the published price
forecast with its backtest verdict and data age, and the backtest tables with their counts."""

from __future__ import annotations

import pandas as pd

from forecasts import prices as P

#: Months ahead of the origin shown in the report's price table.
REPORT_HORIZONS = (12, 24)


def published_model(forecast: pd.DataFrame) -> str:
    """The model the backtest chose (marked ``published``), last value when none is marked."""
    if "published" in forecast.columns:
        chosen = forecast.loc[forecast["published"].astype(bool), "model"]
        if len(chosen):
            return str(chosen.iloc[0])
    return P.BASELINE_LAST


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
