import pandas as pd

CHIP_INPUT_COLUMNS: tuple[str, ...]

def chip_metrics(chips: pd.DataFrame) -> pd.DataFrame: ...
