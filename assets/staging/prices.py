"""Declared staging schemas of the API price catalogs (LiteLLM, MIT; OpenRouter): USD per 1M tokens."""

from __future__ import annotations

from assets.staging.frame import StageColumn, StagingSchema

#: USD per token -> USD per 1M tokens.
PER_TOKEN_TO_PER_MTOK = 1e6
#: Plausible USD per 1M tokens: free models are 0; nothing is priced above 10,000.
MAX_USD_PER_MTOK = 10_000


def _usd_per_mtok(upstream: str, name: str, what: str) -> StageColumn:
    return StageColumn(
        upstream, name, "float", what, "USD/1M tokens", PER_TOKEN_TO_PER_MTOK, 0, MAX_USD_PER_MTOK
    )


LITELLM_PRICES = StagingSchema(
    dataset="litellm_prices",
    description="LiteLLM's price catalog (BerriAI, MIT): one row per priced model entry with USD "
    "per 1M input and output tokens and the provider.",
    kind="claim",
    key=("model_id",),
    notes=("Entries without a token price (images, audio per second) are left out.",),
    columns=(
        StageColumn("model_id", "model_id", "str", "LiteLLM model key", required=True),
        StageColumn("litellm_provider", "provider", "str", "Provider"),
        StageColumn("mode", "mode", "str", "chat, embedding, completion, ..."),
        _usd_per_mtok("input_cost_per_token", "input_usd_per_mtok", "Input price"),
        _usd_per_mtok("output_cost_per_token", "output_usd_per_mtok", "Output price"),
        StageColumn(
            "max_input_tokens", "max_input_tokens", "float", "Context", "tokens", 1, 0, 1e9
        ),
        StageColumn(
            "max_output_tokens", "max_output_tokens", "float", "Max output", "tokens", 1, 0, 1e9
        ),
        StageColumn("deprecation_date", "deprecation_date", "date", "Deprecation date"),
    ),
)

OPENROUTER_MODELS = StagingSchema(
    dataset="openrouter_models",
    description="OpenRouter's models response: one row per model with USD per 1M prompt and "
    "completion tokens, the provider (id prefix) and the date the model was added.",
    kind="claim",
    key=("model_id",),
    notes=(
        "Router entries (openrouter/auto ...) publish -1 as both prices (variable pricing): they "
        "are routers, not models, and are left out.",
    ),
    columns=(
        StageColumn("id", "model_id", "str", "OpenRouter model id", required=True),
        StageColumn("name", "name", "str", "Display name"),
        StageColumn("created", "created", "date", "Date OpenRouter added the model"),
        StageColumn("context_length", "context_tokens", "float", "Context", "tokens", 1, 0, 1e9),
        _usd_per_mtok("prompt", "input_usd_per_mtok", "Prompt (input) price"),
        _usd_per_mtok("completion", "output_usd_per_mtok", "Completion (output) price"),
    ),
)
