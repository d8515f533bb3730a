"""Prints the headline forecast figures of the latest stored vintage as Markdown tables:
``python -m forecasts.summary [warehouse-forecasts-folder]``."""

import sys

import pandas as pd

from forecasts import share as share_models
from forecasts import survival as survival_models
from forecasts.common import to_timestamp
from forecasts.vintage import read_vintages


def headline_tables(layer_dir: str) -> dict[str, pd.DataFrame]:
    """Decline per year, survival at the claim date, the claim-year share and backtest scores."""
    out: dict[str, pd.DataFrame] = {}
    decline = read_vintages(layer_dir, "api_price_decline", latest_only=True)
    if len(decline):
        out["x-fold API price decline per year (95 % CI)"] = decline[
            [
                "estimate_by",
                "tier",
                "region",
                "price_side",
                "n_points",
                "decline_factor_per_year",
                "decline_factor_per_year_low",
                "decline_factor_per_year_high",
                "status",
                "reason",
            ]
        ]
    surv = read_vintages(layer_dir, "startup_survival", latest_only=True)
    if len(surv):
        at = surv[
            (surv["target_date"] == to_timestamp(survival_models.CLAIM_DATE))
            | surv["quantity"].str.startswith("hazard")
        ]
        out[f"startup survival and exits at {survival_models.CLAIM_DATE}"] = at[
            [
                "cohort",
                "model",
                "quantity",
                "value",
                "lower_80",
                "upper_80",
                "lower_95",
                "upper_95",
                "n_companies",
                "n_exits",
                "n_active",
                "status",
                "reason",
            ]
        ]
    share = read_vintages(layer_dir, "china_share_forecast", latest_only=True)
    if len(share):
        out[f"domestic share of China's AI-accelerator market in {share_models.CLAIM_YEAR}"] = (
            share[(share["year"] == share_models.CLAIM_YEAR) | (share["status"] != "ok")][
                [
                    "model",
                    "basis",
                    "kind_of_figure",
                    "median_share_pct",
                    "lower_80_share_pct",
                    "upper_80_share_pct",
                    "lower_95_share_pct",
                    "upper_95_share_pct",
                    "prob_share_in_30_40_pct",
                    "source_org",
                    "n_points",
                    "status",
                    "reason",
                ]
            ]
        )
    for asset in ("api_price_backtest", "startup_survival_backtest", "china_share_backtest"):
        bt = read_vintages(layer_dir, asset, latest_only=True)
        if len(bt):
            pooled = bt[bt["series"].isin(["all/all/all", "all", "actual figures", ""])]
            cols = [
                c
                for c in bt.columns
                if c not in ("as_of_date", "vintage", "reason") and pooled[c].notna().any()
            ]
            out[f"{asset} (pooled)"] = pooled[cols]
    return out


def main(argv: list[str]) -> int:
    """Prints every headline table; exit 1 when nothing is stored yet."""
    if len(argv) > 1:
        layer_dir = argv[1]
    else:
        from pipelines import settings

        layer_dir = settings.layer_dir("forecasts")
    tables = headline_tables(layer_dir)
    if not tables:
        print(f"no forecast vintages under {layer_dir}: materialize forecast_job first")
        return 1
    for title, df in tables.items():
        print(f"\n## {title}\n")
        print(df.to_markdown(index=False, floatfmt=".4g"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
