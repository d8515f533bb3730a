"""Upstream connectors: one raw asset per published dataset, storing immutable snapshots."""
