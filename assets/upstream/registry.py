"""The upstream datasets the pipeline ingests: official URL, shipped snapshot, licence and citation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines import settings

#: Folder of the snapshots shipped with the project (byte copies of the published files).
SHIPPED_DIR = settings.PROJECT_ROOT / "data" / "upstream"

EPOCH_LICENCE = "CC BY 4.0"
EPOCH_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
LITELLM_LICENCE = "MIT (Copyright (c) BerriAI)"
LITELLM_LICENCE_URL = "https://github.com/BerriAI/litellm/blob/main/LICENSE"
OPENROUTER_LICENCE = "none stated (third-party factual data; not redistributed beyond fixtures)"


def _epoch_citation(title: str, page: str) -> str:
    """Epoch AI's own citation form for one of its data hubs."""
    return (
        f"Epoch AI, '{title}'. Published online at epoch.ai. "
        f"Retrieved from '{page}' [online resource]."
    )


@dataclass(frozen=True)
class UpstreamDataset:
    """One published upstream file: where it lives online, the copy shipped here, and its terms."""

    id: str
    title: str
    publisher: str
    url: str
    page: str
    snapshot: str  # path relative to data/upstream/
    format: str  # "csv" | "json"
    licence: str
    licence_url: str
    citation: str
    #: When the shipped copy was retrieved (SOURCES.md); rows dated later are projections.
    snapshot_date: str = ""
    zip_url: str | None = None
    zip_member: str | None = None

    @property
    def shipped_path(self) -> Path:
        """The shipped snapshot file (used offline and before the first fetch)."""
        return SHIPPED_DIR / self.snapshot

    @property
    def file_name(self) -> str:
        """The payload's file name inside a stored snapshot folder."""
        return Path(self.snapshot).name

    @property
    def asset_name(self) -> str:
        """The name of the raw asset that stores this dataset's snapshots."""
        return f"raw_{self.id}"


_HW_PAGE = "https://epoch.ai/data/machine-learning-hardware"
_CLUSTERS_PAGE = "https://epoch.ai/data/gpu-clusters"
_DC_PAGE = "https://epoch.ai/data/ai-data-centers"
_SALES_PAGE = "https://epoch.ai/data/ai-chip-sales"
_MODELS_PAGE = "https://epoch.ai/data/ai-models"

DATASETS: tuple[UpstreamDataset, ...] = (
    UpstreamDataset(
        id="epoch_ml_hardware",
        snapshot_date="2026-07-19",
        title="Data on Machine Learning Hardware",
        publisher="Epoch AI",
        url="https://epoch.ai/data/ml_hardware.csv",
        page=_HW_PAGE,
        snapshot="epoch/ml_hardware/ml_hardware.csv",
        format="csv",
        licence=EPOCH_LICENCE,
        licence_url=EPOCH_LICENCE_URL,
        citation=_epoch_citation("Data on Machine Learning Hardware", _HW_PAGE),
        zip_url="https://epoch.ai/data/ml_hardware.zip",
        zip_member="ml_hardware.csv",
    ),
    UpstreamDataset(
        id="epoch_gpu_clusters",
        snapshot_date="2026-04-24",
        title="Data on GPU Clusters",
        publisher="Epoch AI",
        url="https://epoch.ai/data/gpu_clusters.csv",
        page=_CLUSTERS_PAGE,
        snapshot="epoch/gpu_clusters/gpu_clusters.csv",
        format="csv",
        licence=EPOCH_LICENCE,
        licence_url=EPOCH_LICENCE_URL,
        citation=_epoch_citation("Data on GPU Clusters", _CLUSTERS_PAGE),
        zip_url="https://epoch.ai/data/gpu_clusters.zip",
        zip_member="gpu_clusters.csv",
    ),
    UpstreamDataset(
        id="epoch_data_centers",
        snapshot_date="2026-10-01",
        title="AI Data Centers",
        publisher="Epoch AI",
        url="https://epoch.ai/data/data_centers/data_centers.csv",
        page=_DC_PAGE,
        snapshot="epoch/data_centers/data_centers.csv",
        format="csv",
        licence=EPOCH_LICENCE,
        licence_url=EPOCH_LICENCE_URL,
        citation=_epoch_citation("AI Data Centers", _DC_PAGE),
    ),
    UpstreamDataset(
        id="epoch_data_center_timelines",
        snapshot_date="2026-10-01",
        title="AI Data Centers (timelines)",
        publisher="Epoch AI",
        url="https://epoch.ai/data/data_centers/data_center_timelines.csv",
        page=_DC_PAGE,
        snapshot="epoch/data_centers/data_center_timelines.csv",
        format="csv",
        licence=EPOCH_LICENCE,
        licence_url=EPOCH_LICENCE_URL,
        citation=_epoch_citation("AI Data Centers", _DC_PAGE),
    ),
    UpstreamDataset(
        id="epoch_chip_sales_timelines",
        snapshot_date="2026-10-01",
        title="Data on AI Chip Sales (timelines by chip)",
        publisher="Epoch AI",
        url="https://epoch.ai/data/ai_chip_sales_timelines_by_chip.csv",
        page=_SALES_PAGE,
        snapshot="epoch/ai_chip_sales/ai_chip_sales_timelines_by_chip.csv",
        format="csv",
        licence=EPOCH_LICENCE,
        licence_url=EPOCH_LICENCE_URL,
        citation=_epoch_citation("Data on AI Chip Sales", _SALES_PAGE),
        zip_url="https://epoch.ai/data/ai_chip_sales.zip",
        zip_member="timelines_by_chip.csv",
    ),
    UpstreamDataset(
        id="epoch_chip_sales_chip_types",
        snapshot_date="2026-10-01",
        title="Data on AI Chip Sales (chip types)",
        publisher="Epoch AI",
        url="https://epoch.ai/data/ai_chip_sales_chip_types.csv",
        page=_SALES_PAGE,
        snapshot="epoch/ai_chip_sales/ai_chip_sales_chip_types.csv",
        format="csv",
        licence=EPOCH_LICENCE,
        licence_url=EPOCH_LICENCE_URL,
        citation=_epoch_citation("Data on AI Chip Sales", _SALES_PAGE),
        zip_url="https://epoch.ai/data/ai_chip_sales.zip",
        zip_member="chip_types.csv",
    ),
    UpstreamDataset(
        id="epoch_chip_sales_organizations",
        snapshot_date="2026-10-01",
        title="Data on AI Chip Sales (organizations)",
        publisher="Epoch AI",
        url="https://epoch.ai/data/ai_chip_sales_organizations.csv",
        page=_SALES_PAGE,
        snapshot="epoch/ai_chip_sales/ai_chip_sales_organizations.csv",
        format="csv",
        licence=EPOCH_LICENCE,
        licence_url=EPOCH_LICENCE_URL,
        citation=_epoch_citation("Data on AI Chip Sales", _SALES_PAGE),
    ),
    UpstreamDataset(
        id="epoch_notable_models",
        snapshot_date="2026-07-19",
        title="Data on AI Models (notable models)",
        publisher="Epoch AI",
        url="https://epoch.ai/data/notable_ai_models.csv",
        page=_MODELS_PAGE,
        snapshot="epoch/ai_models/notable_ai_models.csv",
        format="csv",
        licence=EPOCH_LICENCE,
        licence_url=EPOCH_LICENCE_URL,
        citation=_epoch_citation("Data on AI Models", _MODELS_PAGE),
        zip_url="https://epoch.ai/data/ai_models.zip",
        zip_member="notable_ai_models.csv",
    ),
    UpstreamDataset(
        id="litellm_prices",
        snapshot_date="2026-11-20",
        title="LiteLLM model prices and context windows",
        publisher="BerriAI (LiteLLM)",
        url="https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
        page="https://github.com/BerriAI/litellm",
        snapshot="litellm/model_prices_and_context_window.json",
        format="json",
        licence=LITELLM_LICENCE,
        licence_url=LITELLM_LICENCE_URL,
        citation=(
            "BerriAI, LiteLLM 'model_prices_and_context_window.json' (release 1.110.2, "
            "2026-11-20), https://github.com/BerriAI/litellm, MIT licence, Copyright (c) BerriAI."
        ),
    ),
    UpstreamDataset(
        id="openrouter_models",
        snapshot_date="2026-08-19",
        title="OpenRouter models API response",
        publisher="OpenRouter",
        url="https://openrouter.ai/api/v1/models",
        page="https://openrouter.ai/models",
        snapshot="openrouter/models.json",
        format="json",
        licence=OPENROUTER_LICENCE,
        licence_url="https://openrouter.ai/terms",
        citation=(
            "OpenRouter, https://openrouter.ai/api/v1/models, retrieved 2026-08 "
            "(via anuran-roy/unified-llm-pricing)."
        ),
    ),
)

BY_ID: dict[str, UpstreamDataset] = {dataset.id: dataset for dataset in DATASETS}


def dataset(dataset_id: str) -> UpstreamDataset:
    """The registry entry for one dataset id; a clear error naming the known ids otherwise."""
    try:
        return BY_ID[dataset_id]
    except KeyError:
        raise KeyError(
            f"unknown upstream dataset '{dataset_id}'; expected one of {sorted(BY_ID)}"
        ) from None
