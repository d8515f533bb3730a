"""The command line turns Python's garbage collector off while it loads its modules and on again
afterwards, whether the command ran or stopped early."""

from __future__ import annotations

import gc

from pipelines import cli


def test_the_collector_is_on_again_after_a_command_that_stopped_early(monkeypatch):
    seen = []

    def refused() -> bool:
        seen.append(gc.isenabled())
        return False

    monkeypatch.setattr(cli, "_checked_instance", refused)
    assert gc.isenabled()
    assert cli.main(["run"]) == 1
    assert seen == [False]  # off while the command loaded and checked
    assert gc.isenabled()


def test_check_sources_collects_once_its_modules_are_loaded(monkeypatch, capsys):
    import assets.ingest.factory

    seen = []

    def validate_all(specs):
        seen.append(gc.isenabled())
        return []

    monkeypatch.setattr(assets.ingest.factory, "validate_all", validate_all)
    assert cli.main(["check-sources"]) == 0
    assert seen == [True]
    assert gc.isenabled()
