"""Dagster assets of the forecasts: one weekly vintage partition each, written Hive-style by the
``forecast_io`` manager, with fan charts in metadata and coverage checks on the backtests."""

import warnings

import dagster as dg
import pandas as pd

from forecasts import backtest as backtest_runs
from forecasts import charts, price_index
from forecasts import prices as price_models
from forecasts import share as share_models
from forecasts import survival as survival_models
from forecasts.common import known_as_of, single_threaded_blas, to_timestamp
from forecasts.vintage import VINTAGES, as_of_date, read_vintages
from pipelines import chart_memo, settings
from pipelines.io import column_schema

GROUP = "forecasts"
KINDS = {"statsmodels", "pandas"}
OWNERS = ["team:forecasting"]
IO = "forecast_io"
COMMON = dict(group_name=GROUP, kinds=KINDS, owners=OWNERS, io_manager_key=IO)

STATUS_COLS = (
    (
        "status",
        "string",
        "",
        "ok | refused (too few points: fewer than parameters + 4) | failed | published",
    ),
    ("reason", "string", "", "Why a model refused or failed, or a caveat"),
    (
        "fit_warnings",
        "string",
        "",
        "Warnings raised while fitting (e.g. convergence), ' | '-joined",
    ),
)
AS_OF = (
    (
        "as_of_date",
        "datetime64[ns]",
        "date",
        "The vintage's as-of date: only data dated on or before it",
    ),
)

PRICE_FORECAST_SCHEMA = column_schema(
    ("tier", "string", "", "frontier | gpt4_class | small (cheapest model at or above it)"),
    ("region", "string", "", "US | CN"),
    ("price_side", "string", "", "input | output tokens"),
    (
        "model",
        "string",
        "",
        "ets_aicc (default) | jump_poisson (challenger) | baseline_last_value | baseline_rw_drift",
    ),
    ("origin_month", "datetime64[ns]", "month", "Month of the last price observation (origin)"),
    ("last_observed_date", "datetime64[ns]", "date", "Effective date of the newest price row"),
    ("data_age_days", "int64", "days", "Days from the last observation to the vintage date"),
    ("horizon_months", "int64", "months", "Months ahead of origin_month (0 on a refusal row)"),
    ("target_month", "datetime64[ns]", "month", "Month forecast"),
    ("median_usd_per_mtok", "float64", "USD/Mtok", "Median price per million tokens"),
    ("lower_80_usd_per_mtok", "float64", "USD/Mtok", "10th percentile"),
    ("upper_80_usd_per_mtok", "float64", "USD/Mtok", "90th percentile"),
    ("lower_95_usd_per_mtok", "float64", "USD/Mtok", "2.5th percentile"),
    ("upper_95_usd_per_mtok", "float64", "USD/Mtok", "97.5th percentile"),
    ("last_price_usd_per_mtok", "float64", "USD/Mtok", "Last observed grid price"),
    ("n_points", "int64", "months", "Months with a price observation"),
    ("n_grid_months", "int64", "months", "Length of the monthly grid"),
    (
        "below_floor",
        "bool",
        "",
        "Median below a tenth of the cheapest price ever observed in the series (not news)",
    ),
    ("published", "bool", "", "The model the backtest chose to publish"),
    ("backtest_verdict", "string", "", "Why it was chosen: pooled backtest by horizon"),
    *STATUS_COLS,
    ("params_json", "string", "", "Fitted parameters (log scale, per month) as JSON"),
    *AS_OF,
)
PRICE_GRID_SCHEMA = column_schema(
    ("tier", "string", "", "frontier | gpt4_class | small"),
    ("region", "string", "", "US | CN"),
    ("price_side", "string", "", "input | output"),
    ("month", "datetime64[ns]", "month", "First day of the month"),
    (
        "price_usd_per_mtok",
        "float64",
        "USD/Mtok",
        "Cheapest price at or above the tier, carried forward",
    ),
    ("cheapest_model", "string", "", "provider / model giving that price"),
    ("n_observations", "int64", "rows", "Qualifying price rows dated in the month"),
    *AS_OF,
)
DECLINE_SCHEMA = column_schema(
    (
        "estimate_by",
        "string",
        "",
        "pipeline OLS on the monthly grid | published: <publisher> (<scope>)",
    ),
    ("tier", "string", "", "Tier (empty for published estimates)"),
    ("region", "string", "", "Region (empty for published estimates)"),
    ("price_side", "string", "", "input | output (empty for published estimates)"),
    ("period_start", "datetime64[ns]", "date", "First month of the fitted period"),
    ("period_end", "datetime64[ns]", "date", "Last month of the fitted period"),
    ("n_points", "int64", "months", "Months with a price observation used in the fit"),
    ("slope_log_per_month", "float64", "1/month", "OLS slope of natural-log price"),
    (
        "decline_factor_per_year",
        "float64",
        "x/year",
        "x-fold price decline per year, exp(-12 slope)",
    ),
    (
        "decline_factor_per_year_low",
        "float64",
        "x/year",
        "Low end of the 95 % CI (or published range)",
    ),
    (
        "decline_factor_per_year_high",
        "float64",
        "x/year",
        "High end of the 95 % CI (or published range)",
    ),
    ("r_squared", "float64", "ratio", "R squared of the log-linear fit"),
    *STATUS_COLS,
    ("source", "string", "", "Publication of a published estimate"),
    ("source_url", "string", "", "URL of a published estimate"),
    *AS_OF,
)
SURVIVAL_SCHEMA = column_schema(
    ("cohort", "string", "", "all | CN | outside_CN (foundation-model startups founded 2015+)"),
    ("model", "string", "", "kaplan_meier | cumulative_incidence | cox_ph"),
    (
        "quantity",
        "string",
        "",
        "What value holds (survival_independent, cumulative_incidence_<exit>, "
        "expected_independent_of_active, share_of_cohort_exited, prob_share_exited_ge_60pct, "
        "prob_exit_<exit>_of_active, hazard_ratio_<covariate>)",
    ),
    ("unit", "string", "", "probability | companies | ratio"),
    ("age_years", "float64", "years", "Company age for curve rows"),
    ("target_date", "datetime64[ns]", "date", "Date a projection speaks of"),
    ("value", "float64", "see unit", "The estimate"),
    ("lower_80", "float64", "see unit", "10th percentile (bootstrap predictive, companies)"),
    ("upper_80", "float64", "see unit", "90th percentile"),
    ("lower_95", "float64", "see unit", "2.5th percentile or 95 % CI low"),
    ("upper_95", "float64", "see unit", "97.5th percentile or 95 % CI high"),
    ("n_companies", "int64", "companies", "Companies in the cohort"),
    ("n_exits", "int64", "companies", "Exits (shutdown, acquisition/acqui-hire, pivot) seen"),
    ("n_active", "int64", "companies", "Companies still independent at the as-of date"),
    *STATUS_COLS,
    ("note", "string", "", "Caveats (extrapolation beyond follow-up, covariates left out)"),
    *AS_OF,
)
SHARE_SCHEMA = column_schema(
    (
        "model",
        "string",
        "",
        "source_figure | analyst_scenario (an analyst forecast, never fitted) | "
        "logit_ols_actuals_only (forecast) | glm_fractional_logit (challenger)",
    ),
    ("basis", "string", "", "units | revenue (which figures a model speaks for)"),
    ("kind_of_figure", "string", "", "actual | forecast (analyst)"),
    ("year", "Int64", "year", "Calendar year"),
    ("t_year", "float64", "year", "Decimal year (period midpoint)"),
    ("median_share_pct", "float64", "%", "Domestic share median (or the source's figure)"),
    ("lower_80_share_pct", "float64", "%", "10th percentile"),
    ("upper_80_share_pct", "float64", "%", "90th percentile"),
    ("lower_95_share_pct", "float64", "%", "2.5th percentile"),
    ("upper_95_share_pct", "float64", "%", "97.5th percentile"),
    ("prob_share_in_30_40_pct", "float64", "probability", "P(30 % <= share <= 40 %) that year"),
    ("slope_logit_per_year", "float64", "logit/year", "Trend slope on the logit scale"),
    ("share_id", "string", "", "Source row of a source figure"),
    ("source_org", "string", "", "Organisation behind a source figure"),
    ("n_points", "int64", "figures", "Share figures the model used"),
    *STATUS_COLS,
    *AS_OF,
)
BACKTEST_SCHEMA = column_schema(
    ("domain", "string", "", "api_price | startup_survival | china_domestic_share"),
    ("series", "string", "", "tier/region/side (all/all/all pooled), or the cohort/figures scored"),
    ("model", "string", "", "Model or baseline (baseline_last_value, baseline_rw_drift, ...)"),
    ("horizon_months", "int64", "months", "Forecast horizon"),
    ("n_forecasts", "int64", "forecasts", "Forecasts scored"),
    ("n_cutoffs", "int64", "cutoffs", "Rolling origins scored"),
    (
        "n_forecasts_fit_warned",
        "int64",
        "forecasts",
        "Scored forecasts whose fit raised a warning (e.g. convergence)",
    ),
    ("mase_log", "float64", "ratio", "MAE on log price / in-sample naive one-step MAE"),
    ("mae_log", "float64", "log units", "Mean absolute error of the median on log (logit) scale"),
    ("smape_pct", "float64", "%", "Symmetric MAPE of the median on the USD (share %) scale"),
    (
        "brier",
        "float64",
        "probability^2",
        "IPCW Brier score of P(independent) over all forecasts (survival)",
    ),
    (
        "brier_complete_cases",
        "float64",
        "probability^2",
        "Brier score over the forecasts whose outcome is known (censored ones dropped)",
    ),
    ("n_forecasts_censored", "int64", "forecasts", "Forecasts censored before their target"),
    (
        "interval_score_80_log",
        "float64",
        "log units",
        "Mean interval score of the 80 % interval (width + 2/0.2 x miss), lower is better",
    ),
    (
        "interval_score_95_log",
        "float64",
        "log units",
        "Mean interval score of the 95 % interval (width + 2/0.05 x miss)",
    ),
    ("coverage_80_pct", "float64", "%", "Share of outcomes inside the 80 % interval"),
    ("coverage_95_pct", "float64", "%", "Share of outcomes inside the 95 % interval"),
    (
        "skill_vs_last_value",
        "float64",
        "ratio",
        "1 - error/error(last value) (survival: Brier vs persistence)",
    ),
    ("skill_vs_rw_drift", "float64", "ratio", "1 - MAE/MAE(random walk with drift)"),
    ("expected_exits", "float64", "companies", "Predicted exits summed over forecasts (survival)"),
    ("observed_exits", "float64", "companies", "Observed exits (survival)"),
    (
        "n_forecasts_calibrated",
        "int64",
        "forecasts",
        "Forecasts of a <model>+conformal row whose bounds came from earlier errors (prices)",
    ),
    (
        "n_calibration_errors",
        "int64",
        "forecasts",
        "Backtest errors behind the calib_* offsets (pooled conformal rows)",
    ),
    *(
        (
            c,
            "float64",
            "log units per sqrt month",
            f"Conformal offset of the {k[:-4]} bound from the median per square root of a month "
            "of lead (bound = median + offset x sqrt(lead_months))",
        )
        for k, c in backtest_runs.CALIB_COLUMNS.items()
    ),
    ("status", "string", "", "ok | refused"),
    ("reason", "string", "", "Why nothing was scored, or how to read the row"),
    *AS_OF,
)
HISTORY_SCHEMA = column_schema(
    ("forecast_vintage", "datetime64[ns]", "date", "Vintage (as-of date) the figure comes from"),
    ("metric", "string", "", "Headline figure"),
    ("value", "float64", "see unit", "Its value in that vintage"),
    ("lower_95", "float64", "see unit", "95 % low"),
    ("upper_95", "float64", "see unit", "95 % high"),
    ("unit", "string", "", "Unit of value"),
    ("status", "string", "", "ok | refused | failed"),
    *AS_OF,
)


def _stamp(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    return df.assign(as_of_date=pd.Timestamp(as_of).to_datetime64()).astype(
        {"as_of_date": "datetime64[ns]"}
    )


def _fit_metadata(df: pd.DataFrame) -> dict:
    """Counts of refusals and fit warnings for the UI (the rows hold the details)."""
    warned = df["fit_warnings"].fillna("") != "" if "fit_warnings" in df else pd.Series(dtype=bool)
    messages = sorted(
        {m for text in df.loc[warned, "fit_warnings"] for m in str(text).split(" | ")}
    )
    return {
        "n_refused": int((df["status"] == "refused").sum()),
        "n_failed": int((df["status"] == "failed").sum()),
        "n_rows_with_fit_warnings": int(warned.sum()),
        "fit_warnings": dg.MetadataValue.json(messages[:50]),
    }


def _as_of(context: dg.AssetExecutionContext) -> pd.Timestamp:
    return as_of_date(context.partition_key)


def _prices_known(api_prices: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    return known_as_of(api_prices, as_of, "effective_date")


@dg.asset(
    partitions_def=VINTAGES,
    description="Monthly API price grid per tier, region and price side: the cheapest price at or "
    "above the tier each month, carried forward; rows known on the vintage date only.",
    metadata={"dagster/column_schema": PRICE_GRID_SCHEMA},
    **COMMON,
)
def api_price_grid(context: dg.AssetExecutionContext, api_prices: pd.DataFrame) -> pd.DataFrame:
    as_of = _as_of(context)
    return _stamp(price_models.grid_table(_prices_known(api_prices, as_of), as_of), as_of)


@dg.asset(
    partitions_def=VINTAGES,
    description="24-month API price forecasts (USD per 1M tokens, median and 80/95 % intervals) "
    "from each series' last observation, with its data age: ETS on log price (simple or damped "
    "trend by AICc), a jump model of price cuts, last value and drift baselines; the model the "
    "backtest favours is marked published with its verdict.",
    metadata={"dagster/column_schema": PRICE_FORECAST_SCHEMA},
    **COMMON,
)
def api_price_forecast(
    context: dg.AssetExecutionContext,
    api_prices: pd.DataFrame,
    api_price_backtest: pd.DataFrame,
    api_price_grid: pd.DataFrame,
) -> pd.DataFrame:
    as_of = _as_of(context)
    known = _prices_known(api_prices, as_of)
    published, verdict = backtest_runs.select_published(api_price_backtest)
    with single_threaded_blas():
        table = _stamp(
            price_models.forecast_table(
                known,
                as_of,
                published_model=published,
                verdict=verdict,
                calibration=backtest_runs.published_calibration(api_price_backtest, published),
            ),
            as_of,
        )
    # The vintage's grid (the same rows `api_price_grid` derives from the same prices), and the
    # same call the report makes, so the report takes this chart instead of drawing it again.
    png = chart_memo.drawn(charts.price_fan_chart, api_price_grid, table, "input", published)
    context.add_output_metadata(
        {
            **_fit_metadata(table),
            "published_model": published,
            "backtest_verdict": verdict,
            "fan_chart": dg.MetadataValue.md(charts.markdown_image(png, "API price fan chart")),
        }
    )
    return table


@dg.asset(
    partitions_def=VINTAGES,
    description="x-fold API price decline per year (log-linear OLS, 95 % CI) per tier, region and "
    "side, beside the published decline-rate estimates.",
    metadata={"dagster/column_schema": DECLINE_SCHEMA},
    **COMMON,
)
def api_price_decline(
    context: dg.AssetExecutionContext,
    api_prices: pd.DataFrame,
    price_decline_estimates: pd.DataFrame,
) -> pd.DataFrame:
    as_of = _as_of(context)
    published = known_as_of(price_decline_estimates, as_of, None)
    table = _stamp(
        price_models.decline_table(_prices_known(api_prices, as_of), as_of, published), as_of
    )
    context.add_output_metadata(_fit_metadata(table))
    return table


@dg.asset(
    partitions_def=VINTAGES,
    description="Rolling-origin backtest of the price forecasts on observed targets only "
    "(origins and targets are months with a price observation; expanding window of prices dated "
    "by each origin): MASE on log price, 80/95 % coverage, interval score and skill against "
    "last value, by horizon 3/6/12 months with the count of forecasts.",
    metadata={"dagster/column_schema": BACKTEST_SCHEMA},
    **COMMON,
)
def api_price_backtest(context: dg.AssetExecutionContext, api_prices: pd.DataFrame) -> pd.DataFrame:
    as_of = _as_of(context)
    with single_threaded_blas():
        scores = _stamp(
            backtest_runs.price_backtest(_prices_known(api_prices, as_of), as_of), as_of
        )
    # MASE (below 1 beats the last-value forecast), as the report shows it: the same call, so
    # the report takes this chart instead of drawing it again.
    png = chart_memo.drawn(charts.backtest_chart, scores, "mase_log")
    context.add_output_metadata(
        {
            "n_scored_forecasts": int(scores["n_forecasts"].sum()),
            "n_scored_forecasts_fit_warned": int(scores["n_forecasts_fit_warned"].sum()),
            "mase_by_horizon": dg.MetadataValue.md(
                charts.markdown_image(png, "price backtest MASE by horizon")
            ),
        }
    )
    return scores


@dg.asset(
    partitions_def=VINTAGES,
    description="Foundation-model startup survival: Kaplan-Meier, cumulative incidence of "
    "shutdown / acquisition or acqui-hire / pivot, Cox hazard ratios, and projections to future "
    "dates incl. the expected number of today's independent companies still independent on "
    "2027-03-31 and P(>= 60 % of the cohort exited).",
    metadata={"dagster/column_schema": SURVIVAL_SCHEMA},
    **COMMON,
)
def startup_survival(
    context: dg.AssetExecutionContext, startups: pd.DataFrame, startup_events: pd.DataFrame
) -> pd.DataFrame:
    as_of = _as_of(context)
    # statuses and last sightings are re-censored at the as-of date by the survival code; a
    # company is not dropped because its latest source was published after the vintage
    known = startups
    events = known_as_of(startup_events, as_of, "date", published_col=None)
    with single_threaded_blas():
        table = _stamp(survival_models.survival_table(known, as_of, events), as_of)
    png = chart_memo.drawn(charts.survival_chart, table, "all", charts.max_age_years(table))
    context.add_output_metadata(
        {
            **_fit_metadata(table),
            "curves": dg.MetadataValue.md(charts.markdown_image(png, "survival curves")),
        }
    )
    return table


@dg.asset(
    partitions_def=VINTAGES,
    description="Half-yearly rolling-origin backtest of the survival forecast (data re-censored "
    "at each cutoff): Brier score, exit-count interval coverage, skill against persistence and a "
    "constant-hazard baseline.",
    metadata={"dagster/column_schema": BACKTEST_SCHEMA},
    **COMMON,
)
def startup_survival_backtest(
    context: dg.AssetExecutionContext, startups: pd.DataFrame, startup_events: pd.DataFrame
) -> pd.DataFrame:
    as_of = _as_of(context)
    # statuses and last sightings are re-censored at the as-of date by the survival code; a
    # company is not dropped because its latest source was published after the vintage
    known = startups
    events = known_as_of(startup_events, as_of, "date", published_col=None)
    return _stamp(backtest_runs.survival_backtest(known, as_of, events), as_of)


@dg.asset(
    partitions_def=VINTAGES,
    description="Domestic share of China's AI-accelerator market by year to 2030 from actual "
    "figures only (logistic trend on the logit scale with t predictive 80/95 % intervals; "
    "fractional-logit GLM challenger), analyst forecasts as labelled scenario rows, the source "
    "figures by basis and kind, and P(share in 30-40 %) per year.",
    metadata={"dagster/column_schema": SHARE_SCHEMA},
    **COMMON,
)
def china_share_forecast(
    context: dg.AssetExecutionContext,
    china_chip_share: pd.DataFrame,
    domestic_share_observed: pd.DataFrame,
) -> pd.DataFrame:
    as_of = _as_of(context)
    observed = known_as_of(domestic_share_observed, as_of, None)
    with single_threaded_blas():
        table = share_models.share_table(known_as_of(china_chip_share, as_of, None), observed)
        table = _stamp(table, as_of)
    png = chart_memo.drawn(charts.share_chart, table)
    context.add_output_metadata(
        {
            **_fit_metadata(table),
            "share_chart": dg.MetadataValue.md(charts.markdown_image(png, "domestic share")),
        }
    )
    return table


@dg.asset(
    partitions_def=VINTAGES,
    description="Year-end rolling-origin backtest of the share models on actual figures, using "
    "only figures published before each cutoff.",
    metadata={"dagster/column_schema": BACKTEST_SCHEMA},
    **COMMON,
)
def china_share_backtest(
    context: dg.AssetExecutionContext,
    china_chip_share: pd.DataFrame,
    domestic_share_observed: pd.DataFrame,
) -> pd.DataFrame:
    as_of = _as_of(context)
    share = known_as_of(china_chip_share, as_of, None)
    observed = known_as_of(domestic_share_observed, as_of, None)
    return _stamp(backtest_runs.share_backtest(share, as_of, observed=observed), as_of)


def _coverage_check(asset_def: dg.AssetsDefinition, name: str) -> dg.AssetChecksDefinition:
    # partitioned checks are a preview feature of Dagster 1.13: the notice is known, not news
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return _build_coverage_check(asset_def, name)


def _build_coverage_check(asset_def: dg.AssetsDefinition, name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_def,
        name=name,
        partitions_def=VINTAGES,
        description="Warns when a model's 80 % or 95 % interval coverage (pooled over horizons) is "
        f"more than {backtest_runs.COVERAGE_TOLERANCE_PTS:.0f} points below nominal.",
    )
    def _check(scores: pd.DataFrame) -> dg.AssetCheckResult:
        short = backtest_runs.coverage_shortfalls(scores)
        return dg.AssetCheckResult(
            passed=short.empty,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "models_below_nominal": dg.MetadataValue.md(
                    short.to_markdown(index=False) if len(short) else "none"
                ),
                "tolerance_pts": backtest_runs.COVERAGE_TOLERANCE_PTS,
            },
        )

    return _check


HEADLINE_ASSETS = ("api_price_decline", "startup_survival", "china_share_forecast")


def headline_history(layer_dir: str, up_to: object | None = None) -> pd.DataFrame:
    """Headline figures of every stored vintage (up to ``up_to`` when given): decline factors per
    year, the expected number of independent companies and P(>= 60 % exited) on 2027-03-31,
    and the 2028 share forecast."""
    parts = []

    def read(asset: str) -> pd.DataFrame:
        df = read_vintages(layer_dir, asset)
        if len(df) and up_to is not None:
            df = df[df["vintage"] <= to_timestamp(up_to)]
        return df

    decline = read("api_price_decline")
    if len(decline):
        d = decline[decline["estimate_by"].str.startswith("pipeline")]
        parts.append(
            pd.DataFrame(
                {
                    "forecast_vintage": d["vintage"],
                    "metric": "decline_factor_per_year:"
                    + d["tier"]
                    + "/"
                    + d["region"]
                    + "/"
                    + d["price_side"],
                    "value": d["decline_factor_per_year"],
                    "lower_95": d["decline_factor_per_year_low"],
                    "upper_95": d["decline_factor_per_year_high"],
                    "unit": "x/year",
                    "status": d["status"],
                }
            )
        )
    surv = read("startup_survival")
    if len(surv):
        s = surv[
            (surv["target_date"] == to_timestamp(survival_models.CLAIM_DATE))
            & surv["quantity"].isin(
                [
                    "expected_independent_of_active",
                    "prob_share_exited_ge_60pct",
                    "share_of_cohort_exited",
                ]
            )
        ]
        parts.append(
            pd.DataFrame(
                {
                    "forecast_vintage": s["vintage"],
                    "metric": s["quantity"]
                    + "@"
                    + survival_models.CLAIM_DATE
                    + ":"
                    + s["cohort"]
                    + "/"
                    + s["model"],
                    "value": s["value"],
                    "lower_95": s["lower_95"],
                    "upper_95": s["upper_95"],
                    "unit": s["unit"],
                    "status": s["status"],
                }
            )
        )
    share = read("china_share_forecast")
    if len(share):
        sh = share[(share["year"] == share_models.CLAIM_YEAR) & (share["model"] != "source_figure")]
        for col, unit, suffix in (
            ("median_share_pct", "%", "share"),
            ("prob_share_in_30_40_pct", "probability", "prob_30_40"),
        ):
            parts.append(
                pd.DataFrame(
                    {
                        "forecast_vintage": sh["vintage"],
                        "metric": f"domestic_{suffix}_{share_models.CLAIM_YEAR}:" + sh["model"],
                        "value": sh[col],
                        "lower_95": sh["lower_95_share_pct"] if suffix == "share" else float("nan"),
                        "upper_95": sh["upper_95_share_pct"] if suffix == "share" else float("nan"),
                        "unit": unit,
                        "status": sh["status"],
                    }
                )
            )
    if not parts:
        return pd.DataFrame({c.name: pd.Series(dtype="object") for c in HISTORY_SCHEMA.columns})
    out = pd.concat(parts, ignore_index=True)
    out["forecast_vintage"] = pd.to_datetime(out["forecast_vintage"]).astype("datetime64[ns]")
    for c in ("metric", "unit", "status"):
        out[c] = out[c].astype("string")
    return out.sort_values(["metric", "forecast_vintage"], kind="mergesort").reset_index(drop=True)


@dg.asset(
    partitions_def=VINTAGES,
    deps=[dg.AssetKey(k) for k in HEADLINE_ASSETS],
    description="How the headline forecasts moved across every stored vintage up to this one "
    "(read Hive-style from all vintage folders): decline per year, survivors on 2027-03-31, "
    "2028 domestic share.",
    metadata={"dagster/column_schema": HISTORY_SCHEMA},
    **COMMON,
)
def forecast_vintage_history(context: dg.AssetExecutionContext) -> pd.DataFrame:
    as_of = _as_of(context)
    out = _stamp(headline_history(settings.layer_dir("forecasts"), up_to=as_of), as_of)
    context.add_output_metadata(
        {"n_vintages": int(out["forecast_vintage"].nunique()) if len(out) else 0}
    )
    return out


ASSETS = [
    api_price_grid,
    api_price_forecast,
    api_price_decline,
    api_price_backtest,
    startup_survival,
    startup_survival_backtest,
    china_share_forecast,
    china_share_backtest,
    forecast_vintage_history,
]
ASSET_CHECKS = [
    _coverage_check(api_price_backtest, "api_price_interval_coverage"),
    _coverage_check(startup_survival_backtest, "startup_survival_interval_coverage"),
    _coverage_check(china_share_backtest, "china_share_interval_coverage"),
]


# Constant-capability price index: Epoch AI's method on dated list prices.

CAPABILITY_INDEX_SCHEMA = column_schema(
    ("benchmark", "string", "", "mmlu | gpqa"),
    ("threshold", "float64", "%", "Score a model must reach to count"),
    ("region", "string", "", "world | US | CN (seller's region)"),
    ("month", "datetime64[ns]", "month", "Month a qualifying price was observed"),
    ("blended_usd_per_mtok", "float64", "USD/Mtok", price_index.BLEND_NOTE),
    ("model", "string", "", "Model with the cheapest qualifying price that month"),
    ("provider", "string", "", "Seller of that price (vendor or host)"),
    ("score_pct", "float64", "%", "That model's score on the benchmark"),
    ("is_frontier", "bool", "", "Cheaper than every earlier month: a point of the fitted trend"),
    ("source_url", "string", "", "Source of the price"),
    *AS_OF,
)
CAPABILITY_DECLINE_SCHEMA = column_schema(
    ("estimate_by", "string", "", "pipeline (HAC fit) | published: <publisher>"),
    ("benchmark", "string", "", "mmlu | gpqa (empty for published)"),
    ("threshold", "float64", "%", "Capability threshold"),
    ("region", "string", "", "world | US | CN"),
    ("scope", "string", "", "What is held fixed"),
    ("n_points", "Int64", "months", "Frontier months in the fit"),
    ("n_months_observed", "Int64", "months", "Months with a qualifying observed price"),
    ("maxlags", "float64", "months", "Newey-West lags, floor(4 (n/100)^(2/9))"),
    ("log_slope_per_year", "float64", "1/year", "OLS slope of log blended price"),
    ("log_slope_se", "float64", "1/year", "HAC standard error of the slope"),
    ("decline_x_per_year", "float64", "x/year", "exp(-slope)"),
    ("decline_x_per_year_low_80", "float64", "x/year", "80 % HAC interval, low"),
    ("decline_x_per_year_high_80", "float64", "x/year", "80 % HAC interval, high"),
    ("decline_x_per_year_low_95", "float64", "x/year", "95 % HAC interval (or published range)"),
    ("decline_x_per_year_high_95", "float64", "x/year", "95 % HAC interval (or published range)"),
    ("first_month", "datetime64[ns]", "month", "First point"),
    ("last_month", "datetime64[ns]", "month", "Last point"),
    ("status", "string", "", "ok | refused | published"),
    ("reason", "string", "", "Why a fit refused"),
    ("source", "string", "", "Publication of a published estimate"),
    ("source_url", "string", "", "URL of a published estimate"),
    *AS_OF,
)


def _capability_observations(
    api_prices: pd.DataFrame,
    stg_litellm_prices: pd.DataFrame,
    stg_openrouter_models: pd.DataFrame,
    model_aliases: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Observed prices known on the vintage date: dated list prices and, when their snapshot is
    not later than the vintage, the LiteLLM and OpenRouter catalogs' current prices dated by
    their snapshots; the alias table joins other spellings to the scored models."""
    snapshot = pd.Timestamp(stg_litellm_prices["published"].max())
    catalog = stg_litellm_prices if snapshot <= as_of else stg_litellm_prices.iloc[0:0]
    routed = pd.Timestamp(stg_openrouter_models["published"].max())
    openrouter = stg_openrouter_models if routed <= as_of else stg_openrouter_models.iloc[0:0]
    return price_index.price_observations(
        _prices_known(api_prices, as_of), catalog, snapshot, openrouter, routed, model_aliases
    )


@dg.asset(
    partitions_def=VINTAGES,
    description="Constant-capability API price index (Epoch AI's method): for MMLU >= 70/80/85 "
    "and GPQA >= 50/65, the cheapest blended price (3:1 input:output) among models at or above "
    "the threshold in each month a price was observed (dated list prices, LiteLLM and "
    "OpenRouter catalog snapshots), world and by seller region; no carried-forward points.",
    metadata={"dagster/column_schema": CAPABILITY_INDEX_SCHEMA},
    **COMMON,
)
def capability_price_index(
    context: dg.AssetExecutionContext,
    api_prices: pd.DataFrame,
    stg_litellm_prices: pd.DataFrame,
    stg_openrouter_models: pd.DataFrame,
    model_scores: pd.DataFrame,
    model_aliases: pd.DataFrame,
) -> pd.DataFrame:
    as_of = _as_of(context)
    obs = _capability_observations(
        api_prices, stg_litellm_prices, stg_openrouter_models, model_aliases, as_of
    )
    table = _stamp(price_index.index_table(obs, model_scores), as_of)
    scored = {
        b: price_index.model_scores_by_key(model_scores, b).index for b in price_index.THRESHOLDS
    }
    placed = {b: int(obs["model_key"].isin(keys).sum()) for b, keys in scored.items()}
    keys_placed = {
        b: int(obs.loc[obs["model_key"].isin(keys), "model_key"].nunique())
        for b, keys in scored.items()
    }
    context.add_output_metadata(
        {
            "blend": price_index.BLEND_NOTE,
            "n_observations": len(obs),
            "n_models_priced": int(obs["model"].nunique()),
            "n_observations_placed": dg.MetadataValue.json(placed),
            "n_model_keys_placed": dg.MetadataValue.json(keys_placed),
        }
    )
    return table


@dg.asset(
    partitions_def=VINTAGES,
    description="x-fold price decline per year at constant capability: OLS of log blended price "
    "on time over the months that set a new low at each threshold, with Newey-West (HAC) 80/95 % "
    "intervals and n, beside the published estimates (Epoch AI, a16z).",
    metadata={"dagster/column_schema": CAPABILITY_DECLINE_SCHEMA},
    **COMMON,
)
def capability_price_decline(
    context: dg.AssetExecutionContext,
    capability_price_index: pd.DataFrame,
    price_decline_estimates: pd.DataFrame,
) -> pd.DataFrame:
    as_of = _as_of(context)
    index = capability_price_index.drop(columns=["as_of_date"])
    decline = price_index.decline_table(index)
    published = known_as_of(price_decline_estimates, as_of, None)
    table = _stamp(price_index.with_published(decline, published), as_of)
    context.add_output_metadata(
        {
            "reconciliation": price_index.reconcile(decline, published),
            "blend": price_index.BLEND_NOTE,
        }
    )
    return table


def _relabelled(schema: dg.TableSchema, *columns: tuple[str, str, str, str]) -> dg.TableSchema:
    """``schema`` with the named columns' descriptions replaced (same names, types and order):
    a table whose columns are those of another but whose labels speak of other series."""
    new = {c.name: c for c in column_schema(*columns).columns}
    return dg.TableSchema(columns=[new.get(c.name, c) for c in schema.columns])


#: The level forecast and backtest of the index label a series as tier = threshold, region,
#: price_side = blended, so the vendor-tier tables' columns and code serve them unchanged.
CAPABILITY_SERIES_COLS = (
    (
        "tier",
        "string",
        "",
        "Capability threshold as <benchmark>>=<score %> (mmlu>=70/80/85, gpqa>=50/65): the "
        "cheapest model scoring at or above it",
    ),
    ("region", "string", "", "world | US | CN (seller's region)"),
    ("price_side", "string", "", f"blended ({price_index.BLEND_NOTE})"),
)
CAPABILITY_FORECAST_SCHEMA = _relabelled(PRICE_FORECAST_SCHEMA, *CAPABILITY_SERIES_COLS)
CAPABILITY_BACKTEST_SCHEMA = _relabelled(
    BACKTEST_SCHEMA,
    ("domain", "string", "", backtest_runs.CAPABILITY_DOMAIN),
    (
        "series",
        "string",
        "",
        "threshold/region/blended, e.g. mmlu>=80/world/blended (all/all/all pooled over every "
        "threshold and region)",
    ),
)


def _capability_inputs(
    context: dg.AssetExecutionContext,
    api_prices: pd.DataFrame,
    stg_litellm_prices: pd.DataFrame,
    stg_openrouter_models: pd.DataFrame,
    model_aliases: pd.DataFrame,
) -> tuple[pd.Timestamp, pd.DataFrame]:
    """The vintage date and the observations the index uses on it."""
    as_of = _as_of(context)
    obs = _capability_observations(
        api_prices, stg_litellm_prices, stg_openrouter_models, model_aliases, as_of
    )
    return as_of, obs


@dg.asset(
    partitions_def=VINTAGES,
    description="Rolling-origin backtest of the level forecast at constant capability, with the "
    "vendor tiers' machinery (observed targets only, horizons 3/6/12 months, ETS by AICc, jump "
    "model, last value, drift and their split-conformal variants) on each threshold and "
    "region's monthly grid of the index's observations: each qualifying offering's last blended "
    "price carried forward, the cheapest per month, ending at the last observation. Scores and "
    "thresholds use the vintage's benchmark scores and aliases.",
    metadata={"dagster/column_schema": CAPABILITY_BACKTEST_SCHEMA},
    **COMMON,
)
def capability_price_backtest(
    context: dg.AssetExecutionContext,
    api_prices: pd.DataFrame,
    stg_litellm_prices: pd.DataFrame,
    stg_openrouter_models: pd.DataFrame,
    model_scores: pd.DataFrame,
    model_aliases: pd.DataFrame,
) -> pd.DataFrame:
    as_of, obs = _capability_inputs(
        context, api_prices, stg_litellm_prices, stg_openrouter_models, model_aliases
    )
    with single_threaded_blas():
        scores = _stamp(backtest_runs.capability_price_backtest(obs, model_scores, as_of), as_of)
    context.add_output_metadata(
        {
            "n_scored_forecasts": int(scores["n_forecasts"].sum()),
            "n_scored_forecasts_fit_warned": int(scores["n_forecasts_fit_warned"].sum()),
        }
    )
    return scores


@dg.asset(
    partitions_def=VINTAGES,
    description="24-month level forecast of the constant-capability API price (blended USD per "
    "1M tokens, median and 80/95 % intervals) for each threshold and region, from each series' "
    "last observation with its data age; the model its own backtest favours is marked "
    "published with the verdict.",
    metadata={"dagster/column_schema": CAPABILITY_FORECAST_SCHEMA},
    **COMMON,
)
def capability_price_forecast(
    context: dg.AssetExecutionContext,
    api_prices: pd.DataFrame,
    stg_litellm_prices: pd.DataFrame,
    stg_openrouter_models: pd.DataFrame,
    model_scores: pd.DataFrame,
    model_aliases: pd.DataFrame,
    capability_price_backtest: pd.DataFrame,
) -> pd.DataFrame:
    as_of, obs = _capability_inputs(
        context, api_prices, stg_litellm_prices, stg_openrouter_models, model_aliases
    )
    published, verdict = backtest_runs.select_published(
        capability_price_backtest, backtest_runs.CAPABILITY_DOMAIN
    )
    with single_threaded_blas():
        table = _stamp(
            price_models.series_forecast_table(
                price_index.capability_rows(obs, model_scores, as_of),
                as_of,
                published_model=published,
                verdict=verdict,
                calibration=backtest_runs.published_calibration(
                    capability_price_backtest, published
                ),
            ),
            as_of,
        )
    context.add_output_metadata(
        {**_fit_metadata(table), "published_model": published, "backtest_verdict": verdict}
    )
    return table


ASSETS = [
    *ASSETS,
    capability_price_index,
    capability_price_decline,
    capability_price_backtest,
    capability_price_forecast,
]
ASSET_CHECKS = [
    *ASSET_CHECKS,
    _coverage_check(capability_price_backtest, "capability_price_interval_coverage"),
]
