"""The example instance configs of deploy/ (Kubernetes, Docker) as far as a machine without a
cluster or a Docker daemon can take them: Dagster's instance schema, each run launcher's own
schema, a real instance built from each file on Postgres, the Kubernetes Job a run would become,
and the run queue, tag limits and `tiktok_api` pool of the production dagster.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.utils import parse_env_var
from dagster._core.workspace.config_schema import process_workspace_config
from dagster._serdes import class_from_code_pointer
from dagster_docker import DockerRunLauncher
from dagster_docker.container_context import DockerContainerContext
from dagster_k8s import K8sRunLauncher
from dagster_k8s.job import construct_dagster_k8s_job, get_job_name_from_run_id

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ROOT / "dagster.yaml"
DEPLOY = {
    "docker": ROOT / "deploy" / "docker" / "dagster.yaml",
    "k8s": ROOT / "deploy" / "k8s" / "dagster.yaml",
}
LAUNCHERS = {"docker": DockerRunLauncher, "k8s": K8sRunLauncher}
IMAGE = "registry.example.com/tiktok-pipeline:1.4.0"
#: Sections that must read exactly as in production: storage, run queue and pools, retries...
SAME_AS_PRODUCTION = (
    "storage",
    "run_coordinator",
    "concurrency",
    "run_retries",
    "retention",
    "schedules",
    "sensors",
    "telemetry",
)
#: A kubeconfig that names a cluster without contacting it (the launcher only parses it).
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: test
  user: {token: not-a-real-token}
contexts:
- name: test
  context: {cluster: test, user: test}
current-context: test
"""


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _home(tmp_path: Path, config: dict[str, Any]) -> str:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return str(home)


@pytest.fixture
def deploy_env(monkeypatch, tmp_path):
    """The variables the deploy configs read, as the daemon's container would have them."""
    monkeypatch.setenv("TIKTOK_PIPELINE_IMAGE", IMAGE)
    for name in ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_TOKEN_KEY", "TIKTOK_DATABASE_URL"):
        monkeypatch.setenv(name, f"{name.lower()}-value")
    monkeypatch.setenv("TIKTOK_WAREHOUSE_URL", "postgresql+psycopg2://tiktok@db:5432/warehouse")


@pytest.mark.parametrize("target", sorted(DEPLOY))
def test_each_config_passes_the_instance_schema(target, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(DEPLOY[target], home / "dagster.yaml")
    config, _ = dagster_instance_config(str(home))
    assert config["run_launcher"]["class"] == LAUNCHERS[target].__name__
    # The same check rejects a misspelt section, so passing it means something.
    (home / "dagster.yaml").write_text(
        DEPLOY[target].read_text().replace("run_monitoring:", "run_monitorin:")
    )
    with pytest.raises(dg.DagsterInvalidConfigError):
        dagster_instance_config(str(home))


@pytest.mark.parametrize("target", sorted(DEPLOY))
def test_each_run_launcher_section_passes_its_launchers_schema(target, deploy_env):
    section = _yaml(DEPLOY[target])["run_launcher"]
    launcher = class_from_code_pointer(section["module"], section["class"])
    assert launcher is LAUNCHERS[target]
    result = process_config(launcher.config_type(), section["config"])
    assert result.success, result.errors
    misspelt = {**section["config"], "env_var": ["X"]}
    assert not process_config(launcher.config_type(), misspelt).success


@pytest.mark.parametrize("target", sorted(DEPLOY))
def test_queue_limits_pools_and_retries_are_the_production_ones(target):
    production, deploy = _yaml(PRODUCTION), _yaml(DEPLOY[target])
    for section in SAME_AS_PRODUCTION:
        assert deploy[section] == production[section], section
    pools = deploy["concurrency"]["pools"]
    assert pools == {"default_limit": 4, "granularity": "op"}
    monitoring, production_monitoring = deploy["run_monitoring"], production["run_monitoring"]
    assert monitoring["enabled"] is True
    for setting in ("max_runtime_seconds", "free_slots_after_run_end_seconds"):
        assert monitoring[setting] == production_monitoring[setting]
    assert monitoring["start_timeout_seconds"] >= production_monitoring["start_timeout_seconds"]


def test_the_docker_workspace_names_the_code_location_of_the_repository():
    result = process_workspace_config(_yaml(ROOT / "deploy" / "docker" / "workspace.yaml"))
    assert result.success, result.errors
    (entry,) = result.value["load_from"]
    (local,) = _yaml(ROOT / "workspace.yaml")["load_from"]
    assert entry["grpc_server"]["location_name"] == local["python_module"]["location_name"]


def _assert_production_queue(instance: dg.DagsterInstance) -> None:
    production = _yaml(PRODUCTION)["concurrency"]
    coordinator = instance.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    dequeue = _yaml(PRODUCTION)["run_coordinator"]["config"]["dequeue_interval_seconds"]
    assert coordinator.dequeue_interval_seconds == dequeue
    concurrency = instance.get_concurrency_config()
    queue = concurrency.run_queue_config
    assert queue is not None
    assert queue.max_concurrent_runs == production["runs"]["max_concurrent_runs"]
    assert list(queue.tag_concurrency_limits) == production["runs"]["tag_concurrency_limits"]
    pools = concurrency.pool_config
    assert pools.default_pool_limit == production["pools"]["default_limit"]
    assert pools.pool_granularity is not None
    assert pools.pool_granularity.value == production["pools"]["granularity"]
    assert instance.run_monitoring_enabled
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"


@pytest.mark.postgres
def test_the_docker_config_makes_an_instance_whose_runs_get_the_pipelines_settings(
    postgres_url, deploy_env, monkeypatch, tmp_path
):
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_url)
    home = _home(tmp_path, _yaml(DEPLOY["docker"]))
    with dg.DagsterInstance.from_config(home) as instance:
        _assert_production_queue(instance)
        launcher = instance.run_launcher
        assert isinstance(launcher, DockerRunLauncher)
        assert launcher.image == IMAGE
        run = dg.DagsterRun(job_name="tiktok_sync_job", run_id="0" * 36)
        context = DockerContainerContext.create_for_run(run, launcher)
        assert context.networks == ["tiktok-pipeline"]
        assert context.container_kwargs["mem_limit"] == "1g"
        # What the launcher hands the container: every variable the pipeline needs.
        environment = dict(parse_env_var(name) for name in context.env_vars)
        assert environment["DAGSTER_PG_URL"] == postgres_url
        assert set(environment) == {
            "DAGSTER_PG_URL",
            "TIKTOK_APP_KEY",
            "TIKTOK_APP_SECRET",
            "TIKTOK_TOKEN_KEY",
            "TIKTOK_DATABASE_URL",
            "TIKTOK_WAREHOUSE_URL",
        }


@pytest.mark.postgres
def test_the_k8s_config_makes_an_instance_whose_runs_become_a_valid_kubernetes_job(
    postgres_url, deploy_env, monkeypatch, tmp_path
):
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_url)
    config = _yaml(DEPLOY["k8s"])
    # The only change: no cluster here, so the launcher reads a kubeconfig instead of the
    # in-cluster service account (it parses the file; nothing is contacted).
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    config["run_launcher"]["config"].update(
        load_incluster_config=False, kubeconfig_file=str(kubeconfig)
    )
    with dg.DagsterInstance.from_config(_home(tmp_path, config)) as instance:
        _assert_production_queue(instance)
        launcher = instance.run_launcher
        assert isinstance(launcher, K8sRunLauncher)
        run = dg.DagsterRun(job_name="tiktok_sync_job", run_id="1" * 36)
        # What launch_run builds before it calls the Kubernetes API: the run worker's Job,
        # made with the kubernetes client's models (a wrong field name fails here).
        context = launcher.get_container_context_for_run(run)
        job = construct_dagster_k8s_job(
            job_config=context.get_k8s_job_config(job_image=None, run_launcher=launcher),
            args=["dagster", "api", "execute_run", "{}"],
            job_name=get_job_name_from_run_id(run.run_id),
            pod_name=get_job_name_from_run_id(run.run_id),
            component="run_worker",
            user_defined_k8s_config=context.run_k8s_config,
        )
    assert context.namespace == "tiktok-pipeline"
    pod = job.spec.template.spec
    assert pod.service_account_name == "tiktok-pipeline-runs"
    (container,) = pod.containers
    assert container.image == IMAGE
    assert container.resources.requests == {"cpu": "500m", "memory": "512Mi"}
    assert container.resources.limits == {"memory": "1Gi"}
    secrets = [source.secret_ref.name for source in container.env_from if source.secret_ref]
    maps = [source.config_map_ref.name for source in container.env_from if source.config_map_ref]
    assert secrets == ["tiktok-pipeline-env"]
    assert maps == ["tiktok-pipeline-settings"]
    # The run worker gets the instance in its arguments; its storage reads DAGSTER_PG_URL from
    # the secret above.
    assert {variable.name for variable in container.env} >= {"DAGSTER_HOME"}
    assert job.spec.backoff_limit == 0
