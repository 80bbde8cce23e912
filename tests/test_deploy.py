"""`deploy/`: the Kubernetes manifests are valid and fit together, and the Dockerfile's commands
and the ConfigMap's variables are the real CLI's.

Docker itself is not run here (there is none on these machines): the Dockerfile is read, and
its corpus build, its command, its environment and its health check are run as the image would.
"""

from __future__ import annotations

import base64
import copy
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from sanic_mock.cli import click_command
from sanic_mock.corpus import io
from tests.servers import free_port, running

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
K8S = DEPLOY / "k8s"
# The oldest Kubernetes release still maintained when this was written, and the newest schemas
# kubernetes-validate ships (it needs no network: the schemas are in the package).
VERSIONS = ["1.31.0", kubernetes_validate.latest_version()]


def _manifests() -> dict[str, dict[str, Any]]:
    """Every resource of deploy/k8s by kind (one of each)."""
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            key = doc["kind"] if doc["kind"] != "ConfigMap" else doc["metadata"]["name"]
            found[key] = doc
    return found


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    instructions = [tuple(line.split(None, 1)) for line in lines if line and line[0] != "#"]
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return [(name, rest) for name, rest in instructions[last_from:]]  # type: ignore[misc]


def _docker_env() -> dict[str, str]:
    env = {}
    for name, rest in _dockerfile():
        if name == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
    return env


def _serve_envvars() -> set[str]:
    serve = click_command().commands["serve"]
    return {var for param in serve.params for var in (param.envvar or [])}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid(version: str) -> None:
    manifests = _manifests()
    assert set(manifests) == {
        "mock-openai-config",
        "mock-openai-corpus",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
    }
    for doc in manifests.values():
        kubernetes_validate.validate(doc, version, strict=True)


def test_validation_is_strict_enough_to_fail() -> None:
    deployment = copy.deepcopy(_manifests()["Deployment"])
    deployment["spec"]["replica"] = 2  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.stem != "kustomization")


def test_every_configmap_variable_is_one_of_the_cli() -> None:
    data = _manifests()["mock-openai-config"]["data"]
    assert data and set(data) <= _serve_envvars(), set(data) - _serve_envvars()
    assert set(_docker_env()) - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"} <= _serve_envvars()


def test_the_resources_fit_together() -> None:
    found = _manifests()
    config, deployment = found["mock-openai-config"]["data"], found["Deployment"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    port = int(config["MOCK_OPENAI_PORT"])
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    assert container["envFrom"] == [{"configMapRef": {"name": "mock-openai-config"}}]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    assert "cpu" in container["resources"]["requests"]  # the autoscaler's utilization base
    annotations = pod["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert found["Service"]["spec"]["selector"] == labels
    assert found["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    target = found["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    (volume,) = pod["spec"]["volumes"]
    assert volume["configMap"]["name"] == "mock-openai-corpus"
    assert container["volumeMounts"][0]["mountPath"] == "/data"
    assert container["args"] == ["serve"]


def test_the_corpus_configmap_holds_a_corpus(tmp_path: Path) -> None:
    data = _manifests()["mock-openai-corpus"]["binaryData"]["corpus.msgpack"]
    path = tmp_path / "corpus.msgpack"
    path.write_bytes(base64.b64decode(data, validate=True))
    corpus = io.read(path)
    assert corpus.kind == "articles" and corpus.articles is not None
    assert corpus.articles.article_count == 8


def test_the_dockerfile_builds_a_corpus_and_serves_it_as_its_command(tmp_path: Path) -> None:
    """Run the image's steps outside docker: its `RUN mock-openai corpus build`, then its
    ENTRYPOINT + CMD with its ENV (the port and host made local), then its HEALTHCHECK."""
    steps = _dockerfile()
    env = _docker_env()
    baked = Path(env["MOCK_OPENAI_CORPUS"])
    (build,) = [rest for name, rest in steps if name == "RUN" and "corpus build" in rest]
    build_argv = shlex.split(build.replace(str(baked), str(tmp_path / baked.name)))
    assert build_argv[:3] == ["mock-openai", "corpus", "build"]
    subprocess.run([sys.executable, "-m", "sanic_mock", *build_argv[1:]], check=True, timeout=120)

    argv = [*_json(steps, "ENTRYPOINT"), *_json(steps, "CMD")]
    assert argv == ["mock-openai", "serve"]
    (expose,) = [rest for name, rest in steps if name == "EXPOSE"]
    assert expose == env["MOCK_OPENAI_PORT"] == "3000"
    (check,) = [rest for name, rest in steps if name == "HEALTHCHECK"]
    check_argv = _json([("CMD", check.split(" CMD ", 1)[1])], "CMD")
    assert check_argv[0] == "python"

    port = str(free_port())
    local = {**env, "MOCK_OPENAI_PORT": port, "MOCK_OPENAI_HOST": "127.0.0.1"}
    local["MOCK_OPENAI_CORPUS"] = str(tmp_path / baked.name)
    with running(*argv[2:], env=local, port=int(port), port_arg=False) as srv:
        healthy = subprocess.run([sys.executable, *check_argv[1:]], env=local, timeout=30)
        assert healthy.returncode == 0
        answer = httpx.post(srv.base_url + "/completions", json={"model": "m", "prompt": "x"})
        assert answer.status_code == 200
    sick = subprocess.run([sys.executable, *check_argv[1:]], env=local, capture_output=True)
    assert sick.returncode != 0  # nothing listens any more


def test_the_configmap_runs_the_server_it_describes(tmp_path: Path) -> None:
    """The Deployment's environment (the ConfigMap) and corpus (the corpus ConfigMap at /data)
    given to the real CLI: every variable is taken, and the server serves what it says."""
    found = _manifests()
    env = dict(found["mock-openai-config"]["data"])
    corpus = tmp_path / "corpus.msgpack"
    data = found["mock-openai-corpus"]["binaryData"]["corpus.msgpack"]
    corpus.write_bytes(base64.b64decode(data))
    port = free_port()
    env.update(MOCK_OPENAI_PORT=str(port), MOCK_OPENAI_HOST="127.0.0.1")
    env["MOCK_OPENAI_CORPUS"] = str(corpus)
    with running(env=env, port=port, port_arg=False) as srv:
        models = httpx.get(srv.base_url + "/models").json()["data"]
        assert [m["id"] for m in models] == env["MOCK_OPENAI_MODEL"].split()


def _json(steps: list[tuple[str, str]], instruction: str) -> list[str]:
    import orjson

    (rest,) = [rest for name, rest in steps if name == instruction]
    value = orjson.loads(rest)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value
