"""Compute logs of the command line's in-process runs, captured to files without a terminal
mirror: Dagster's local compute log manager mirrors each run's stdout and stderr back to the
terminal through a ``tail -F`` and a Python watcher process per stream, four processes and about
0.05 s of CPU a run; the command line prints each run's outcome and failed steps itself."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import dagster as dg
from dagster._core.execution.compute_logs import redirect_to_file
from dagster._core.storage.compute_log_manager import CapturedLogContext, ComputeIOType
from dagster._core.storage.local_compute_log_manager import (
    IO_TYPE_EXTENSION,
    LocalComputeLogManager,
)
from dagster._serdes import ConfigurableClassData
from dagster._utils import ensure_file, touch_file

_LOCAL = (LocalComputeLogManager.__module__, LocalComputeLogManager.__name__)


class FileComputeLogManager(LocalComputeLogManager):
    """Dagster's local compute log manager (same files, same reading in the UI) whose capture
    redirects stdout and stderr to the run's log files without mirroring them to the terminal."""

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> FileComputeLogManager:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[CapturedLogContext]:
        out = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[ComputeIOType.STDOUT])
        err = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[ComputeIOType.STDERR])
        ensure_file(out)
        ensure_file(err)
        with redirect_to_file(sys.stdout, out), redirect_to_file(sys.stderr, err):
            yield CapturedLogContext(log_key)
        touch_file(self.complete_artifact_path(log_key))  # what marks the capture complete


def captured_to_files(instance: dg.DagsterInstance) -> dg.DagsterInstance:
    """The instance with its local compute logs captured by `FileComputeLogManager` (same
    folder); an instance with any other compute log manager, or none from a file, as it is."""
    if not instance.is_persistent:  # an ephemeral instance has no reference to rebuild it from
        return instance
    ref = instance.get_ref()
    logs = ref.compute_logs_data
    if logs is None or (logs.module_name, logs.class_name) != _LOCAL:
        return instance
    files = ConfigurableClassData(__name__, FileComputeLogManager.__name__, logs.config_yaml)
    return dg.DagsterInstance.from_ref(ref._replace(compute_logs_data=files))
