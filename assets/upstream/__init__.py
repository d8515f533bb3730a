"""Upstream connectors: one raw asset per published dataset, storing immutable snapshots."""

from assets.upstream.raw import ASSETS

__all__ = ["ASSETS"]
