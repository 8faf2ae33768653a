"""libpq's connection parameters in a `postgresql://…?sslmode=require` URL, read into asyncpg's arguments.

SQLAlchemy hands every query item of the URL to `asyncpg.connect()` as a keyword argument, and asyncpg
takes none of libpq's names (`sslmode`, `sslrootcert`, `options`…), so the URLs managed databases hand
out failed with a TypeError. Here each one libpq documents and asyncpg can honour is translated, with
libpq's meaning; anything else is refused with one line naming it, before any connection is tried.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:  # SQLAlchemy is not imported to check settings: `tocsin check` stays quick
    from sqlalchemy.engine import URL

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
VERIFYING = ("verify-ca", "verify-full")
SESSION_ATTRS = ("any", "primary", "standby", "prefer-standby", "read-write", "read-only")
TLS_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
# Files that only mean something on an encrypted connection.
TLS_FILES = ("sslrootcert", "sslcert", "sslkey", "sslcrl")
# Left in the URL: SQLAlchemy's dialect reads them (`host` for a socket folder or several hosts).
DIALECT_PARAMETERS = ("host", "prepared_statement_cache_size")
# libpq settings asyncpg cannot act on, accepted only at the value that asks for nothing.
NO_OP_VALUES = {"channel_binding": ("disable", "prefer"), "gssencmode": ("disable", "prefer")}
TRANSLATED = (
    "sslmode",
    "ssl",  # SQLAlchemy's asyncpg spelling of sslmode, which Tocsin used to need
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "sslnegotiation",
    "options",
    "application_name",
    "fallback_application_name",
    "connect_timeout",
    "target_session_attrs",
    "passfile",
    "statement_cache_size",
)
ACCEPTED = (*TRANSLATED, *DIALECT_PARAMETERS, *NO_OP_VALUES)
DEFAULT_APPLICATION_NAME = "tocsin"  # what pg_stat_activity shows for Tocsin's connections
_ALPN = ["postgresql"]  # PostgreSQL 17's direct TLS needs it; servers that ignore ALPN are unaffected


class DatabaseUrlError(ValueError):
    """A DATABASE_URL that can never connect: one line naming the parameter (never its secret value)."""


def check_database_url(url: str) -> None:
    """Raise DatabaseUrlError (one line, no secret in it) for a URL that can never connect; connect to nothing."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        query = parse_qs(parts.query, keep_blank_values=True)
    except ValueError:  # its message may quote the URL, password and all
        raise DatabaseUrlError("cannot be read as a URL (scheme://user:password@host:port/database?…)") from None
    if parts.scheme.split("+")[0] in ("postgresql", "postgres"):
        connect_arguments(query)


def asyncpg_arguments(url: URL) -> tuple[URL, dict[str, Any]]:
    """The URL without libpq's parameters, and the `asyncpg.connect()` arguments they stand for."""
    kept = {name: value for name, value in url.query.items() if name in DIALECT_PARAMETERS}
    return url.set(query=kept), connect_arguments(url.query)


def connect_arguments(query: Mapping[str, str | Sequence[str]]) -> dict[str, Any]:
    """The `asyncpg.connect()` arguments a URL's query (libpq's parameters) stands for."""
    params = _single_values(query)
    unknown = sorted(set(params) - set(ACCEPTED))
    if unknown:
        raise DatabaseUrlError(
            f"unknown parameter {unknown[0]!r}; PostgreSQL URLs accept {', '.join(sorted(ACCEPTED))}"
        )
    for name, allowed in NO_OP_VALUES.items():
        if name in params and params[name] not in allowed:
            raise DatabaseUrlError(
                f"{name}={params[name]} cannot be honoured by Tocsin's driver (asyncpg); use {name}=prefer or drop it"
            )
    arguments: dict[str, Any] = {}
    tls = _tls(params)
    if tls is not None:
        arguments["ssl"] = tls
    if params.get("sslnegotiation", "postgres") not in ("postgres", "direct"):
        raise DatabaseUrlError("sslnegotiation must be postgres or direct")
    if params.get("sslnegotiation") == "direct":
        if not isinstance(tls, ssl.SSLContext):
            raise DatabaseUrlError("sslnegotiation=direct needs sslmode=require, verify-ca or verify-full")
        arguments["direct_tls"] = True
    arguments["server_settings"] = _server_settings(params)
    if "connect_timeout" in params:
        seconds = _whole_number(params, "connect_timeout")
        if seconds > 0:  # libpq: 0 waits forever, so leave asyncpg's own limit (60 s); it waits at least 2 s
            arguments["timeout"] = float(max(seconds, 2))
    if "statement_cache_size" in params:  # the driver's prepared statements; 0 turns its cache off
        arguments["statement_cache_size"] = _whole_number(params, "statement_cache_size")
    if "prepared_statement_cache_size" in params:  # SQLAlchemy's, read from the URL: checked here
        _whole_number(params, "prepared_statement_cache_size")
    if "target_session_attrs" in params:
        arguments["target_session_attrs"] = _one_of(params, "target_session_attrs", SESSION_ATTRS)
    if "passfile" in params:
        arguments["passfile"] = params["passfile"]
    return arguments


def _single_values(query: Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in query.items():
        if name == "host":  # several hosts are SQLAlchemy's to read
            continue
        if not isinstance(value, str) and len(value) > 1:
            raise DatabaseUrlError(f"the parameter {name!r} is given {len(value)} times; give it once")
        params[name] = value if isinstance(value, str) else value[0]
    if "ssl" in params and "sslmode" in params:
        raise DatabaseUrlError("give sslmode or ssl, not both (ssl is an older spelling of sslmode)")
    return params


def _tls(params: dict[str, str]) -> ssl.SSLContext | str | bool | None:
    """asyncpg's `ssl` argument: False, its own `allow`/`prefer`, or a context built as libpq would."""
    name = "sslmode" if "sslmode" in params else "ssl"
    if name not in params:
        given = [file for file in TLS_FILES if file in params]
        if given:
            raise DatabaseUrlError(f"{given[0]} needs sslmode=verify-full (or verify-ca, or require) to be used")
        return None  # asyncpg's default, like libpq's: prefer
    mode = _one_of(params, name, SSL_MODES)
    if mode in ("disable", "allow", "prefer"):
        given = [file for file in TLS_FILES if file in params]
        if given:
            raise DatabaseUrlError(
                f"{given[0]} would be ignored with {name}={mode}; use sslmode=verify-full (or verify-ca, or require)"
            )
        return False if mode == "disable" else mode
    return _context(mode, params)


def _context(mode: str, params: dict[str, str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    root = params.get("sslrootcert")
    if mode in VERIFYING and root is None:
        raise DatabaseUrlError(
            f"sslmode={mode} needs sslrootcert=<the CA's certificate file> (or sslrootcert=system for a public CA)"
        )
    if root == "system" and mode != "verify-full":
        raise DatabaseUrlError("sslrootcert=system needs sslmode=verify-full (as libpq requires)")
    # libpq's require encrypts without checking the certificate, unless a root certificate is given: then
    # it checks it as verify-ca does. Only verify-full checks the host name.
    context.check_hostname = mode == "verify-full"
    if root is None:
        context.verify_mode = ssl.CERT_NONE
    elif root == "system":
        context.load_default_certs()
    else:
        _load(lambda: context.load_verify_locations(cafile=root), "sslrootcert", root)
    if "sslcrl" in params:
        if root is None:
            raise DatabaseUrlError("sslcrl needs sslrootcert (revocation is checked only on a verified certificate)")
        _load(lambda: context.load_verify_locations(cafile=params["sslcrl"]), "sslcrl", params["sslcrl"])
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    if "sslkey" in params and "sslcert" not in params:
        raise DatabaseUrlError("sslkey needs sslcert (the client certificate it belongs to)")
    if "sslcert" in params:
        cert, key, password = params["sslcert"], params.get("sslkey"), params.get("sslpassword", "")
        hint = "no private key for it in sslkey or the file, or a wrong sslpassword"
        _load(lambda: context.load_cert_chain(cert, keyfile=key, password=lambda: password), "sslcert", cert, hint)
    for bound in ("min", "max"):
        name = f"ssl_{bound}_protocol_version"
        if name in params:
            version = TLS_VERSIONS[_one_of(params, name, tuple(TLS_VERSIONS))]
            setattr(context, f"{bound}imum_version", version)
    low, high = params.get("ssl_min_protocol_version"), params.get("ssl_max_protocol_version")
    if low and high and TLS_VERSIONS[low] > TLS_VERSIONS[high]:
        raise DatabaseUrlError("ssl_min_protocol_version is above ssl_max_protocol_version: no TLS version is left")
    if ssl.HAS_ALPN:
        context.set_alpn_protocols(_ALPN)
    return context


def _load(load: Callable[[], object], name: str, path: str, hint: str = "not PEM") -> None:
    try:
        load()
    except FileNotFoundError:
        raise DatabaseUrlError(f"{name}: there is no file {path}") from None
    except ssl.SSLError as exc:  # OpenSSL's reason, when it gives one, is an upper-case code
        reason = exc.reason.lower().replace("_", " ") if exc.reason else hint
        raise DatabaseUrlError(f"{name}: {path} could not be loaded ({reason})") from None
    except OSError as exc:
        raise DatabaseUrlError(f"{name}: {path} could not be read ({exc.strerror})") from None


def _server_settings(params: dict[str, str]) -> dict[str, str]:
    # PostgreSQL itself reads `options` (`-c search_path=app`) from the start-up packet, as libpq sends it.
    name = params.get("application_name") or params.get("fallback_application_name") or DEFAULT_APPLICATION_NAME
    settings = {"application_name": name}
    if params.get("options"):
        settings["options"] = params["options"]
    return settings


def _whole_number(params: dict[str, str], name: str) -> int:
    try:
        return int(params[name])
    except ValueError:
        raise DatabaseUrlError(f"{name} must be a whole number, not {params[name]!r}") from None


def _one_of(params: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = params[name]
    if value not in allowed:
        raise DatabaseUrlError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value
