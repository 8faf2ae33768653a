"""Managed-database URLs against a real PostgreSQL with TLS on: sslmode=require connects encrypted,
verify-full checks the CA and the host name, client certificates work, and what can never work (a server
without TLS, a certificate from another CA) is one line at start-up, not a minute of "unreachable"."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import ConfigError
from bot.runtime.startup import wait_for_database
from storage.db import create_engine
from storage.migrate import current_revision, head_revision, upgrade_to_head
from tests.conftest import POSTGRES_URL
from tests.e2e.test_process import clean_env, run
from tests.storage.tls_postgres import CERT_USER, KEY_PASSWORD, TlsCluster, tls_cluster, why_not

pytestmark = pytest.mark.skipif(bool(why_not()), reason=f"no throwaway PostgreSQL with TLS: {why_not()}")


@pytest.fixture(scope="module")
def cluster() -> Iterator[TlsCluster]:
    """One TLS cluster for the module (starting one takes a few seconds)."""
    with tls_cluster() as started:
        yield started


@pytest.fixture
async def engines() -> AsyncIterator[list[AsyncEngine]]:
    """Engines a test makes, disposed after it."""
    made: list[AsyncEngine] = []
    yield made
    for engine in made:
        await engine.dispose()


async def session(url: str, engines: list[AsyncEngine]) -> dict[str, object]:
    """Connect as Tocsin does and report what the server sees of this connection."""
    engine = create_engine(url)
    engines.append(engine)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT s.ssl, current_user AS user, current_setting('application_name') AS application_name, "
                    "current_setting('search_path') AS search_path "
                    "FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()"
                )
            )
        ).one()
    return dict(row._mapping)


async def start_up_error(url: str, engines: list[AsyncEngine]) -> tuple[str, int]:
    """What start-up says about `url`, and how many attempts it made before saying it."""
    engine = create_engine(url)
    engines.append(engine)
    attempts = 0

    async def ready(engine: AsyncEngine) -> None:
        nonlocal attempts
        attempts += 1
        await upgrade_to_head(engine)

    with pytest.raises(ConfigError) as caught:
        await wait_for_database(engine, url, within=60, ready=ready)
    return str(caught.value), attempts


async def test_sslmode_require_connects_encrypted_without_checking_the_certificate(
    cluster: TlsCluster, engines: list[AsyncEngine]
) -> None:
    # The certificate names only localhost, and nothing says which CA to trust: require does not care.
    seen = await session(cluster.url(host="127.0.0.1", sslmode="require"), engines)
    assert seen["ssl"] is True
    assert seen["application_name"] == "tocsin"


async def test_verify_full_with_the_right_root_certificate_connects_and_migrates(
    cluster: TlsCluster, engines: list[AsyncEngine]
) -> None:
    url = cluster.url(sslmode="verify-full", sslrootcert=cluster.file("ca.crt"))
    engine = create_engine(url)
    engines.append(engine)
    await wait_for_database(engine, url, within=60, ready=upgrade_to_head)
    assert await current_revision(engine) == head_revision()
    assert (await session(url, engines))["ssl"] is True


async def test_libpq_options_and_application_name_reach_the_server(
    cluster: TlsCluster, engines: list[AsyncEngine]
) -> None:
    url = cluster.url(
        sslmode="verify-full",
        sslrootcert=cluster.file("ca.crt"),
        options="-c%20search_path%3Dtocsin_app",
        application_name="tocsin-eu-1",
        connect_timeout="10",
        target_session_attrs="read-write",
    )
    seen = await session(url, engines)
    assert seen["search_path"] == "tocsin_app"
    assert seen["application_name"] == "tocsin-eu-1"


async def test_verify_ca_checks_the_ca_but_not_the_host_name(cluster: TlsCluster, engines: list[AsyncEngine]) -> None:
    # 127.0.0.1 is not a name the certificate holds: verify-ca connects anyway, verify-full refuses.
    root = cluster.file("ca.crt")
    assert (await session(cluster.url(host="127.0.0.1", sslmode="verify-ca", sslrootcert=root), engines))["ssl"]
    # require with a root certificate checks it as verify-ca does (libpq's rule).
    assert (await session(cluster.url(host="127.0.0.1", sslmode="require", sslrootcert=root), engines))["ssl"]
    message, attempts = await start_up_error(
        cluster.url(host="127.0.0.1", sslmode="verify-full", sslrootcert=root), engines
    )
    assert attempts == 1
    assert message.startswith("DATABASE_URL: the server's TLS certificate failed verification (")
    assert "127.0.0.1" in message and "\n" not in message


async def test_verify_full_with_a_wrong_root_certificate_is_one_line_and_not_retried(
    cluster: TlsCluster, engines: list[AsyncEngine]
) -> None:
    message, attempts = await start_up_error(
        cluster.url(sslmode="verify-full", sslrootcert=cluster.file("wrong-ca.crt")), engines
    )
    assert attempts == 1
    # OpenSSL words the reason by what the server sends (its certificate alone, or with its CA's).
    assert message.startswith("DATABASE_URL: the server's TLS certificate failed verification (")
    assert "certificate" in message.split("(", 1)[1].split(")", 1)[0]
    assert message.endswith(
        "); sslrootcert must be the CA that signed it, and with verify-full the URL's host a name it holds"
    )
    assert "\n" not in message


async def test_a_client_certificate_signs_in_and_its_key_may_be_encrypted(
    cluster: TlsCluster, engines: list[AsyncEngine]
) -> None:
    common = {"sslmode": "verify-full", "sslrootcert": cluster.file("ca.crt"), "sslcert": cluster.file("client.crt")}
    plain = cluster.url(user=CERT_USER, **common, sslkey=cluster.file("client.key"))
    assert (await session(plain, engines))["user"] == CERT_USER
    encrypted = cluster.url(user=CERT_USER, **common, sslkey=cluster.file("client-enc.key"), sslpassword=KEY_PASSWORD)
    assert (await session(encrypted, engines))["user"] == CERT_USER
    # Without the certificate the server refuses the role: a refusal, said once.
    message, attempts = await start_up_error(
        cluster.url(user=CERT_USER, sslmode="verify-full", sslrootcert=cluster.file("ca.crt")), engines
    )
    assert attempts == 1 and message.startswith("DATABASE_URL: the database refused Tocsin:")


def plain_server_url() -> str:
    """The machine's main PostgreSQL (TEST_DATABASE_URL), which runs without TLS."""
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set; the server without TLS is the machine's main PostgreSQL")
    return make_url(POSTGRES_URL).set(query={"sslmode": "require"}).render_as_string(hide_password=False)


async def test_sslmode_require_against_a_server_without_tls_is_one_line_and_not_retried(
    engines: list[AsyncEngine],
) -> None:
    url = plain_server_url()
    engine = create_engine(url.replace("sslmode=require", "sslmode=disable"))
    engines.append(engine)
    async with engine.connect() as connection:
        if (await connection.execute(text("SHOW ssl"))).scalar() == "on":
            pytest.skip("the PostgreSQL at TEST_DATABASE_URL has TLS on")
    message, attempts = await start_up_error(url, engines)
    assert attempts == 1
    assert message.startswith("DATABASE_URL: the server refused TLS (PostgreSQL server at ")
    assert "rejected SSL upgrade); sslmode=require and verify-ca/verify-full need a server with ssl on" in message


async def test_tocsin_run_stops_at_once_with_one_line_when_the_server_refuses_tls(tmp_path: Path) -> None:
    env = clean_env(
        PYTHONPATH=os.getcwd(),
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET="test-signing-secret",
        DATABASE_URL=plain_server_url(),
        HOST="127.0.0.1",
        PORT="0",
        STARTUP_TIMEOUT="600",  # a TLS refusal waited out as an outage would outlast the test
    )
    code, _, err = await run("run", env=env, cwd=tmp_path)
    assert code == 2, err
    assert err.strip().splitlines()[-1].startswith("tocsin: DATABASE_URL: the server refused TLS (")
    assert "unreachable" not in err and "Traceback" not in err
