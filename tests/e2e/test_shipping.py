"""Shipping Tocsin: the container's install steps work as a non-root user from a scratch folder with the
packaged runbooks; the image's health check follows PORT; the Kubernetes manifests and the Helm chart run
the image Pod Security "restricted" with a writable /tmp and probes the app serves, and the chart passes
Helm's linter; the workflows pass actionlint and publish a multi-arch image on a tag; compose puts one load
balancer before its replicas and pages nobody; `make run` installs no test tools; the example policy checks
clean; the manifest's scopes and the scope table in docs/slack-app.md agree; the version has one source."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.runtime.version import VERSION
from tests import helm_lint
from tests.conftest import StartTocsin
from tests.e2e.test_process import clean_env, run

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = sorted(p.stem for p in (ROOT / "runbooks").glob("*.md"))


def build_stage_copies(dockerfile: Path) -> list[str]:
    """The sources the Dockerfile's build stage COPYs into its context."""
    stage = dockerfile.read_text().split("\nFROM ")[1]  # [0] is the comments before the first FROM
    sources: list[str] = []
    for line in stage.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            sources += line.split()[1:-1]
    return sources


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to an unprivileged user needs root (CI runs as root)")
def test_the_container_install_steps_work_as_a_non_root_user_with_the_packaged_runbooks() -> None:
    # Outside pytest's own (root-only) temporary folder, so the unprivileged user can reach it.
    tmp_path = Path(tempfile.mkdtemp(prefix="tocsin-install-"))
    try:
        install_and_run_as_nobody(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def install_and_run_as_nobody(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for source in build_stage_copies(ROOT / "Dockerfile"):
        src = ROOT / source
        (
            shutil.copytree(src, context / source, ignore=shutil.ignore_patterns("__pycache__"))
            if src.is_dir()
            else shutil.copy(src, context / source)
        )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The dependencies come from the test environment (no download); Tocsin itself is installed from
    # the copied context exactly as the Dockerfile does (`pip install .`, not editable).
    site = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [venv / "bin" / "pip", "install", "--quiet", "--no-deps", "."],
        cwd=context,
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    os.chmod(tmp_path, 0o755)  # noqa: S103 - the unprivileged user reads the venv below it
    os.chmod(scratch, 0o777)  # noqa: S103 - …and writes its database here
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{scratch / 'tocsin.db'}",
        "HOME": str(scratch),
    }
    check = subprocess.run(
        [*nobody, venv / "bin" / "tocsin", "check"], cwd=scratch, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    listed = re.findall(r"^([a-z0-9-]+): .* \(\d+ steps\)$", check.stdout, flags=re.MULTILINE)
    assert listed == RUNBOOKS and "(shipped with Tocsin)" in check.stdout
    assert str(ROOT) not in check.stdout  # the installed copy, not the checkout's
    migrate = subprocess.run(
        [*nobody, venv / "bin" / "tocsin", "migrate"], cwd=scratch, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0 and migrate.stdout.startswith("database at revision "), migrate.stderr
    version = subprocess.run([venv / "bin" / "tocsin", "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"tocsin {VERSION}"


def kubernetes_documents() -> dict[str, dict[str, Any]]:
    return {
        doc["kind"]: doc
        for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    }


def assert_restricted(pod_security: dict[str, Any], container_security: dict[str, Any]) -> None:
    """Pod Security Standards, "restricted" profile (and a read-only root filesystem)."""
    assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] != 0
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container_security["allowPrivilegeEscalation"] is False
    assert container_security["capabilities"]["drop"] == ["ALL"] and "add" not in container_security["capabilities"]
    assert container_security["readOnlyRootFilesystem"] is True
    assert not container_security.get("privileged")


def test_the_kubernetes_manifests_run_the_image_with_probes_secrets_and_the_policy() -> None:
    documents = kubernetes_documents()
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    repository, tag = container["image"].rsplit(":", 1)
    assert tag == VERSION and "your-org" not in repository
    assert repository == "registry.example.com/tocsin"  # a placeholder nobody can pull: build and push your own
    deployment_text = (ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text()
    assert "docker buildx build --platform linux/amd64,linux/arm64" in deployment_text
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    secret = documents["Secret"]
    assert {"secretRef": {"name": secret["metadata"]["name"]}} in container["envFrom"]
    assert {"SLACK_BOT_TOKEN", "DATABASE_URL"} <= set(secret["stringData"])
    config = documents["ConfigMap"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "policy")
    assert {"name": "policy", "configMap": {"name": config["metadata"]["name"]}} in pod["volumes"]
    policy_path = next(e["value"] for e in container["env"] if e["name"] == "TOCSIN_CONFIG")
    assert policy_path == f"{mount['mountPath']}/tocsin.yml" and "tocsin.yml" in config["data"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["terminationGracePeriodSeconds"] > 20  # longer than SHUTDOWN_GRACE's default


def test_the_kubernetes_pods_are_restricted_with_a_writable_tmp_and_a_disruption_budget() -> None:
    documents = kubernetes_documents()
    deployment = documents["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert_restricted(pod["securityContext"], container["securityContext"])
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")  # noqa: S108 - the pod's /tmp
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MPLCONFIGDIR"].startswith("/tmp/")  # noqa: S108 - in the pod's emptyDir
    budget = documents["PodDisruptionBudget"]
    assert budget["apiVersion"] == "policy/v1"
    assert budget["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert budget["spec"]["maxUnavailable"] < deployment["spec"]["replicas"]


CHART = ROOT / "deploy" / "helm" / "tocsin"


def chart_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return values


def test_the_helm_chart_has_the_usual_parts_and_values() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "tocsin" and chart["appVersion"] == VERSION
    templates = {p.name for p in (CHART / "templates").iterdir()}
    assert {
        "_helpers.tpl", "NOTES.txt", "deployment.yaml", "service.yaml", "secret.yaml", "configmap.yaml",
        "ingress.yaml", "pdb.yaml", "serviceaccount.yaml",
    } <= templates  # fmt: skip
    values = chart_values()
    assert values["image"]["repository"] == "registry.example.com/tocsin" and values["image"]["tag"] == ""
    assert {"replicaCount", "resources", "ingress", "existingSecret", "livenessProbe", "readinessProbe"} <= set(values)
    assert values["ingress"]["enabled"] is False and values["podDisruptionBudget"]["enabled"] is True
    assert_restricted(values["podSecurityContext"], values["securityContext"])
    deployment = (CHART / "templates" / "deployment.yaml").read_text()
    # The values above are what the pod gets; /tmp is an emptyDir and matplotlib's cache lives there.
    assert "toYaml .Values.podSecurityContext" in deployment and "toYaml .Values.securityContext" in deployment
    assert "mountPath: /tmp" in deployment and "emptyDir:" in deployment
    assert re.search(r"name: MPLCONFIGDIR\s+value: /tmp/matplotlib", deployment)
    assert "default .Chart.AppVersion .Values.image.tag" in (CHART / "templates" / "_helpers.tpl").read_text()


async def test_the_probes_of_the_manifests_and_the_chart_are_paths_the_app_serves(
    start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    (container,) = kubernetes_documents()["Deployment"]["spec"]["template"]["spec"]["containers"]
    values = chart_values()
    probes = [container[f"{kind}Probe"] for kind in ("liveness", "readiness", "startup")]
    probes += [values[f"{kind}Probe"] for kind in ("liveness", "readiness", "startup")]
    paths = {probe["httpGet"]["path"] for probe in probes}
    assert paths == {"/livez", "/readyz"} and all(probe["httpGet"]["port"] == "http" for probe in probes)
    tocsin = await start_tocsin(sqlite_url)
    async with aiohttp.ClientSession() as http:
        for path in sorted(paths):
            async with http.get(f"http://127.0.0.1:{tocsin.port}{path}") as response:
                assert response.status == 200, path


def lint_chart(*values: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    files = []
    for n, extra in enumerate(values):
        files.append(tmp_path / f"values-{n}.yaml")
        files[-1].write_text(yaml.safe_dump(extra))
    return subprocess.run(
        [sys.executable, "-m", "tests.helm_lint", str(CHART), *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(not helm_lint.available(), reason="Helm's linter library is not unpacked (`make lint` does it)")
@pytest.mark.parametrize(
    "values",
    [
        {},
        {
            "existingSecret": "tocsin",
            "policy": {"existingConfigMap": "tocsin-policy"},
            "serviceAccount": {"create": False},
            "podDisruptionBudget": {"enabled": False},
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
                "tls": [{"secretName": "tocsin-tls", "hosts": ["tocsin.example.com"]}],
            },
        },
        {
            "replicaCount": 1,
            "persistence": {"enabled": True, "storageClass": "fast"},
            "secret": {"slackBotToken": "xoxb-1", "slackAppToken": "xapp-1", "alertsToken": "a"},
            "env": {"LOG_LEVEL": "DEBUG", "SHUTDOWN_GRACE": 20},
        },
    ],
    ids=["defaults", "ingress-and-existing-secret", "sqlite-volume"],
)
def test_the_helm_chart_passes_helms_linter(values: dict[str, Any], tmp_path: Path) -> None:
    linted = lint_chart(values, tmp_path=tmp_path)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert linted.stdout.rstrip().endswith("0 warning(s) or error(s)")


@pytest.mark.skipif(not helm_lint.available(), reason="Helm's linter library is not unpacked (`make lint` does it)")
def test_helms_linter_refuses_a_chart_that_does_not_parse(tmp_path: Path) -> None:
    broken = tmp_path / "tocsin"
    shutil.copytree(CHART, broken)
    deployment = broken / "templates" / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace("\n  replicas:", "\n replicas:"))
    linted = subprocess.run(
        [sys.executable, "-m", "tests.helm_lint", str(broken)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert linted.returncode == 1 and "[ERROR]" in linted.stdout and "deployment.yaml" in linted.stdout


WORKFLOWS = ROOT / ".github" / "workflows"


def test_a_version_tag_publishes_a_multi_arch_image_after_the_tests() -> None:
    release = yaml.safe_load((WORKFLOWS / "release.yml").read_text())
    assert release[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key `on` as True
    jobs = release["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml" and jobs["image"]["needs"] == "test"
    assert jobs["image"]["permissions"]["packages"] == "write"
    steps = jobs["image"]["steps"]
    login = next(s for s in steps if s.get("uses", "").startswith("docker/login-action@"))
    assert login["with"]["registry"] == "ghcr.io" and login["with"]["password"] == "${{ secrets.GITHUB_TOKEN }}"
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action@"))
    assert build["with"]["push"] is True
    assert set(build["with"]["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    ci = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    assert "workflow_call" in ci[True]
    assert any(step.get("run") == "make test" for step in ci["jobs"]["test"]["steps"])


@pytest.mark.skipif(shutil.which("actionlint", path=str(Path(sys.executable).parent)) is None, reason="no actionlint")
def test_the_workflows_pass_actionlint() -> None:
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert actionlint is not None
    linted = subprocess.run([actionlint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert {p.name for p in WORKFLOWS.glob("*.yml")} >= {"ci.yml", "release.yml"}


@pytest.fixture
def readyz_server() -> Iterator[tuple[int, list[int]]]:
    """A local /readyz answering with the status at the end of the list (200 until told otherwise)."""
    statuses = [200]

    class Readyz(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses[-1] if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Readyz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], statuses
    finally:
        server.shutdown()
        server.server_close()


def test_the_image_health_check_asks_readyz_on_the_port_the_container_is_given(
    readyz_server: tuple[int, list[int]],
) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = re.search(r"^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert healthcheck is not None
    check = json.loads(healthcheck.group(1))
    assert check[0] == "python"
    port, statuses = readyz_server
    env = {"PATH": os.environ["PATH"], "PORT": str(port)}
    assert subprocess.run([sys.executable, *check[1:]], env=env, capture_output=True, timeout=30).returncode == 0
    statuses.append(503)
    assert subprocess.run([sys.executable, *check[1:]], env=env, capture_output=True, timeout=30).returncode != 0
    run_stage = dockerfile.split("\nFROM ")[2]
    assert re.search(r"apt-get install .*\bsqlite3\b", run_stage)  # for the online back-up in docs/operations.md


def test_compose_puts_one_load_balancer_before_the_replicas_and_pages_nobody() -> None:
    compose_text = (ROOT / "compose.yml").read_text()
    compose = yaml.safe_load(compose_text)
    services = compose["services"]
    tocsin = services["tocsin"]
    assert tocsin["deploy"]["replicas"] > 1 and tocsin["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "ports" not in tocsin  # only the load balancer is published
    (balancers,) = [name for name, service in services.items() if "ports" in service]
    lb = services[balancers]
    assert lb["image"].startswith("nginx:") and lb["ports"] == ["3000:80"]
    (config_mount,) = lb["volumes"]
    nginx = (ROOT / config_mount.split(":")[0]).read_text()
    assert "http://tocsin:3000" in nginx and "resolver 127.0.0.11" in nginx
    assert "SQLite means exactly one process" in compose_text
    (policy_mount,) = tocsin["volumes"]
    policy_file, mounted_at = policy_mount.split(":")[:2]
    assert tocsin["environment"]["TOCSIN_CONFIG"] == mounted_at
    policy = (ROOT / policy_file).read_text()
    assert not re.search(r"\b[UWS]0[A-Z0-9]{6,}\b", policy)  # no Slack user or group IDs: nobody is paged
    parsed = yaml.safe_load(policy)
    assert not parsed.get("schedules") and not parsed.get("escalation_policies") and not parsed.get("admins")


async def test_the_compose_policy_checks_clean(tmp_path: Path) -> None:
    env = clean_env(PYTHONPATH=str(ROOT))
    code, out, err = await run("check", str(ROOT / "deploy" / "compose" / "tocsin.yml"), env=env, cwd=tmp_path)
    assert (code, err) == (0, "")
    assert "escalation_policies: {}" in out and "schedules: {}" in out


def make_dry_run(*args: str) -> str:
    """What `make` would run, as though pyproject.toml had just changed (nothing is run)."""
    done = subprocess.run(
        # --no-print-directory: run from `make test`, a nested make would add "Entering/Leaving directory" lines.
        ["make", "--no-print-directory", "-n", "-W", "pyproject.toml", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_run_and_make_check_install_only_what_running_needs() -> None:
    for target in ("run", "check"):
        installs = [line for line in make_dry_run(target).splitlines() if "pip install" in line]
        assert len(installs) == 1 and installs[0].endswith(" -e .") and "[test]" not in installs[0]
    assert make_dry_run("check", "POLICY=examples/tocsin.yml").splitlines()[-1] == (
        ".venv/bin/tocsin check examples/tocsin.yml"
    )
    (install,) = [line for line in make_dry_run("test").splitlines() if "pip install" in line]
    assert "'.[test]'" in install


async def test_postmortem_against_a_missing_sqlite_file_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no-such.db"
    env = clean_env(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{missing}")
    code, out, err = await run("postmortem", "INC-1", env=env, cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err == f"tocsin: there is no database at {missing} (DATABASE_URL); point DATABASE_URL at Tocsin's database\n"
    assert not missing.exists()


async def test_the_example_policy_checks_clean_without_any_slack_setting(tmp_path: Path) -> None:
    env = clean_env(PYTHONPATH=str(ROOT))
    code, out, err = await run("check", str(ROOT / "examples" / "tocsin.yml"), env=env, cwd=tmp_path)
    assert (code, err) == (0, "")
    assert "payments-primary" in out and "checkout" in out


async def test_each_mistake_in_a_broken_policy_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "pm.md.j2").write_text("# {{ reference }} {{ no_such_variable }}\n")
    (tmp_path / "tocsin.yml").write_text(
        "broadcast_channel: #incidents\n"
        "severities:\n"
        '  - {name: SEV1, notify: ["#war room"]}\n'
        "  - {name: SEV3}\n"
        "postmortem_template: pm.md.j2\n"
        "runbooks_dir: ./no-such-folder\n"
    )
    code, _, err = await run("check", "tocsin.yml", env=clean_env(PYTHONPATH=str(ROOT)), cwd=tmp_path)
    assert code == 2
    problems = err.splitlines()
    assert problems[-1] == "tocsin: 4 problem(s) found"
    assert problems[0].startswith("tocsin: tocsin.yml:1: `broadcast_channel: #incidents` reads as a YAML comment")
    assert any(
        p.startswith("tocsin: tocsin.yml:3: severities[0].notify[0]: '#war room' is not a Slack channel")
        for p in problems
    )
    assert any("runbooks_dir:" in p and "no-such-folder is not a folder" in p for p in problems)
    assert any("postmortem_template:" in p and "'no_such_variable' is undefined" in p for p in problems)


async def test_the_example_env_values_are_refused_naming_the_variable(tmp_path: Path) -> None:
    example = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if re.match(r"^[A-Z_]+=", line)
    )
    env = clean_env(PYTHONPATH=str(ROOT), **example)
    code, _, err = await run("check", "--settings", env=env, cwd=tmp_path)
    assert code == 2
    assert "SLACK_BOT_TOKEN is invalid: still holds the example value from .env.example" in err


async def test_version_has_one_source(tmp_path: Path) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE)
    assert version is not None and version.group(1) == VERSION
    code, out, _ = await run("--version", env=clean_env(PYTHONPATH=str(ROOT)), cwd=tmp_path)
    assert (code, out.strip()) == (0, f"tocsin {VERSION}")


def test_the_manifest_asks_for_exactly_the_scopes_the_docs_explain() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    asked = set(manifest["oauth_config"]["scopes"]["bot"])
    page = (ROOT / "docs" / "slack-app.md").read_text()
    table = page.split("### Bot scopes and why each is needed", 1)[1].split("\n## ", 1)[0]
    explained = set(re.findall(r"^\| `([a-z.:_]+)` \|", table, flags=re.MULTILINE))
    assert asked == explained
    assert "im:write" not in asked  # DMs go to user IDs with chat:write: nothing opens a conversation


def test_no_document_points_outside_the_repository() -> None:
    documents = [ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md"), ROOT / ".env.example"]
    for document in documents:
        assert "../shared" not in document.read_text(), document


# The scope each event needs (Slack's Events API reference).
EVENT_SCOPES = {
    "app_home_opened": set(),
    "member_joined_channel": {"channels:read", "groups:read"},
    "member_left_channel": {"channels:read", "groups:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "pin_added": {"pins:read"},
    "pin_removed": {"pins:read"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
}
# Scopes no single method call names: the slash command; posting in public channels Tocsin has not
# joined; and users:read, which Slack requires beside users:read.email.
STANDING_SCOPES = {"commands", "chat:write.public", "users:read"}
SDK_METHODS = {"files_upload_v2": ["files.getUploadURLExternal", "files.completeUploadExternal"]}


def test_the_manifest_asks_for_exactly_the_events_and_scopes_the_code_uses() -> None:
    from tests.slack_double.server import METHOD_SCOPES, PRIVATE_SCOPES

    source = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    listened = set(re.findall(r'@app\.event\("([a-z_]+)"\)', source))
    # A "message" listener hears messages of incident channels, public and private.
    wanted_events = (listened - {"message"}) | (
        {"message.channels", "message.groups"} if "message" in listened else set()
    )
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == wanted_events

    called = set(re.findall(r"_client\.([A-Za-z0-9_]+)\(", source))
    methods = [m for name in called for m in SDK_METHODS.get(name, [name.replace("_", ".")])]
    needed = set(STANDING_SCOPES)
    for method in methods:
        scopes = METHOD_SCOPES.get(method, set())
        needed |= scopes | {PRIVATE_SCOPES[s] for s in scopes if s in PRIVATE_SCOPES}  # private incidents too
    for name in wanted_events:
        needed |= EVENT_SCOPES[name]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def test_the_manifest_lists_exactly_the_message_shortcuts_the_code_answers() -> None:
    from bot.slack.ids import Shortcut

    source = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))
    answered = {Shortcut[name].value for name in re.findall(r"@app\.shortcut\(Shortcut\.([A-Z_]+)\)", source)}
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    shortcuts = manifest["features"]["shortcuts"]
    assert {s["callback_id"] for s in shortcuts} == answered == {s.value for s in Shortcut}
    assert all(s["type"] == "message" and len(s["name"]) <= 24 and len(s["description"]) <= 80 for s in shortcuts)
