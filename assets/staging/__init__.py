"""Staging: each upstream payload typed into the project's units (``warehouse/clean/stg_*``)."""
