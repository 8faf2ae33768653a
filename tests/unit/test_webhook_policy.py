"""The policy's `webhooks:` section: what it refuses (as `tocsin check` says it, with line and key path),
the addresses it never sends to, the secrets it accepts (exactly those the reference library signs with),
and what `tocsin check` says of each webhook's secret variable without ever showing it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError
from standardwebhooks.webhooks import Webhook

from bot.domain.events import EventKind
from bot.domain.policy import Policy
from bot.domain.webhook_policy import WebhookTarget, WebhookTargets, host_of, secret_problem, url_problem
from bot.entrypoints.policy_check import check_policy_file, check_webhook_secrets

SECRET = "whsec_" + base64.b64encode(b"tocsin-webhook-test-key-32-bytes").decode()


def problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "tocsin.yml").write_text(text)
    return [str(p).removeprefix(f"{tmp_path}/") for p in check_policy_file(tmp_path / "tocsin.yml").problems]


def test_a_webhook_needs_only_a_url_its_kinds_and_its_secrets_variable(tmp_path: Path) -> None:
    text = """\
webhooks:
  - url: https://hooks.example.com/tocsin
    events: [incident.declared, incident.resolved, page.exhausted]
    secret_env: OPS_WEBHOOK_SECRET
"""
    assert problems(tmp_path, text) == []
    (target,) = Policy.model_validate(
        {"webhooks": [{"url": "https://h.example/x", "events": ["incident.declared"], "secret_env": "S"}]}
    ).webhooks
    assert target.include_private is False and target.kinds == {EventKind.INCIDENT_DECLARED}


def test_each_mistake_in_the_section_is_named_with_its_line_and_key_path(tmp_path: Path) -> None:
    text = """\
webhooks:
  - url: ftp://hooks.example.com/tocsin
    events: [incident.declared, incident.exploded]
    secret_env: 1SECRET
  - url: http://169.254.169.254/latest/meta-data/
    events: []
    secret_env: "whsec_c2VjcmV0LXdyaXR0ZW4taW4tdGhlLWZpbGU="
    include_private: yes please
"""
    found = problems(tmp_path, text)
    assert found[:3] == [
        "tocsin.yml:2: webhooks[0].url: must start with https:// (or http://)",
        "tocsin.yml:3: webhooks[0].events: 'incident.exploded' is not an event kind (the kinds are: "
        + ", ".join(k.value for k in EventKind)
        + ")",
        "tocsin.yml:4: webhooks[0].secret_env: must be an environment variable's name "
        "(letters, digits and _, not starting with a digit)",
    ]
    assert found[3:] == [
        "tocsin.yml:5: webhooks[1].url: 169.254.169.254 is a link-local or cloud metadata address, "
        "where Tocsin never sends webhooks",
        "tocsin.yml:6: webhooks[1].events: List should have at least 1 item after validation, not 0",
        "tocsin.yml:7: webhooks[1].secret_env: names the environment variable that holds the secret "
        "(the secret itself belongs in that variable, not in the policy file)",
        "tocsin.yml:8: webhooks[1].include_private: Input should be a valid boolean, unable to interpret input",
    ]
    assert not any("c2VjcmV0" in line for line in found)  # a secret pasted in is never repeated


def test_a_wrong_webhook_is_set_aside_and_the_rest_of_the_policy_still_checked(tmp_path: Path) -> None:
    text = """\
webhooks:
  - url: https://hooks.example.com/tocsin
    events: [incident.declared, incident.exploded, page.imploded]
    secret_env: S
services:
  checkout: {runbooks: [no-such-runbook]}
"""
    found = problems(tmp_path, text)
    assert found[0].startswith(
        "tocsin.yml:3: webhooks[0].events: 'incident.exploded', 'page.imploded' are not event kinds (the kinds are: "
    )
    assert found[1].startswith("tocsin.yml:6: services.checkout.runbooks[0]: no runbook is called 'no-such-runbook'")
    assert len(found) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",  # ECS task credentials
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fe80::1%25eth0]:8080/",
        "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
        "http://2852039166/",  # 169.254.169.254 as one number, which resolvers accept
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://169.254.169.254.:80/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.google.internal./",
        "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud
    ],
)
def test_link_local_and_metadata_addresses_are_refused_however_written(url: str) -> None:
    assert url_problem(url) is not None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("hooks.example.com/tocsin", "must start with https:// (or http://)"),
        ("https:///tocsin", "must name a host (https://host/path)"),
        ("https://hooks.example.com:99999/", "is not a valid URL (Port out of range 0-65535)"),
        ("https://hooks.example.com/a b", "must be a URL without spaces or control characters"),
        ("https://hooks.example.com/tocsin", None),
        ("http://10.0.0.7:8080/hook", None),  # a receiver inside the network is what many teams run
        ("http://127.0.0.1:9000/hook", None),
    ],
)
def test_a_url_must_be_http_or_https_with_a_host(url: str, problem: str | None) -> None:
    assert url_problem(url) == problem


def test_the_same_url_twice_is_refused() -> None:
    target = {"url": "https://h.example/x", "events": ["incident.declared"], "secret_env": "S"}
    with pytest.raises(ValidationError, match=r"\[0\] and \[1\] have the same url"):
        TypeAdapter(WebhookTargets).validate_python([target, {**target, "events": ["incident.resolved"]}])


@pytest.mark.parametrize("key", [b"k" * 24, b"k" * 32, b"k" * 64])
def test_a_secret_is_whsec_and_base64_of_24_to_64_bytes_as_the_reference_library_reads_it(key: bytes) -> None:
    written = base64.b64encode(key).decode()
    for secret in (f"whsec_{written}", f"whsec_{written.rstrip('=')}"):  # padding optional, as signers allow
        assert secret_problem(secret) is None
        signed = Webhook(secret).sign("evt_1", datetime(2026, 11, 23, tzinfo=UTC), b"{}")
        assert signed.startswith("v1,")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is not set"),
        ("c2VjcmV0", "is not a Standard Webhooks secret: it must start with whsec_"),
        ("whsec_not base64!", "is not a Standard Webhooks secret: what follows whsec_ must be base64"),
        (
            "whsec_" + base64.b64encode(b"short").decode(),
            "is not a Standard Webhooks secret: it must encode 24 to 64 bytes (it has 5)",
        ),
        (
            "whsec_" + base64.b64encode(b"k" * 65).decode(),
            "is not a Standard Webhooks secret: it must encode 24 to 64 bytes (it has 65)",
        ),
    ],
)
def test_what_is_not_a_secret_is_said_without_quoting_it(value: str, problem: str) -> None:
    assert secret_problem(value) == problem


def test_a_subscriber_name_is_stable_short_and_shows_nothing_of_the_url() -> None:
    url = "https://user:pa55@hooks.example.com/T0/B0/xoxtoken?key=abc"
    target = WebhookTarget(url=url, events=["incident.declared"], secret_env="S")
    again = WebhookTarget(url=url, events=["incident.resolved"], secret_env="OTHER")
    assert target.name == again.name and target.name.startswith("webhook-") and len(target.name) <= 64
    assert not any(part in target.name for part in ("hooks", "pa55", "xoxtoken", "abc"))
    assert host_of(url) == "https://hooks.example.com"
    assert host_of("http://[::1]:8080/x") == "http://[::1]:8080"


def test_check_says_for_each_webhook_whether_its_secret_is_set_never_what_it_is(tmp_path: Path) -> None:
    text = """\
webhooks:
  - url: https://a.example/hook
    events: [incident.declared]
    secret_env: A_SECRET
  - url: https://b.example/hook?token=xyz
    events: [incident.declared]
    secret_env: B_SECRET
  - url: https://c.example/hook
    events: [incident.declared]
    secret_env: C_SECRET
"""
    (tmp_path / "tocsin.yml").write_text(text)
    report = check_policy_file(tmp_path / "tocsin.yml")
    assert report.problems == [] and report.policy is not None
    names = [t.name for t in report.policy.webhooks]
    lines = check_webhook_secrets(report, {"A_SECRET": SECRET, "B_SECRET": "hunter2"})
    assert lines == [
        f"webhooks[0]: https://a.example (subscriber {names[0]}): A_SECRET is set to a whsec_ secret",
        f"webhooks[1]: https://b.example (subscriber {names[1]}): B_SECRET is not a Standard Webhooks secret: "
        "it must start with whsec_",
        f"webhooks[2]: https://c.example (subscriber {names[2]}): C_SECRET is not set",
    ]
    assert [str(p).removeprefix(f"{tmp_path}/") for p in report.problems] == [
        "tocsin.yml:7: webhooks[1].secret_env: B_SECRET is not a Standard Webhooks secret: it must start with whsec_",
        "tocsin.yml:10: webhooks[2].secret_env: C_SECRET is not set",
    ]
    shown = "\n".join(lines + [str(p) for p in report.problems])
    assert "hunter2" not in shown and SECRET not in shown and "xyz" not in shown
