"""The report: the claims ledger and the outlook page (``warehouse/report/``)."""

from assets.report.assets import ASSETS, MISSING_INPUTS

__all__ = ["ASSETS", "MISSING_INPUTS"]
