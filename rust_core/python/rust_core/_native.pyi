import numpy as np
import numpy.typing as npt

def chip_metrics(
    peak_tflops: npt.NDArray[np.float64],
    memory_bw_gbps: npt.NDArray[np.float64],
    interconnect_gbps: npt.NDArray[np.float64],
    tdp_w: npt.NDArray[np.float64],
    price_usd: npt.NDArray[np.float64],
) -> dict[str, npt.NDArray[np.float64]]: ...
