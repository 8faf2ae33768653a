"""Shipping Tocsin: the container's install steps work as a non-root user from a scratch folder with the
packaged runbooks; the Kubernetes manifests say what matters; the example policy checks clean; the
manifest's scopes and the README's scope table agree; the version has one source."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
import yaml

from bot.runtime.version import VERSION
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


def test_the_kubernetes_manifests_run_the_image_with_probes_secrets_and_the_policy() -> None:
    documents = {
        doc["kind"]: doc
        for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    }
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].rsplit(":", 1)[-1] == VERSION
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
    assert re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE).group(1) == VERSION
    code, out, _ = await run("--version", env=clean_env(PYTHONPATH=str(ROOT)), cwd=tmp_path)
    assert (code, out.strip()) == (0, f"tocsin {VERSION}")


def test_the_manifest_asks_for_exactly_the_scopes_the_readme_explains() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    asked = set(manifest["oauth_config"]["scopes"]["bot"])
    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Bot scopes and why each is needed", 1)[1].split("\n## ", 1)[0]
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
