"""The Kubernetes configuration is loaded and validated (no cluster here): Helm values against the
chart's key names, the instance dagster.yaml the chart renders from them against Dagster's schema,
the run pod's Job manifest built by dagster-k8s, and the per-step executor run config."""

from __future__ import annotations

import tomllib

import dagster as dg
import kubernetes
import pytest
import yaml
from dagster._config import process_config, validate_config
from dagster._core.instance.config import dagster_instance_config_schema
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
)
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from pipelines import settings
from pipelines.definitions import defs
from pipelines.executors import EXECUTOR_ENV

from .procs import PROJECT_ROOT

K8S = PROJECT_ROOT / "deploy" / "k8s"
RELEASE = "outlook"
NAMESPACE = "outlook"

#: Top-level and nested key names of the official chart's values schema (dagster chart 1.13).
CHART_TOP_LEVEL = {
    "global", "dagsterWebserver", "dagster-user-deployments", "postgresql",
    "generatePostgresqlPasswordSecret", "generateCeleryConfigSecret", "rabbitmq", "redis",
    "flower", "ingress", "imagePullSecrets", "computeLogManager", "scheduler", "runLauncher",
    "pythonLogs", "dagsterDaemon", "busybox", "migrate", "telemetry", "serviceAccount",
    "retention", "concurrency", "additionalInstanceConfig",
}  # fmt: skip
CHART_K8S_RUN_LAUNCHER = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
    "envConfigMaps", "envSecrets", "envVars", "volumeMounts", "volumes", "labels",
    "failPodOnRunFailure", "resources", "schedulerName", "securityContext", "runK8sConfig",
}  # fmt: skip
CHART_RUN_K8S_CONFIG = {
    "containerConfig", "podSpecConfig", "podTemplateSpecMetadata", "jobSpecConfig", "jobMetadata",
}  # fmt: skip
CHART_USER_DEPLOYMENT = {
    "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns",
    "port", "env", "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity",
    "tolerations", "podSecurityContext", "securityContext", "resources", "livenessProbe",
    "readinessProbe", "startupProbe", "labels", "volumeMounts", "volumes", "schedulerName",
}  # fmt: skip
CHART_POSTGRESQL = {
    "image", "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword",
    "postgresqlDatabase", "postgresqlParams", "postgresqlScheme", "service",
}  # fmt: skip
CHART_DAEMON = {
    "enabled", "image", "runCoordinator", "heartbeatTolerance", "env", "envConfigMaps",
    "envSecrets", "deploymentLabels", "labels", "nodeSelector", "affinity", "tolerations",
    "podSecurityContext", "securityContext", "resources", "checkDbReadyInitContainer",
    "livenessProbe", "readinessProbe", "startupProbe", "annotations", "runMonitoring",
    "runRetries", "sensors", "schedules", "backfills", "schedulerName", "logFormat",
    "volumeMounts", "volumes", "initContainerResources", "extraContainers",
    "extraPrependedInitContainers",
}  # fmt: skip
CHART_QUEUED_COORDINATOR = {
    "maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds", "dequeueNumWorkers",
    "dequeueUseThreads", "blockOpConcurrencyLimitedRuns",
}  # fmt: skip


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((K8S / "values.yaml").read_text(encoding="utf-8"))


def render_instance(values: dict) -> dict:
    """The instance dagster.yaml the chart's configmap-instance template writes for these values
    (the sections these values use), with the chart's camelCase → snake_case mapping."""
    pg = values["postgresql"]
    pg_config = {
        "postgres_db": {
            "username": pg["postgresqlUsername"],
            "password": {"env": "DAGSTER_PG_PASSWORD"},
            "hostname": pg["postgresqlHost"],
            "db_name": pg["postgresqlDatabase"],
            "port": pg["service"]["port"],
            "params": pg.get("postgresqlParams", {}),
            "scheme": pg["postgresqlScheme"],
        }
    }
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    run_k8s = launcher.get("runK8sConfig", {})
    launcher_config = {
        "load_incluster_config": launcher["loadInclusterConfig"],
        "job_namespace": launcher.get("jobNamespace") or NAMESPACE,
        "image_pull_policy": launcher["imagePullPolicy"],
        "service_account_name": values["global"]["serviceAccountName"],
        "dagster_home": values["global"]["dagsterHome"],
        "instance_config_map": f"{RELEASE}-dagster-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
        "env_secrets": [s["name"] for s in launcher.get("envSecrets", [])],
        "resources": launcher["resources"],
        "run_k8s_config": {
            "job_spec_config": run_k8s.get("jobSpecConfig"),
            "pod_template_spec_metadata": run_k8s.get("podTemplateSpecMetadata"),
            "container_config": run_k8s.get("containerConfig"),
            "pod_spec_config": run_k8s.get("podSpecConfig"),
            "job_metadata": run_k8s.get("jobMetadata"),
        },
    }
    launcher_config["run_k8s_config"] = {
        k: v for k, v in launcher_config["run_k8s_config"].items() if v
    }
    daemon = values["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    monitoring = daemon["runMonitoring"]
    retries = daemon["runRetries"]
    retention = values["retention"]
    return {
        "scheduler": {
            "module": "dagster._core.scheduler",
            "class": "DagsterDaemonScheduler",
        },
        "schedule_storage": {
            "module": "dagster_postgres.schedule_storage",
            "class": "PostgresScheduleStorage",
            "config": pg_config,
        },
        "run_storage": {
            "module": "dagster_postgres.run_storage",
            "class": "PostgresRunStorage",
            "config": pg_config,
        },
        "event_log_storage": {
            "module": "dagster_postgres.event_log",
            "class": "PostgresEventLogStorage",
            "config": pg_config,
        },
        "run_launcher": {
            "module": "dagster_k8s",
            "class": "K8sRunLauncher",
            "config": launcher_config,
        },
        "run_coordinator": {
            "module": "dagster._core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {
                "max_concurrent_runs": queued["maxConcurrentRuns"],
                "tag_concurrency_limits": queued["tagConcurrencyLimits"],
            },
        },
        "run_monitoring": {
            "enabled": monitoring["enabled"],
            "start_timeout_seconds": monitoring["startTimeoutSeconds"],
            "max_resume_run_attempts": monitoring["maxResumeRunAttempts"],
            "poll_interval_seconds": monitoring["pollIntervalSeconds"],
            "free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"],
        },
        "run_retries": {
            "enabled": retries["enabled"],
            "max_retries": retries["maxRetries"],
            "retry_on_asset_or_op_failure": retries["retryOnAssetOrOpFailure"],
        },
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
        "retention": {
            "schedule": {"purge_after_days": retention["schedule"]["purgeAfterDays"]},
            "sensor": {"purge_after_days": retention["sensor"]["purgeAfterDays"]},
        },
    }


def test_values_use_only_keys_of_the_official_chart(values):
    assert set(values) <= CHART_TOP_LEVEL, set(values) - CHART_TOP_LEVEL
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert set(launcher["config"]) == {"k8sRunLauncher"}
    k8s = launcher["config"]["k8sRunLauncher"]
    assert set(k8s) <= CHART_K8S_RUN_LAUNCHER, set(k8s) - CHART_K8S_RUN_LAUNCHER
    assert set(k8s["runK8sConfig"]) <= CHART_RUN_K8S_CONFIG
    for deployment in values["dagster-user-deployments"]["deployments"]:
        assert set(deployment) <= CHART_USER_DEPLOYMENT, set(deployment) - CHART_USER_DEPLOYMENT
    assert set(values["postgresql"]) <= CHART_POSTGRESQL
    daemon = values["dagsterDaemon"]
    assert set(daemon) <= CHART_DAEMON, set(daemon) - CHART_DAEMON
    coordinator = daemon["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    assert set(coordinator["config"]["queuedRunCoordinator"]) <= CHART_QUEUED_COORDINATOR


def test_values_hold_no_secret_and_reference_existing_secrets(values):
    assert values["postgresql"]["enabled"] is False
    assert "postgresqlPassword" not in values["postgresql"]
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    for path, key, value in walk(values):
        lowered = key.lower()
        if key.startswith("generate"):
            assert value is False, f"{path}: the chart must not invent a Secret"
            continue
        assert "password" not in lowered and "token" not in lowered, f"{path}: a credential"
        if "secret" in lowered:
            # Only references to Secrets by name: envSecrets lists, *SecretName, generate* flags.
            assert (
                key == "envSecrets" or key.endswith("SecretName") or key.startswith("generate")
            ), path
            assert not isinstance(value, str) or value.startswith("outlook-"), path


def walk(node, path=""):
    """Every (path, key, value) of a nested mapping/list structure."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, str(key), value
            yield from walk(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


def test_code_server_runs_this_project_with_its_settings(values):
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    module = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["dagster"][
        "module_name"
    ]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", module]
    assert deployment["image"]["tag"] not in ("", "latest")
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert set(env) <= {settings.SOURCES_ENV, settings.WAREHOUSE_ENV, EXECUTOR_ENV}
    assert env[EXECUTOR_ENV] in ("in_process", "multiprocess", "celery", "k8s")
    assert "://" in env[settings.WAREHOUSE_ENV], "run pods share the warehouse: an object store URL"


def test_rendered_instance_config_is_valid_for_dagster_and_dagster_k8s(values):
    instance = render_instance(values)
    result = validate_config(dagster_instance_config_schema(), instance)
    assert result.success, [e.message for e in result.errors]

    launcher = process_config(K8sRunLauncher.config_type(), instance["run_launcher"]["config"])
    assert launcher.success, [e.message for e in launcher.errors]
    for storage in (PostgresRunStorage, PostgresEventLogStorage, PostgresScheduleStorage):
        checked = validate_config(storage.config_type(), instance["run_storage"]["config"])
        assert checked.success, (storage.__name__, [e.message for e in checked.errors])

    # The same policy as the single-machine instance: retries of crashed runs only, no telemetry.
    project = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert instance["run_retries"] == project["run_retries"]
    assert instance["telemetry"] == project["telemetry"]


def test_run_pod_job_manifest_builds_with_resources_and_secrets(values):
    """The Kubernetes Job dagster-k8s would submit for a run, built from the rendered values."""
    config = process_config(
        K8sRunLauncher.config_type(), render_instance(values)["run_launcher"]["config"]
    ).value
    job_fields = set(DagsterK8sJobConfig._fields)
    job_config = DagsterK8sJobConfig(
        job_image="registry.example.com/compute-outlook:0.1.0",
        **{k: v for k, v in config.items() if k in job_fields and k != "job_image"},
    )
    user_defined = UserDefinedDagsterK8sConfig.from_dict(config["run_k8s_config"])
    job = construct_dagster_k8s_job(
        job_config,
        args=["dagster", "api", "execute_run", "{}"],
        job_name="dagster-run-0123456789",
        user_defined_k8s_config=user_defined,
        component="run_worker",
    )
    manifest = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    spec = manifest["spec"]
    assert spec["backoffLimit"] == 0 and spec["ttlSecondsAfterFinished"] == 86400
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["resources"] == values["runLauncher"]["config"]["k8sRunLauncher"]["resources"]
    secrets = {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
    assert "outlook-warehouse-credentials" in secrets
    env = {e["name"]: e for e in container["env"]}
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "outlook-postgresql"
    assert pod["serviceAccountName"] == values["global"]["serviceAccountName"]
    labels = spec["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "compute-outlook"
    for quantity in (
        *container["resources"]["requests"].values(),
        *container["resources"]["limits"].values(),
    ):
        kubernetes.utils.parse_quantity(quantity)


def test_per_step_executor_run_config_is_valid_and_names_real_steps():
    run_config = yaml.safe_load((K8S / "k8s-executor.yaml").read_text(encoding="utf-8"))
    executor_config = run_config["execution"]["config"]
    result = process_config(k8s_job_executor.config_schema.config_type, executor_config)
    assert result.success, [e.message for e in result.errors]
    step_keys = set()
    for job in defs.jobs or []:
        resolved = defs.resolve_job_def(job.name)
        step_keys |= {node.name for node in resolved.nodes_in_topological_order}
    assert set(executor_config["per_step_k8s_config"]) <= step_keys
    for step_config in (
        executor_config["step_k8s_config"],
        *executor_config["per_step_k8s_config"].values(),
    ):
        UserDefinedDagsterK8sConfig.from_dict(step_config)
        for quantity in step_config["container_config"]["resources"]["requests"].values():
            kubernetes.utils.parse_quantity(quantity)


def test_k8s_executor_is_selectable(monkeypatch):
    from pipelines.executors import executor_from_env

    monkeypatch.setenv(EXECUTOR_ENV, "k8s")
    assert executor_from_env() is k8s_job_executor
    assert isinstance(executor_from_env(), dg.ExecutorDefinition)
