"""DATABASE_URL as managed databases hand it out: libpq's parameters (sslmode, sslrootcert, options…)
become the async driver's arguments with libpq's meaning, and anything else is one line naming it."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.__main__ import main
from bot.domain.errors import ConfigError
from bot.settings import DatabaseSettings, load_settings, redact_url
from storage.postgres_url import DatabaseUrlError, asyncpg_arguments
from tests.storage.tls_postgres import KEY_PASSWORD, make_certificates

URL = "postgresql://tocsin:hunter2@db.example.com:5432/tocsin"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a client certificate and key (also encrypted) made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("certs")
    make_certificates(folder)
    return folder


def arguments(query: str) -> dict[str, Any]:
    return asyncpg_arguments(make_url(f"{URL}?{query}"))[1]


def refusal(query: str) -> str:
    with pytest.raises(DatabaseUrlError) as caught:
        asyncpg_arguments(make_url(f"{URL}?{query}"))
    message = str(caught.value)
    assert "\n" not in message and "hunter2" not in message
    return message


def test_sslmode_require_encrypts_without_checking_the_certificate_as_libpq_does() -> None:
    context = arguments("sslmode=require")["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


def test_the_libpq_parameters_leave_the_url_and_sqlalchemys_own_stay() -> None:
    url, _ = asyncpg_arguments(make_url(f"{URL}?sslmode=require&prepared_statement_cache_size=0&application_name=x"))
    assert dict(url.query) == {"prepared_statement_cache_size": "0"}
    assert url.password == "hunter2" and url.host == "db.example.com"


def test_a_root_certificate_makes_require_check_the_ca_and_verify_full_the_host_name_too(certs: Path) -> None:
    root = certs / "ca.crt"
    require = arguments(f"sslmode=require&sslrootcert={root}")["ssl"]
    verify_ca = arguments(f"sslmode=verify-ca&sslrootcert={root}")["ssl"]
    verify_full = arguments(f"sslmode=verify-full&sslrootcert={root}")["ssl"]
    for context in (require, verify_ca, verify_full):
        assert context.verify_mode == ssl.CERT_REQUIRED
    assert not require.check_hostname and not verify_ca.check_hostname and verify_full.check_hostname


def test_sslrootcert_system_trusts_the_public_cas() -> None:
    context = arguments("sslmode=verify-full&sslrootcert=system")["ssl"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert "sslrootcert=system needs sslmode=verify-full" in refusal("sslmode=verify-ca&sslrootcert=system")


def test_a_client_certificate_and_its_encrypted_key_are_loaded(certs: Path) -> None:
    root, cert = certs / "ca.crt", certs / "client.crt"
    key = certs / "client-enc.key"
    query = f"sslmode=verify-full&sslrootcert={root}&sslcert={cert}&sslkey={key}"
    assert isinstance(arguments(f"{query}&sslpassword={KEY_PASSWORD}")["ssl"], ssl.SSLContext)
    message = refusal(f"{query}&sslpassword=not-the-passw0rd")
    assert message.startswith(f"sslcert: {cert} could not be loaded (")
    assert "not-the-passw0rd" not in message


@pytest.mark.parametrize(("mode", "expected"), [("disable", False), ("allow", "allow"), ("prefer", "prefer")])
def test_the_modes_that_do_not_insist_on_tls_are_the_drivers_own(mode: str, expected: object) -> None:
    assert arguments(f"sslmode={mode}")["ssl"] == expected


def test_without_sslmode_the_driver_default_stays_prefer_as_in_libpq() -> None:
    assert "ssl" not in arguments("application_name=x")


def test_ssl_the_older_spelling_still_works_but_not_beside_sslmode() -> None:
    assert isinstance(arguments("ssl=require")["ssl"], ssl.SSLContext)
    assert refusal("ssl=require&sslmode=require") == (
        "give sslmode or ssl, not both (ssl is an older spelling of sslmode)"
    )


def test_options_and_application_name_become_server_settings() -> None:
    found = arguments("options=-c%20search_path%3Dtocsin&application_name=tocsin-eu")
    assert found["server_settings"] == {"application_name": "tocsin-eu", "options": "-c search_path=tocsin"}
    assert arguments("fallback_application_name=fb")["server_settings"] == {"application_name": "fb"}
    assert arguments("sslmode=disable")["server_settings"] == {"application_name": "tocsin"}


def test_timeouts_session_attributes_and_the_statement_cache() -> None:
    assert arguments("connect_timeout=10")["timeout"] == 10.0
    assert arguments("connect_timeout=1")["timeout"] == 2.0  # libpq's minimum
    assert "timeout" not in arguments("connect_timeout=0")  # libpq: no limit; the driver keeps its 60 s
    assert arguments("target_session_attrs=read-write")["target_session_attrs"] == "read-write"
    assert arguments("statement_cache_size=0")["statement_cache_size"] == 0  # behind PgBouncer
    assert arguments("sslmode=require&sslnegotiation=direct")["direct_tls"] is True


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("keepalives=1", "unknown parameter 'keepalives'; PostgreSQL URLs accept application_name, "),
        ("sslmode=required", "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, not"),
        ("sslmode=verify-full", "sslmode=verify-full needs sslrootcert=<the CA's certificate file>"),
        ("sslrootcert=/etc/ca.crt", "sslrootcert needs sslmode=verify-full (or verify-ca, or require)"),
        ("sslmode=prefer&sslcert=/c.crt", "sslcert would be ignored with sslmode=prefer"),
        ("sslmode=verify-full&sslrootcert=/no/such.crt", "sslrootcert: there is no file /no/such.crt"),
        ("sslmode=require&sslkey=/k.key", "sslkey needs sslcert"),
        ("sslmode=require&sslcrl=/c.crl", "sslcrl needs sslrootcert"),
        ("connect_timeout=soon", "connect_timeout must be a whole number, not 'soon'"),
        ("target_session_attrs=primary-ish", "target_session_attrs must be one of any, primary, standby,"),
        ("sslmode=require&ssl_min_protocol_version=TLSv9", "ssl_min_protocol_version must be one of TLSv1, "),
        (
            "sslmode=require&ssl_min_protocol_version=TLSv1.3&ssl_max_protocol_version=TLSv1.2",
            "ssl_min_protocol_version is above ssl_max_protocol_version",
        ),
        ("sslmode=prefer&sslnegotiation=direct", "sslnegotiation=direct needs sslmode=require"),
        ("channel_binding=require", "channel_binding=require cannot be honoured by Tocsin's driver (asyncpg)"),
        ("sslmode=require&sslmode=disable", "the parameter 'sslmode' is given 2 times; give it once"),
    ],
)
def test_what_can_never_work_is_one_line_naming_the_parameter(query: str, message: str) -> None:
    assert refusal(query).startswith(message)


def test_a_file_that_is_not_a_certificate_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "root.crt"
    junk.write_text("not a certificate\n")
    assert refusal(f"sslmode=verify-full&sslrootcert={junk}").startswith(f"sslrootcert: {junk} could not be loaded (")


def test_channel_binding_and_gss_encryption_are_accepted_where_they_ask_for_nothing() -> None:
    assert "ssl" in arguments("sslmode=require&channel_binding=prefer&gssencmode=disable")


def test_settings_refuse_a_bad_parameter_in_one_line_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(DatabaseSettings, _env_file=None, database_url=f"{URL}?sslmode=require&keepalives=1")
    assert str(caught.value).startswith("DATABASE_URL is invalid: unknown parameter 'keepalives'")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match=r"^DATABASE_URL is invalid: cannot be read as a URL") as unreadable:
        load_settings(DatabaseSettings, _env_file=None, database_url="postgresql://tocsin:hunter2@db:port/x")
    assert "hunter2" not in str(unreadable.value)


def test_settings_accept_a_managed_database_url_and_never_show_its_passwords() -> None:
    url = f"{URL}?sslmode=require&sslpassword=k3y&application_name=tocsin"
    settings = load_settings(DatabaseSettings, _env_file=None, database_url=url)
    assert redact_url(settings.database_url) == (
        "postgresql://tocsin:***@db.example.com:5432/tocsin?sslmode=require&sslpassword=***&application_name=tocsin"
    )


def test_tocsin_check_settings_names_the_parameter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    monkeypatch.setenv("DATABASE_URL", f"{URL}?sslmode=require&tcp_user_timeout=5")
    assert main(["check", "--settings"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith("tocsin: DATABASE_URL is invalid: unknown parameter 'tcp_user_timeout'")
    assert "hunter2" not in err and "Traceback" not in err
