"""Declared staging schemas of Epoch AI's datasets (CC BY 4.0): upstream columns, project units, ranges.

Units follow the project: FLOP/s become TFLOPS (x 1e-12), OP/s TOPS, bytes GB (x 1e-9), byte/s
GB/s (x 1e-9), bit/s GB/s (x 1.25e-10), power stays W or MW. The ranges are plausibility bounds in
the project unit: a unit change upstream (FLOP/s published as TFLOPS) falls outside them.
"""

from __future__ import annotations

from assets.staging.frame import StageColumn, StagingSchema

FLOPS_TO_TFLOPS = 1e-12
BYTES_TO_GB = 1e-9
BITS_TO_GB = 1e-9 / 8


def _tflops(
    upstream: str, name: str, what: str, unit: str = "TFLOPS", top: float = 1e6
) -> StageColumn:
    return StageColumn(upstream, name, "float", what, unit, FLOPS_TO_TFLOPS, 0.01, top)


def _h100e(upstream: str, name: str, what: str) -> StageColumn:
    return StageColumn(upstream, name, "float", what, "H100e", 1.0, 0, 1e9)


ML_HARDWARE = StagingSchema(
    dataset="epoch_ml_hardware",
    description="Epoch AI's ML hardware database: one row per accelerator with peak throughput, "
    "memory, bandwidth, TDP and release date, in project units.",
    kind="spec",
    key=("hardware_name",),
    link_columns=("Link to datasheet", "Source for the price"),
    columns=(
        StageColumn("Hardware name", "hardware_name", "str", "Accelerator name", required=True),
        StageColumn("Manufacturer", "manufacturer", "str", "Designer as Epoch names it"),
        StageColumn("Type", "hardware_type", "str", "GPU, TPU, NPU, ..."),
        StageColumn("Release date", "release_date", "date", "Release date"),
        StageColumn(
            "Release price (USD)", "release_price_usd", "float", "Launch price", "USD", 1, 1, 1e7
        ),
        _tflops(
            "Tensor-FP16/BF16 performance (FLOP/s)",
            "bf16_dense_tflops",
            "Peak dense FP16/BF16 tensor throughput",
        ),
        _tflops("FP8 performance (FLOP/s)", "fp8_dense_tflops", "Peak FP8 throughput"),
        _tflops("FP4 performance (FLOP/s)", "fp4_dense_tflops", "Peak FP4 throughput"),
        _tflops("INT8 performance (OP/s)", "int8_dense_tops", "Peak INT8 throughput", "TOPS"),
        _tflops(
            "FP32 (single precision) performance (FLOP/s)", "fp32_tflops", "Peak FP32 throughput"
        ),
        StageColumn(
            "Memory (bytes)", "memory_gb", "float", "Memory capacity", "GB", BYTES_TO_GB, 0.01, 1e5
        ),
        StageColumn(
            "Memory bandwidth (byte/s)",
            "memory_bw_gbps",
            "float",
            "Memory bandwidth",
            "GB/s",
            BYTES_TO_GB,
            1,
            2e6,
        ),
        StageColumn(
            "Intranode bandwidth (byte/s)",
            "scale_up_gbps",
            "float",
            "Intranode (scale-up) bandwidth per chip",
            "GB/s",
            BYTES_TO_GB,
            0.1,
            1e5,
        ),
        StageColumn(
            "Internode bandwidth (bit/s)",
            "scale_out_gbps",
            "float",
            "Internode (scale-out) bandwidth per chip",
            "GB/s",
            BITS_TO_GB,
            0.1,
            1e4,
        ),
        StageColumn("TDP (W)", "tdp_w", "float", "Thermal design power", "W", 1, 1, 1e6),
        StageColumn("Foundry", "foundry", "str", "Foundry"),
        StageColumn("Process size (nm)", "process_nm", "float", "Process node", "nm", 1, 1, 1000),
        StageColumn("Last modified", "last_modified", "date", "When Epoch last edited the row"),
    ),
)

GPU_CLUSTERS = StagingSchema(
    dataset="epoch_gpu_clusters",
    description="Epoch AI's GPU clusters (AI supercomputers): size in H100e and chips, power, "
    "owner, country and status. Chinese systems are published anonymised without chip type.",
    kind="estimate",
    key=(),
    link_columns=("Source 1", "Source 2", "Source 3", "Source 4", "Source 5"),
    notes=(
        "All Chinese rows are published anonymised ('Anonymized Chinese System', no chip type).",
        "The live URL serves only rows with Include in Standard Analysis = True.",
    ),
    columns=(
        StageColumn("Name", "name", "str", "System name (anonymised for China)", required=True),
        StageColumn("Status", "status", "str", "Existing | Planned | Decommissioned"),
        StageColumn("Certainty", "certainty", "str", "Confirmed | Likely | Unlikely"),
        StageColumn("Single cluster?", "single_cluster", "str", "Yes | No | Unclear"),
        _h100e("H100 equivalents", "h100e", "Size in H100-equivalents"),
        StageColumn("Chip type (primary)", "chip_type_primary", "str", "Primary chip type"),
        StageColumn(
            "Chip quantity (primary)", "chips_primary", "float", "Primary chips", "chips", 1, 0, 1e8
        ),
        StageColumn("Chip type (secondary)", "chip_type_secondary", "str", "Secondary chip type"),
        StageColumn(
            "Chip quantity (secondary)",
            "chips_secondary",
            "float",
            "Secondary chips",
            "chips",
            1,
            0,
            1e8,
        ),
        StageColumn(
            "Total number of AI chips", "chips_total", "float", "All AI chips", "chips", 1, 0, 1e8
        ),
        StageColumn("GPU Supplier (primary)", "supplier_primary", "str", "Chip supplier"),
        StageColumn("Country", "country", "str", "Country as Epoch names it"),
        StageColumn("Owner", "owner", "str", "Owner"),
        StageColumn("Sector", "sector", "str", "Private | Public | Public/Private"),
        StageColumn("First Operational Date", "first_operational", "date", "First operational"),
        StageColumn(
            "Decommissioned Date (if applicable)", "decommissioned", "date", "Decommissioned"
        ),
        StageColumn(
            "Power Capacity (MW)",
            "power_mw",
            "float",
            "Facility power capacity (reported, else calculated)",
            "MW",
            1,
            0,
            1e5,
        ),
        StageColumn(
            "Calculated Power Capacity (MW)",
            "power_calculated_mw",
            "float",
            "Power capacity Epoch calculated from the chips",
            "MW",
            1,
            0,
            1e5,
        ),
        StageColumn(
            "Reported Power Capacity (MW)",
            "power_reported_mw",
            "float",
            "Power capacity reported by a source",
            "MW",
            1,
            0,
            1e5,
        ),
        StageColumn(
            "Hardware Cost", "hardware_cost_usd", "float", "Hardware cost", "USD", 1, 0, 1e13
        ),
        _tflops("16-bit OP/s", "bf16_tflops_total", "Total 16-bit throughput", top=1e12),
        _tflops("8-bit OP/s", "int8_tops_total", "Total 8-bit throughput", "TOPS", 1e12),
        StageColumn(
            "Include in Standard Analysis",
            "standard_analysis",
            "bool",
            "Epoch includes the row in its standard analysis",
        ),
        StageColumn("Exclude", "exclude", "bool", "Epoch marks the row excluded"),
    ),
)
DATA_CENTERS = StagingSchema(
    dataset="epoch_data_centers",
    description="Epoch AI's frontier AI data centers: current H100e, current IT power, capital "
    "cost, chip types, owner and country.",
    kind="estimate",
    key=("name",),
    link_columns=("Selected Sources",),
    notes=("`Current power (MW)` is IT power, not total facility power.",),
    columns=(
        StageColumn("Name", "name", "str", "Data center", required=True),
        StageColumn("Country", "country", "str", "Country"),
        StageColumn("Owner", "owner", "str", "Owner (with Epoch's confidence tags)"),
        StageColumn("Users", "users", "str", "Users (with Epoch's confidence tags)"),
        StageColumn("Project", "project", "str", "Project"),
        _h100e("Current H100 equivalents", "h100e_current", "Current H100-equivalents"),
        StageColumn(
            "Current power (MW)",
            "it_power_mw_current",
            "float",
            "Current IT power",
            "MW",
            1,
            0,
            1e5,
        ),
        StageColumn(
            "Current total capital cost (2025 USD billions)",
            "capex_busd_current",
            "float",
            "Current total capital cost",
            "billion 2025 USD",
            1,
            0,
            1e4,
        ),
        StageColumn("Current chip types", "chip_types_current", "str", "Chip types now"),
        StageColumn("All chip types", "chip_types_all", "str", "Chip types ever"),
        StageColumn("Address", "address", "str", "Address"),
    ),
)

DATA_CENTER_TIMELINES = StagingSchema(
    dataset="epoch_data_center_timelines",
    description="Epoch AI's data-center timelines: IT and facility power, H100e and cost at each "
    "dated step (rows after the snapshot date are Epoch's projections).",
    kind="estimate",
    key=("data_center", "date"),
    columns=(
        StageColumn("Data center", "data_center", "str", "Data center name", required=True),
        StageColumn("Date", "date", "date", "Date of the step", required=True),
        StageColumn("Construction status", "construction_status", "str", "Status text"),
        StageColumn(
            "Buildings operational", "buildings", "float", "Buildings operational", "", 1, 0, 1e3
        ),
        StageColumn("IT power (MW)", "it_power_mw", "float", "IT power", "MW", 1, 0, 1e5),
        StageColumn("Power (MW)", "facility_power_mw", "float", "Facility power", "MW", 1, 0, 1e5),
        _h100e("H100 equivalents", "h100e", "H100-equivalents"),
        StageColumn(
            "Total capital cost (2025 USD billions)",
            "capex_busd",
            "float",
            "Total capital cost",
            "billion 2025 USD",
            1,
            0,
            1e4,
        ),
    ),
)

CHIP_SALES_TIMELINES = StagingSchema(
    dataset="epoch_chip_sales_timelines",
    description="Epoch AI's AI chip sales: units and H100e sold per chip type per quarter with "
    "5th/95th percentiles; `incomplete` marks partial quarters.",
    kind="estimate",
    key=("chip_type", "start_date"),
    link_columns=("Source / Link",),
    notes=(
        "Huawei unit intervals are called 'relatively unprincipled' by Epoch.",
        "Quarters flagged Incomplete are partial.",
    ),
    columns=(
        StageColumn("Name", "name", "str", "Row name as published"),
        StageColumn("Chip manufacturer", "manufacturer", "str", "Chip designer", required=True),
        StageColumn(
            "Chip type (linked)", "chip_type", "str", "Chip type (join key)", required=True
        ),
        StageColumn("Start date", "start_date", "date", "Quarter start", required=True),
        StageColumn("End date", "end_date", "date", "Quarter end", required=True),
        StageColumn("Incomplete", "incomplete", "bool", "Epoch flags the quarter incomplete"),
        StageColumn("Number of Units", "units", "float", "Units (median)", "chips", 1, 0, 1e9),
        StageColumn(
            "Number of Units (5th percentile)",
            "units_p5",
            "float",
            "Units, 5th pct",
            "chips",
            1,
            0,
            1e9,
        ),
        StageColumn(
            "Number of Units (95th percentile)",
            "units_p95",
            "float",
            "Units, 95th pct",
            "chips",
            1,
            0,
            1e9,
        ),
        _h100e("Compute estimate in H100e (median)", "h100e", "H100e sold (median)"),
        _h100e("H100e (5th percentile)", "h100e_p5", "H100e sold, 5th percentile"),
        _h100e("H100e (95th percentile)", "h100e_p95", "H100e sold, 95th percentile"),
        StageColumn("Chip TDP (W)", "chip_tdp_w", "float", "TDP per chip", "W", 1, 1, 1e5),
        StageColumn("Chip Cost (USD)", "chip_cost_usd", "float", "Cost per chip", "USD", 1, 0, 1e7),
        StageColumn("Notes", "epoch_note", "str", "Epoch's note"),
        StageColumn("Last Modified", "last_modified", "date", "When Epoch last edited the row"),
    ),
)

CHIP_SALES_CHIP_TYPES = StagingSchema(
    dataset="epoch_chip_sales_chip_types",
    description="Epoch AI's chip types of the sales data: designer, China-market flag, H100e "
    "factor per chip, link to the ML hardware row.",
    kind="estimate",
    key=("name",),
    columns=(
        StageColumn("Name", "name", "str", "Chip type", required=True),
        StageColumn("ML Hardware (linked)", "ml_hardware_name", "str", "ML hardware row name"),
        StageColumn("Designer", "designer", "str", "Designer"),
        StageColumn(
            "Primarily for Chinese market",
            "china_market",
            "bool",
            "Made primarily for the Chinese market",
        ),
        _tflops("16-bit FLOP/s", "bf16_dense_tflops", "16-bit throughput"),
        _tflops("8-bit OP/s", "int8_dense_tops", "8-bit throughput", "TOPS"),
        StageColumn("Memory", "memory_gb", "float", "Memory", "GB", BYTES_TO_GB, 0.01, 1e5),
        StageColumn(
            "Memory bandwidth", "memory_bw_gbps", "float", "Bandwidth", "GB/s", BYTES_TO_GB, 1, 2e6
        ),
        StageColumn("H100e", "h100e_per_chip", "float", "H100e per chip", "H100e/chip", 1, 0, 1e3),
        StageColumn("Release date", "release_date", "date", "Release date"),
    ),
)

CHIP_SALES_ORGANIZATIONS = StagingSchema(
    dataset="epoch_chip_sales_organizations",
    description="Epoch AI's organisations of the sales data: country and chip types per designer.",
    kind="estimate",
    key=("name",),
    columns=(
        StageColumn("Name", "name", "str", "Organisation", required=True),
        StageColumn("Country", "country", "str", "Country"),
        StageColumn("Type", "org_type", "str", "Chip designer, compute owner"),
        StageColumn("Chip types", "chip_types", "str", "Comma list of chip types"),
    ),
)

NOTABLE_MODELS = StagingSchema(
    dataset="epoch_notable_models",
    description="Epoch AI's notable AI models: organisation, country, date, training compute and "
    "training hardware.",
    kind="estimate",
    key=(),
    link_columns=("Link",),
    columns=(
        StageColumn("Model", "model", "str", "Model name", required=True),
        StageColumn("Organization", "organization", "str", "Developer"),
        StageColumn("Country (of organization)", "country", "str", "Comma list of countries"),
        StageColumn("Publication date", "publication_date", "date", "Publication date"),
        StageColumn("Domain", "domain", "str", "Domain"),
        StageColumn("Parameters", "parameters", "float", "Parameters", "parameters", 1, 0, 1e16),
        StageColumn(
            "Training compute (FLOP)",
            "training_compute_flop",
            "float",
            "Training compute",
            "FLOP",
            1,
            0,
            1e32,
        ),
        StageColumn("Training hardware", "training_hardware", "str", "Comma list of hardware"),
        StageColumn(
            "Hardware quantity", "hardware_quantity", "float", "Chips used", "chips", 1, 0, 1e8
        ),
        StageColumn(
            "Training power draw (W)", "training_power_w", "float", "Power draw", "W", 1, 0, 1e11
        ),
        StageColumn("Confidence", "confidence", "str", "Epoch's confidence in the compute"),
        StageColumn("Frontier model", "frontier_model", "bool", "Epoch flags it a frontier model"),
    ),
)

EPOCH_SCHEMAS: tuple[StagingSchema, ...] = (
    ML_HARDWARE,
    GPU_CLUSTERS,
    DATA_CENTERS,
    DATA_CENTER_TIMELINES,
    CHIP_SALES_TIMELINES,
    CHIP_SALES_CHIP_TYPES,
    CHIP_SALES_ORGANIZATIONS,
    NOTABLE_MODELS,
)
