"""The constant-capability price index against hand calculations and a plain NumPy reference:
cheapest qualifying price per observed month, frontier months, and Newey–West decline rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasts import price_index


def _obs(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """Observations from (model, region, date, blended price) tuples."""
    frame = pd.DataFrame(rows, columns=["model", "region", "date", "blended_usd_per_mtok"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["provider"] = "p"
    frame["model_key"] = frame["model"].map(price_index.model_key)
    frame["month"] = frame["date"].dt.to_period("M").dt.to_timestamp()
    return frame


def _newey_west_slope_se(t: np.ndarray, y: np.ndarray, lags: int) -> tuple[float, float]:
    """Plain NumPy OLS slope and its Bartlett-kernel (Newey–West) HAC standard error, without a
    small-sample factor (statsmodels' HAC default)."""
    x = np.column_stack([np.ones_like(t), t])
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    u = y - x @ beta
    xu = x * u[:, None]
    s = xu.T @ xu
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        gamma = xu[lag:].T @ xu[:-lag]
        s += w * (gamma + gamma.T)
    cov = xtx_inv @ s @ xtx_inv
    return float(beta[1]), float(np.sqrt(cov[1, 1]))


def test_blend_is_three_to_one():
    """$3 in / $15 out blends to 0.75*3 + 0.25*15 = $6.00 per 1M tokens."""
    got = price_index.blended_usd_per_mtok(pd.Series([3.0, np.nan]), pd.Series([15.0, 1.0]))
    assert got.iloc[0] == pytest.approx(6.0)
    assert np.isnan(got.iloc[1])


def test_model_key_matches_versions_across_sources():
    """Dated snapshots, dotted versions, host paths and parentheticals meet on one key."""
    assert price_index.model_key("claude-3-5-sonnet-20241022") == price_index.model_key(
        "claude-3.5-sonnet"
    )
    assert price_index.model_key("gpt-4o-2024-08-06") == "gpt-4o"
    assert (
        price_index.model_key("deepinfra/meta-llama/Meta-Llama-3.1-70B-Instruct") == "llama-3-1-70b"
    )
    assert price_index.model_key("gemini-1.5-pro (<=128k)") == "gemini-1-5-pro"


def test_cheapest_by_month_hand_example():
    """Only qualifying models count; months without an observation have no point; a month sets
    the frontier only when cheaper than every earlier month."""
    obs = _obs(
        [
            ("big", "US", "2024-01-10", 10.0),
            ("weak", "US", "2024-01-12", 0.1),  # below the threshold: ignored
            ("big", "US", "2024-03-05", 8.0),
            ("mid", "CN", "2024-03-20", 4.0),
            ("big", "US", "2024-06-01", 9.0),  # cheapest that month, but not a new low
        ]
    )
    scores = pd.Series({"big": 90.0, "mid": 81.0, "weak": 50.0})
    world = price_index.cheapest_by_month(obs, scores, 80.0)
    assert list(world["month"].dt.strftime("%Y-%m")) == ["2024-01", "2024-03", "2024-06"]
    assert list(world["blended_usd_per_mtok"]) == [10.0, 4.0, 9.0]
    assert list(world["model"]) == ["big", "mid", "big"]
    assert list(world["is_frontier"]) == [True, True, False]
    us = price_index.cheapest_by_month(obs, scores, 80.0, "US")
    assert list(us["blended_usd_per_mtok"]) == [10.0, 8.0, 9.0]
    assert price_index.cheapest_by_month(obs, scores, 95.0).empty


def test_model_versions_keep_lowest_score():
    """Two versions sharing a key: the model is placed by the lower score."""
    scores = pd.DataFrame(
        {
            "model": ["gpt-4o-2024-05-13", "gpt-4o-2024-08-06", "x"],
            "benchmark": ["mmlu", "mmlu", "gpqa"],
            "score_pct": [88.7, 85.7, 40.0],
        }
    )
    assert price_index.model_scores_by_key(scores, "mmlu").to_dict() == {"gpt-4o": 85.7}


def test_exact_exponential_decline_is_recovered():
    """Prices falling exactly 10x a year give 10x with a zero-width interval."""
    months = pd.Series(pd.date_range("2023-01-01", periods=6, freq="6MS"))
    years = (months - pd.Timestamp("2020-01-01")).dt.days / price_index.DAYS_PER_YEAR
    prices = pd.Series(100.0 * 10.0 ** (-(years - years.iloc[0])))
    fit = price_index.hac_decline(months, prices)
    assert fit["status"] == "ok" and fit["n_points"] == 6
    assert fit["decline_x_per_year"] == pytest.approx(10.0, rel=1e-9)
    assert fit["decline_x_per_year_low_95"] == pytest.approx(10.0, rel=1e-6)


def test_refuses_short_series():
    """Three points cannot carry a HAC interval: refused with the count."""
    months = pd.Series(pd.date_range("2024-01-01", periods=3, freq="MS"))
    fit = price_index.hac_decline(months, pd.Series([3.0, 2.0, 1.0]))
    assert fit["status"] == "refused" and fit["n_points"] == 3


@given(
    st.lists(st.floats(-3, 3), min_size=6, max_size=25),
    st.floats(-2.5, 0.5),
    st.integers(0, 3),
)
def test_hac_matches_numpy_newey_west(noise, slope, lags):
    """Slope, Newey–West standard error and the 80/95 % bounds equal a NumPy reference."""
    n = len(noise)
    months = pd.Series(pd.date_range("2022-01-01", periods=n, freq="2MS"))
    t = (months - pd.Timestamp("2020-01-01")).dt.days.to_numpy() / price_index.DAYS_PER_YEAR
    y = 2.0 + slope * t + 0.3 * np.asarray(noise)
    fit = price_index.hac_decline(months, pd.Series(np.exp(y)), maxlags=lags)
    ref_slope, ref_se = _newey_west_slope_se(t, y, lags)
    assert fit["log_slope_per_year"] == pytest.approx(ref_slope, rel=1e-7, abs=1e-9)
    assert fit["log_slope_se"] == pytest.approx(ref_se, rel=1e-6, abs=1e-9)
    assert fit["decline_x_per_year"] == pytest.approx(np.exp(-ref_slope), rel=1e-7)
    assert fit["decline_x_per_year_high_95"] == pytest.approx(
        np.exp(-(ref_slope - 1.959963984540054 * ref_se)), rel=1e-6
    )
    assert (
        fit["decline_x_per_year_low_95"]
        <= fit["decline_x_per_year_low_80"]
        <= fit["decline_x_per_year"]
        <= fit["decline_x_per_year_high_80"]
        <= fit["decline_x_per_year_high_95"]
    )


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.sampled_from(["US", "CN"]),
            st.integers(0, 35),
            st.floats(0.01, 100),
        ),
        min_size=1,
        max_size=40,
    ),
    st.floats(0, 100),
)
def test_index_matches_plain_loop(rows, threshold):
    """The index equals a plain loop: per month, the minimum price over qualifying models."""
    scores = pd.Series({"a": 90.0, "b": 75.0, "c": 60.0, "d": 85.0})
    obs = _obs(
        [
            (m, r, (pd.Timestamp("2023-01-01") + pd.DateOffset(months=k)).strftime("%Y-%m-%d"), p)
            for m, r, k, p in rows
        ]
    )
    got = price_index.cheapest_by_month(obs, scores, threshold)
    expected: dict[pd.Timestamp, float] = {}
    for m, _, k, p in rows:
        if scores[m] >= threshold:
            month = pd.Timestamp("2023-01-01") + pd.DateOffset(months=k)
            expected[month] = min(p, expected.get(month, np.inf))
    assert dict(zip(got["month"], got["blended_usd_per_mtok"], strict=True)) == expected
    running = np.inf
    for month in sorted(expected):
        frontier = got.loc[got["month"] == month, "is_frontier"].item()
        assert frontier == (expected[month] < running)
        running = min(running, expected[month])


def test_assets_materialize_index_and_decline_beside_published(warehouse):
    """The two assets run on a vintage: catalog prices dated by their snapshot, refusals for
    short series, and the published estimate as a row beside the measured ones."""
    import dagster as dg

    from forecasts import assets as forecast_assets
    from forecasts.vintage import read_vintages
    from pipelines import settings
    from tests.forecasts.test_forecast_assets import RESOURCES, _upstream

    assert dg.materialize(_upstream(), resources=RESOURCES).success
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [
            *_upstream(),
            forecast_assets.capability_price_index,
            forecast_assets.capability_price_decline,
        ],
        partition_key="2026-01-05",
        resources=RESOURCES,
        instance=instance,
        selection=["capability_price_index", "capability_price_decline"],
    )
    assert result.success
    layer = settings.layer_dir("forecasts")
    index = read_vintages(layer, "capability_price_index")
    world = index[(index["benchmark"] == "mmlu") & (index["threshold"] == 80.0)]
    world = world[world["region"] == "world"]
    # the catalog (snapshot 2026-01-01) gives the January point: host price 0.75*0.2+0.25*0.6
    jan = world[world["month"] == pd.Timestamp("2026-01-01")]
    assert jan["blended_usd_per_mtok"].item() == pytest.approx(0.3)
    # OpenRouter (snapshot 2025-12-15) gives December, sold in the US: 0.75*0.1+0.25*0.3; its
    # cheaper :batch and ~latest entries are left out
    dec = index[(index["month"] == pd.Timestamp("2025-12-01")) & (index["threshold"] == 80.0)]
    dec = dec[dec["benchmark"] == "mmlu"].set_index("region")
    assert dec.loc["world", "blended_usd_per_mtok"] == pytest.approx(0.15)
    assert dec.loc["US", "provider"] == "openrouter" and "CN" not in dec.index
    decline = read_vintages(layer, "capability_price_decline")
    published = decline[decline["status"] == "published"]
    assert published["estimate_by"].tolist() == ["published: Sim Lab"]
    cn = decline[(decline["region"] == "CN") & (decline["benchmark"] == "mmlu")]
    # the only CN model scores 72: fitted at MMLU >= 70, refused above it
    assert cn.set_index("threshold")["status"].to_dict() == {
        70.0: "ok",
        80.0: "refused",
        85.0: "refused",
    }


@pytest.mark.parametrize(
    ("priced", "scored"),
    [
        ("claude-4.5-haiku", "claude-haiku-4-5-20251015"),  # Claude's two word orders
        ("deepinfra/anthropic/claude-4-opus", "claude-opus-4-20250514"),
        ("claude-3.5-sonnet", "claude-3-5-sonnet-20241022"),
        ("amazon-nova-lite", "nova-lite"),  # vendor prefix
        (
            "fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct",
            "llama-3.1-70b-instruct",
        ),
        ("fireworks_ai/accounts/fireworks/models/qwen2p5-72b-instruct", "qwen-2.5-72b-instruct"),
        ("Qwen/Qwen2.5-72B-Instruct", "qwen-2.5-72b-instruct"),
        ("groq/gemma2-9b-it", "gemma-2-9b-it"),
        ("cerebras/llama3.1-8b", "llama-3.1-8b-instruct"),
        ("deepinfra/deepseek-ai/DeepSeek-V3-0324", "deepseek-v3-0324"),
        ("o1-preview", "o1-preview"),
    ],
)
def test_spelling_rules_join_a_price_to_its_score(priced, scored):
    """Each rule of model_key joins a seller's spelling to the score's: a small frame in, the
    scored price out of the index."""
    obs = _obs([(priced, "US", "2025-03-10", 2.0)])
    scores = price_index.model_scores_by_key(
        pd.DataFrame({"model": [scored], "benchmark": ["gpqa"], "score_pct": [70.0]}), "gpqa"
    )
    got = price_index.cheapest_by_month(obs, scores, 65.0)
    assert got["model"].tolist() == [priced] and got["score_pct"].tolist() == [70.0]


@pytest.mark.parametrize(
    ("priced", "scored"),
    [
        ("gemini-2.5-flash-preview", "gemini-2.5-flash"),  # a preview is not the release
        ("gpt-4-1106-preview (gpt-4-turbo)", "gpt-4-0613"),
        ("deepseek/deepseek-r1", "deepseek-r1-0528"),  # DeepSeek's -MMDD is a new checkpoint
        ("qwen-72b", "qwen2-72b-instruct"),  # a size is not a version
        ("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b-instruct"),
    ],
)
def test_distinct_models_stay_apart(priced, scored):
    """Names of different models (a preview, an earlier checkpoint, a quantised build) do not
    meet on one key."""
    assert price_index.model_key(priced) != price_index.model_key(scored)


def _aliases(rows: list[tuple[str, str, str | None, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["alias", "model", "valid_from", "valid_to"])
    return frame.assign(
        valid_from=pd.to_datetime(frame["valid_from"]), valid_to=pd.to_datetime(frame["valid_to"])
    )


def _api_rows(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """api_prices rows from (model, effective date, date precision, input=output USD/Mtok)."""
    frame = pd.DataFrame(rows, columns=["model", "effective_date", "date_precision", "usd"])
    return frame.assign(
        provider="DeepSeek",
        region="CN",
        effective_date=pd.to_datetime(frame["effective_date"]),
        input_usd_per_mtok=frame["usd"],
        output_usd_per_mtok=frame["usd"],
        source_url="https://example.org/prices",
    )


EMPTY_CATALOG = pd.DataFrame(
    columns=["model_id", "provider", "mode", "input_usd_per_mtok", "output_usd_per_mtok"]
)


def test_aliases_map_spellings_and_windows():
    """An alias without a window always maps; a windowed alias (an API id re-pointed at new
    models) maps only prices whose whole date span lies inside [valid_from, valid_to)."""
    api = _api_rows(
        [
            ("nova-lite-v1", "2025-03-10", "day", 1.0),
            ("deepseek-chat", "2025-08-20", "day", 1.0),  # the day before the window
            ("deepseek-chat", "2025-09-05", "day", 1.0),  # inside
            ("deepseek-chat", "2025-09-01", "month", 1.0),  # the month runs past the window
            ("deepseek-chat", "2025-09-22", "day", 1.0),  # the window's end is exclusive
        ]
    )
    aliases = _aliases(
        [
            ("nova-lite-v1", "nova-lite", None, None),
            ("deepseek-chat", "deepseek-v3.1", "2025-08-21", "2025-09-22"),
        ]
    )
    obs = price_index.price_observations(api, EMPTY_CATALOG, "2026-01-01", aliases=aliases)
    assert obs["model_key"].tolist() == [
        "nova-lite",
        "deepseek",
        "deepseek-v3-1",
        "deepseek",
        "deepseek",
    ]


def test_shipped_aliases_place_what_their_sources_say():
    """The shipped alias file: OpenRouter's and hosts' ids join their scored models, and
    deepseek-chat is DeepSeek-V3.1 only between the change log's 2025-08-21 and 2025-09-22."""
    from pipelines import settings

    path = settings.PROJECT_ROOT / "data" / "sources" / "model_aliases.csv"
    aliases = pd.read_csv(path, parse_dates=["valid_from", "valid_to"])
    api = _api_rows(
        [
            ("deepseek-chat", "2025-02-08", "day", 1.0),
            ("deepseek-chat", "2025-09-05", "day", 1.0),
            ("Llama-4-Maverick-17B-128E-Instruct", "2025-09-05", "day", 1.0),
        ]
    )
    router = pd.DataFrame(
        {
            "model_id": ["amazon/nova-pro-v1", "deepseek/deepseek-chat-v3-0324"],
            "input_usd_per_mtok": [0.8, 0.27],
            "output_usd_per_mtok": [3.2, 1.12],
        }
    )
    obs = price_index.price_observations(
        api, EMPTY_CATALOG, "2026-11-20", router, "2026-08-19", aliases
    )
    assert obs["model_key"].tolist() == [
        "deepseek",
        "deepseek-v3-1",
        "llama-4-maverick",
        "nova-pro",
        "deepseek-v3-0324",
    ]


def test_openrouter_observations_dated_by_snapshot_sold_in_us():
    """OpenRouter's models are observed in its snapshot's month, sold by OpenRouter (US), without
    :variant ids (batch, free, thinking) or ~ ids that follow a vendor's newest model."""
    router = pd.DataFrame(
        {
            "model_id": [
                "qwen/qwen3-next-80b-a3b-instruct",
                "openai/gpt-4o:batch",
                "z-ai/glm-5.2:free",
                "~openai/gpt-latest",
            ],
            "input_usd_per_mtok": [0.1, 1.25, 0.0, 2.5],
            "output_usd_per_mtok": [0.8, 5.0, 0.0, 15.0],
        }
    )
    obs = price_index.price_observations(
        _api_rows([]), EMPTY_CATALOG, "2026-11-20", router, "2026-08-19"
    )
    assert obs["model"].tolist() == ["qwen/qwen3-next-80b-a3b-instruct"]
    row = obs.iloc[0]
    assert (row["region"], row["provider"], row["origin"]) == (
        "US",
        "openrouter",
        "openrouter_catalog",
    )
    assert row["month"] == pd.Timestamp("2026-08-01")
    assert row["blended_usd_per_mtok"] == pytest.approx(0.75 * 0.1 + 0.25 * 0.8)
