from typing import Any

import pandas as pd

CHIP_INPUT_COLUMNS: tuple[str, ...]
TRAIN_INPUT_COLUMNS: tuple[str, ...]
TRAIN_CONSTANT_COLUMNS: tuple[str, ...]
TRAIN_LAYOUT_COLUMNS: tuple[str, ...]

def calibration() -> dict[str, Any]: ...
def chip_metrics(chips: pd.DataFrame) -> pd.DataFrame: ...
def train_scenarios(scenarios: pd.DataFrame | Any) -> pd.DataFrame: ...
