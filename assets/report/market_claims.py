"""Checks claimed API price levels and declines, and startup counts, against dated market data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN, Finding, cite, fmt
from forecasts.prices import PRICE_SIDES, monthly_grid

PRICE_LEVEL_RULE = "api_price_level"
PRICE_CHANGE_RULE = "api_price_change"
COUNT_CHANGE_RULE = "startup_count_change"
COUNT_LEVEL_RULE = "startup_count_level"
#: A claimed percentage change agrees with a measured one within ±5 percentage points.
CHANGE_TOLERANCE_PP = 5.0
DAYS_PER_YEAR = 365.25


def quarter_end(year: int, quarter: int) -> pd.Timestamp:
    """The last day of a calendar quarter."""
    return pd.Timestamp(year=year, month=3 * quarter, day=1) + pd.offsets.MonthEnd(0)


def prices_in_effect(
    api_prices: pd.DataFrame, date: pd.Timestamp, tier: str | None, region: str | None
) -> pd.DataFrame:
    """Each model's latest listed USD price on or before ``date`` (one row per provider/model),
    with a 1:1 blend of input and output (either alone when only one is listed)."""
    dates = pd.to_datetime(api_prices["effective_date"], errors="coerce")
    keep = dates.notna() & (dates <= date)
    if tier is not None:
        keep &= api_prices["tier"] == tier
    if region is not None:
        keep &= api_prices["region"] == region
    rows = api_prices[keep].assign(when=dates[keep])
    rows = rows.sort_values(["when", "price_id"], kind="mergesort")
    latest = rows.groupby(["provider", "model"], sort=True).last().reset_index()
    latest["blend_usd_per_mtok"] = latest[["input_usd_per_mtok", "output_usd_per_mtok"]].mean(
        axis=1, skipna=True
    )
    return latest[latest["blend_usd_per_mtok"] > 0]


def check_price_level(
    claimed_usd: float,
    date: pd.Timestamp,
    api_prices: pd.DataFrame,
    tier: str | None,
    region: str | None,
) -> Finding:
    """A claimed average price against the listed prices in effect at its date: open inside the
    listed range (no source names a basket to average), contradicted outside it."""
    tol = "claim inside the range of listed prices in effect (input, output, 1:1 blend)"
    listed = prices_in_effect(api_prices, date, tier, region)
    where = f"{tier or 'all tiers'}, {region or 'all regions'}"
    if listed.empty:
        return Finding(
            OPEN, f"no listed price ({where}) on or before {date.date()}", PRICE_LEVEL_RULE, tol
        )
    values = pd.concat([listed["input_usd_per_mtok"], listed["output_usd_per_mtok"]]).dropna()
    lo, hi = float(values.min()), float(values.max())
    median = float(listed["blend_usd_per_mtok"].median())
    inside = lo <= claimed_usd <= hi
    reason = (
        f"{len(listed)} models ({where}) listed on {date.date()}: {fmt(lo)}-{fmt(hi)} USD/Mtok, "
        f"median 1:1 blend {fmt(median)}; "
        + (
            "the claimed average lies inside that range, but no source reports an average or its basket"
            if inside
            else f"the claimed {fmt(claimed_usd)} lies outside every listed price"
        )
    )
    return Finding(
        OPEN if inside else CONTRADICTED,
        reason,
        PRICE_LEVEL_RULE,
        tol,
        evidence="api_prices: " + cite(listed, "price_id"),
        pipeline_value=median,
        pipeline_value_low=lo,
        pipeline_value_high=hi,
        pipeline_unit="USD/Mtok (median blend; listed range)",
    )


def published_factors_per_year(estimates: pd.DataFrame) -> pd.DataFrame:
    """Every published x-fold decline per year: stated rates and range ends, and total declines
    over a dated period turned into a yearly rate."""
    rows = []
    for rec in estimates.to_dict("records"):
        for col in (
            "decline_factor_per_year",
            "decline_factor_per_year_low",
            "decline_factor_per_year_high",
        ):
            v = rec.get(col)
            if v is not None and not pd.isna(v):
                rows.append(
                    {
                        "estimate_id": rec["estimate_id"],
                        "factor_per_year": float(v),
                        "source_url": rec.get("source_url"),
                    }
                )
        total = rec.get("total_decline_factor")
        start = pd.to_datetime(rec.get("period_start"), errors="coerce")
        end = pd.to_datetime(rec.get("period_end"), errors="coerce")
        if (
            total is not None
            and not pd.isna(total)
            and pd.notna(start)
            and pd.notna(end)
            and end > start
        ):
            years = (end - start).days / DAYS_PER_YEAR
            rows.append(
                {
                    "estimate_id": rec["estimate_id"],
                    "factor_per_year": float(total) ** (1 / years),
                    "source_url": rec.get("source_url"),
                }
            )
    return pd.DataFrame(rows, columns=["estimate_id", "factor_per_year", "source_url"])


def cheapest_price_changes(
    api_prices: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    tiers: tuple[str, ...],
    region: str,
) -> pd.DataFrame:
    """Percent change of the cheapest price at or above each tier (monthly grid, each list price
    carried forward while in effect, up to ``end``) from the month of ``start`` to the month of
    ``end``, per tier and price side."""
    rows = []
    m0 = start.to_period("M").to_timestamp()
    m1 = end.to_period("M").to_timestamp()
    for tier in tiers:
        for side in PRICE_SIDES:
            grid = monthly_grid(api_prices, tier, region, side, end).set_index("month")
            if len(grid) and grid.index.max() < m1:
                # A list price stays in effect until it changes: a claim dated after the last
                # observation is checked against the prices in effect then (not a forecast target).
                grid = grid.reindex(pd.date_range(grid.index.min(), m1, freq="MS")).ffill()
            if m0 not in grid.index or m1 not in grid.index:
                continue
            p0, p1 = (
                float(grid.at[m0, "price_usd_per_mtok"]),
                float(grid.at[m1, "price_usd_per_mtok"]),
            )
            rows.append(
                {
                    "tier": tier,
                    "side": side,
                    "from_model": grid.at[m0, "cheapest_model"],
                    "to_model": grid.at[m1, "cheapest_model"],
                    "from_usd_per_mtok": p0,
                    "to_usd_per_mtok": p1,
                    "change_pct": 100 * (p1 / p0 - 1),
                }
            )
    return pd.DataFrame(rows)


def check_price_change(
    claimed_low_pct: float,
    claimed_high_pct: float,
    start: pd.Timestamp,
    end: pd.Timestamp,
    api_prices: pd.DataFrame,
    price_decline_estimates: pd.DataFrame,
    tiers: tuple[str, ...],
    region: str,
) -> Finding:
    """A claimed price change (negative = decline) measured three ways: the change of the cheapest
    price at or above the tier, the change of the median listed price, and published x-fold
    declines per year. Consistent when all agree, contradicted when none does, open otherwise."""
    tol = f"±{CHANGE_TOLERANCE_PP:g} pp of measured changes; implied yearly factor within published range"
    lo_c, hi_c = sorted((claimed_low_pct, claimed_high_pct))
    cheapest = cheapest_price_changes(api_prices, start, end, tiers, region)
    tier_arg = tiers[0] if len(tiers) == 1 else None
    before = prices_in_effect(api_prices, start, tier_arg, region)
    after = prices_in_effect(api_prices, end, tier_arg, region)
    if cheapest.empty or before.empty or after.empty:
        return Finding(
            OPEN,
            f"no dated prices for {', '.join(tiers)} in {region} at both {start.date()} and {end.date()}",
            PRICE_CHANGE_RULE,
            tol,
        )
    median_change = 100 * (
        after["blend_usd_per_mtok"].median() / before["blend_usd_per_mtok"].median() - 1
    )
    c_lo, c_hi = float(cheapest["change_pct"].min()), float(cheapest["change_pct"].max())
    agrees_cheapest = lo_c - CHANGE_TOLERANCE_PP <= c_hi and c_lo <= hi_c + CHANGE_TOLERANCE_PP
    agrees_median = lo_c - CHANGE_TOLERANCE_PP <= median_change <= hi_c + CHANGE_TOLERANCE_PP
    years = (end - start).days / DAYS_PER_YEAR
    implied = [(1 / (1 + c / 100)) ** (1 / years) for c in (lo_c, hi_c) if c > -100]
    published = published_factors_per_year(price_decline_estimates)
    checks = [agrees_cheapest, agrees_median]
    pub_text = ""
    if len(published) and implied:
        p_lo, p_hi = (
            float(published["factor_per_year"].min()),
            float(published["factor_per_year"].max()),
        )
        agrees_pub = min(implied) <= p_hi and p_lo <= max(implied)
        checks.append(agrees_pub)
        lowest = published.loc[published["factor_per_year"].idxmin(), "estimate_id"]
        pub_text = (
            f"; the implied {fmt(min(implied))}"
            + (f"-{fmt(max(implied))}" if max(implied) != min(implied) else "")
            + f"x decline per year is {'inside' if agrees_pub else 'outside'} the published "
            f"{fmt(p_lo)}-{fmt(p_hi)}x per year (lowest: {lowest})"
        )
    verdict = CONSISTENT if all(checks) else CONTRADICTED if not any(checks) else OPEN
    detail = "; ".join(
        f"{r.tier}/{r.side} {fmt(r.from_usd_per_mtok)}->{fmt(r.to_usd_per_mtok)} ({r.change_pct:+.0f}%)"
        for r in cheapest.itertuples()
    )
    reason = (
        f"{region} {start.date()}->{end.date()}: cheapest price at or above tier changed "
        f"{c_lo:+.0f}% to {c_hi:+.0f}% ({detail}); median listed price (1:1 blend) "
        f"{median_change:+.0f}%{pub_text}"
        + (
            "; the measures disagree, so the figure depends on the basket"
            if verdict == OPEN
            else ""
        )
    )
    evidence = "api_prices: " + cite(pd.concat([before, after]), "price_id")
    if len(published):
        evidence += " | price_decline_estimates: " + cite(published, "estimate_id")
    return Finding(
        verdict,
        reason,
        PRICE_CHANGE_RULE,
        tol,
        evidence=evidence,
        pipeline_value=float(median_change),
        pipeline_value_low=c_lo,
        pipeline_value_high=c_hi,
        pipeline_unit="% change (median blend; cheapest-price range)",
    )


def count_changes(
    model_counts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """For each cumulative count series: the last value on or before ``start`` (or the first
    after it) and the last on or before ``end``, and the percent change between them."""
    rows = []
    dated = model_counts.assign(when=pd.to_datetime(model_counts["date"], errors="coerce"))
    stock = dated[dated["metric"].str.contains("cumulative") & dated["when"].notna()]
    for metric, grp in stock.groupby("metric", sort=True):
        grp = grp.sort_values(["when", "count_id"], kind="mergesort")
        first = grp[grp["when"] <= start]
        first = first.iloc[[-1]] if len(first) else grp[grp["when"] <= end].iloc[:1]
        last = grp[grp["when"] <= end].iloc[-1:]
        if first.empty or last.empty or first["count_id"].iloc[0] == last["count_id"].iloc[0]:
            continue
        v0, v1 = float(first["value"].iloc[0]), float(last["value"].iloc[0])
        rows.append(
            {
                "metric": metric,
                "from_id": first["count_id"].iloc[0],
                "to_id": last["count_id"].iloc[0],
                "from_date": first["when"].iloc[0],
                "to_date": last["when"].iloc[0],
                "from_value": v0,
                "to_value": v1,
                "change_pct": 100 * (v1 / v0 - 1) if v0 > 0 else np.nan,
                "source_url": last["source_url"].iloc[0],
            }
        )
    return pd.DataFrame(rows)


def check_count_change(
    claimed_pct: float, start: pd.Timestamp, end: pd.Timestamp, model_counts: pd.DataFrame
) -> Finding:
    """A claimed fall in the number of model companies against every count of Chinese models and
    registered services over the period: contradicted when all of them move the other way."""
    tol = "direction and size of every sourced count series over the period"
    changes = count_changes(model_counts, start, end)
    if changes.empty:
        return Finding(
            OPEN, f"no count series spans {start.date()}-{end.date()}", COUNT_CHANGE_RULE, tol
        )
    opposite = (np.sign(changes["change_pct"]) != np.sign(claimed_pct)) & changes["change_pct"].ne(
        0
    )
    detail = "; ".join(
        f"{r.metric} {fmt(r.from_value)} ({r.from_date.date()}) -> {fmt(r.to_value)} ({r.to_date.date()})"
        for r in changes.itertuples()
    )
    verdict = CONTRADICTED if opposite.all() else OPEN
    reason = (
        "no source counts foundation-model startups; "
        + ("every" if opposite.all() else "not every")
        + f" sourced count of models or services moves against the claimed {claimed_pct:+.1f}%: {detail}"
    )
    ids = pd.concat(
        [
            changes[["from_id", "source_url"]].rename(columns={"from_id": "count_id"}),
            changes[["to_id", "source_url"]].rename(columns={"to_id": "count_id"}),
        ]
    ).sort_values("count_id", kind="mergesort")
    return Finding(
        verdict,
        reason,
        COUNT_CHANGE_RULE,
        tol,
        evidence="model_counts: " + cite(ids, "count_id"),
        pipeline_value=float(changes["change_pct"].median()),
        pipeline_value_low=float(changes["change_pct"].min()),
        pipeline_value_high=float(changes["change_pct"].max()),
        pipeline_unit="% change of sourced counts (median; range)",
    )


def check_count_level(claimed: float, date: pd.Timestamp, model_counts: pd.DataFrame) -> Finding:
    """A claimed number of model startups: open, since the sources count models and registered
    services, not companies; the nearest counts are given for scale."""
    dated = model_counts.assign(when=pd.to_datetime(model_counts["date"], errors="coerce"))
    near = dated[dated["when"].notna() & (dated["when"] <= date)]
    near = near.sort_values(["when", "count_id"], kind="mergesort").groupby("metric").tail(1)
    near = near[near["metric"].str.contains("cumulative")]
    detail = "; ".join(f"{r.metric} {fmt(r.value)} ({r.when.date()})" for r in near.itertuples())
    return Finding(
        OPEN,
        f"no source counts foundation-model startups on {date.date()}"
        + (f"; latest counts of models/services by then: {detail}" if detail else ""),
        COUNT_LEVEL_RULE,
        "a sourced count of the same population",
        evidence="model_counts: " + cite(near, "count_id") if len(near) else "",
    )


FUNDING_RULE = "funding_raised"
#: Reported round sizes are rounded and converted; ±25 % separates a different total from rounding.
FUNDING_TOLERANCE_PCT = 25.0


def check_funding(
    claimed_usd: float,
    company_id: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    startup_events: pd.DataFrame,
) -> Finding:
    """Claimed money raised over a period against the company's sourced funding rounds in it:
    the sum of stated amounts is a lower bound when some rounds have none. Contradicted when the
    stated rounds alone exceed the claim by more than 25 % (or, all amounts known, fall short by
    more), consistent within 25 % with every amount known, open otherwise."""
    tol = f"±{FUNDING_TOLERANCE_PCT:g}% of the sum of sourced rounds"
    dates = pd.to_datetime(startup_events["date"], errors="coerce")
    rounds = startup_events[
        (startup_events["company_id"] == company_id)
        & (startup_events["event_type"] == "funding")
        & (dates >= start)
        & (dates <= end)
    ].sort_values("event_id", kind="mergesort")
    if rounds.empty:
        return Finding(
            OPEN,
            f"no sourced funding round of {company_id} between {start.date()} and {end.date()}",
            FUNDING_RULE,
            tol,
        )
    stated = rounds["amount_usd"].dropna()
    total = float(stated.sum())
    unknown = int(rounds["amount_usd"].isna().sum())
    k = 1 + FUNDING_TOLERANCE_PCT / 100
    if total > claimed_usd * k or (unknown == 0 and total < claimed_usd / k):
        verdict = CONTRADICTED
    elif unknown == 0:
        verdict = CONSISTENT
    else:
        verdict = OPEN
    detail = ", ".join(
        f"{r.event_id} {fmt(r.amount_usd) if pd.notna(r.amount_usd) else 'amount not stated'}"
        for r in rounds.itertuples()
    )
    return Finding(
        verdict,
        f"{len(rounds)} sourced rounds of {company_id} in {start.year}-{end.year} sum to at least "
        f"{fmt(total)} USD ({detail})"
        + (f"; {unknown} without a stated amount" if unknown else ""),
        FUNDING_RULE,
        tol,
        evidence="startup_events: " + cite(rounds, "event_id"),
        pipeline_value=total,
        pipeline_value_low=total,
        pipeline_value_high=total if unknown == 0 else float("nan"),
        pipeline_unit="USD (sum of stated rounds)",
    )
