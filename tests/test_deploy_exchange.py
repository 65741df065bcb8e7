"""deploy/ wires the hub exchange consistently (nothing of deploy/ can run here: no Docker,
no Kubernetes; tests/test_hub_exchange.py runs the service behind a real hub)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from nbgrader.exchange import abc
from traitlets.utils.importstring import import_item

from autograd_lab_course.exchange.client import SERVICE_PATH, URL_ENV
from autograd_lab_course.exchange.nbgrader_plugin import CLASSES
from autograd_lab_course.exchange.service import SERVICE_NAME

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
VALUES = yaml.safe_load((DEPLOY / "values.yaml").read_text())
MANIFESTS = {doc["kind"]: doc for doc in yaml.safe_load_all(
    (DEPLOY / "exchange-service.yaml").read_text())}
#: the nbgrader abc base each ExchangeFactory trait takes
BASES = {"fetch_assignment": abc.ExchangeFetchAssignment,
         "fetch_feedback": abc.ExchangeFetchFeedback,
         "release_assignment": abc.ExchangeReleaseAssignment,
         "release_feedback": abc.ExchangeReleaseFeedback, "list": abc.ExchangeList,
         "submit": abc.ExchangeSubmit, "collect": abc.ExchangeCollect}


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_each_overlay_selects_an_existing_class_for_every_operation(role: str) -> None:
    config = json.loads((DEPLOY / "jupyter-config" / role / "nbgrader_config.json").read_text())
    factory = config["ExchangeFactory"]
    assert set(factory) == set(BASES) == set(CLASSES)
    for trait, dotted in factory.items():
        cls = import_item(dotted)
        assert cls is CLASSES[trait] and issubclass(cls, BASES[trait]), trait
    assert "Exchange" not in config  # no shared folder


def test_values_register_the_service_the_plugin_and_the_pod_name() -> None:
    hub = VALUES["hub"]
    service = hub["services"][SERVICE_NAME]
    k8s_service = MANIFESTS["Service"]
    port = k8s_service["spec"]["ports"][0]["port"]
    assert service["url"] == f"http://{k8s_service['metadata']['name']}:{port}"
    access = f"access:services!service={SERVICE_NAME}"
    assert access in hub["loadRoles"]["user"]["scopes"]
    assert access in hub["loadRoles"]["server"]["scopes"]
    assert hub["loadRoles"][SERVICE_NAME]["services"] == [SERVICE_NAME]
    assert hub["loadRoles"][SERVICE_NAME]["scopes"] == ["read:groups!group=instructors"]
    # the token: one secret, read by the hub and by the exchange pod
    secret = hub["extraEnv"]["AUTOGRAD_LAB_EXCHANGE_TOKEN"]["valueFrom"]["secretKeyRef"]
    container = MANIFESTS["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["JUPYTERHUB_API_TOKEN"]["valueFrom"]["secretKeyRef"] == secret
    assert env["JUPYTERHUB_SERVICE_NAME"]["value"] == SERVICE_NAME
    assert env["JUPYTERHUB_SERVICE_PREFIX"]["value"] == SERVICE_PATH
    assert "--instructor-group=instructors" in container["command"]
    assert 'c.JupyterHub.load_groups = {"instructors"' in hub["extraConfig"][
        "autograd-lab-roles"]
    url = VALUES["singleuser"]["extraEnv"][URL_ENV]
    assert url == f"http://{k8s_service['metadata']['name']}:{port}{SERVICE_PATH}"


def test_no_user_pod_mounts_an_exchange_volume() -> None:
    singleuser = VALUES["singleuser"]
    assert "extraVolumes" not in singleuser["storage"]
    assert "nbgrader" not in json.dumps(singleuser["storage"])
    assert "1777" not in (DEPLOY / "Dockerfile").read_text()
    claims = [d["metadata"]["name"] for d in yaml.safe_load_all(
        (DEPLOY / "exchange-pvc.yaml").read_text())]
    assert claims == ["autograd-lab-course"]
    store = MANIFESTS["PersistentVolumeClaim"]
    assert store["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert store["metadata"]["name"] not in (DEPLOY / "values.yaml").read_text()
