import numpy as np
import numpy.typing as npt

Columns = dict[str, npt.NDArray[np.float64]]

def chip_metrics(
    peak_tflops: npt.NDArray[np.float64],
    memory_bw_gbps: npt.NDArray[np.float64],
    interconnect_gbps: npt.NDArray[np.float64],
    tdp_w: npt.NDArray[np.float64],
    price_usd: npt.NDArray[np.float64],
) -> dict[str, npt.NDArray[np.float64]]: ...
def calibration_json() -> str: ...
def train_scenarios(columns: Columns, rows: int) -> Columns: ...
