"""Dagster assets: ingest (sources → clean), derived (rust_core metrics), report."""
