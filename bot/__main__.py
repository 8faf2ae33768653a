"""The `tocsin` command line: run, migrate, check, postmortem, token."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import yaml

from bot.domain.errors import ConfigError, UserError
from bot.domain.oncall import gaps
from bot.domain.policy import Policy
from bot.domain.policy_file import load_policy
from bot.domain.postmortem import load_template
from bot.entrypoints.policy_check import check_in_slack, check_policy, check_policy_file, check_webhook_secrets
from bot.entrypoints.token_cli import add_token_commands, run_token_command
from bot.runtime import logs
from bot.runtime.version import VERSION
from bot.settings import DatabaseSettings, OfflineSettings, Settings, load_settings, redact_url
from bot.usecases.ports import utc_now

EXIT_CONFIG = 2
# Binding the HTTP port failed: in use, not ours to take (< 1024), or an address this host does not have.
_CANNOT_LISTEN = {errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL}
log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="tocsin", description="A Slack bot that runs incidents.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="migrate the database, serve HTTP and connect to Slack")
    sub.add_parser("migrate", help="upgrade the database schema and exit")
    check = sub.add_parser(
        "check", help="validate a policy file (its runbooks and template too) and print what would be used"
    )
    check.add_argument("file", nargs="?", help="the policy file (default: TOCSIN_CONFIG, else ./tocsin.yml)")
    check.add_argument("--settings", action="store_true", help="also check the settings (tokens, database URL)")
    check.add_argument(
        "--slack", action="store_true", help="also ask Slack whether each user and group named exists (with --settings)"
    )
    check.add_argument(
        "--trackers", action="store_true", help="also try each tracker's credentials (GitHub, GitLab, Jira, Linear)"
    )
    postmortem = sub.add_parser("postmortem", help="print an incident's postmortem draft (Markdown)")
    postmortem.add_argument("incident", help="INC-42 or 42")
    add_token_commands(sub)
    parser.add_argument("--version", action="version", version=f"tocsin {VERSION}")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check(args.file, with_settings=args.settings, with_slack=args.slack, with_trackers=args.trackers)
        if args.command == "migrate":
            logs.configure("INFO")
            return _migrate(load_settings(DatabaseSettings))
        if args.command == "token":
            logs.configure("WARNING")
            return run_token_command(args, load_settings(DatabaseSettings))
        if args.command == "postmortem":
            offline = load_settings(OfflineSettings)
            return _postmortem(offline, load_policy(offline.policy_path), args.incident)
        settings = load_settings(Settings)
        logs.configure(settings.log_level, settings.log_format)
        policy = load_policy(settings.policy_path)
        return asyncio.run(_serve(settings, policy))
    except (ConfigError, UserError) as exc:
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def _check(file: str | None, *, with_settings: bool, with_slack: bool = False, with_trackers: bool = False) -> int:
    """Check a policy file (and settings when asked, or when Slack's are set; and with Slack when asked);
    every problem at once."""
    logs.configure("ERROR")  # the problems are printed below, once each
    offline = load_settings(OfflineSettings)
    path = Path(file) if file else offline.policy_path
    problems: list[str] = []
    settings: Settings | None = None
    if with_slack or with_settings or os.environ.get("SLACK_BOT_TOKEN") or _dotenv_sets("SLACK_BOT_TOKEN"):
        try:
            settings = load_settings(Settings)
        except ConfigError as exc:
            problems.append(str(exc))
        else:
            print("# settings")
            for name, value in settings.describe().items():
                print(f"{name}: {value}")
            print()
    report = check_policy(Policy(), "built-in defaults") if path is None else check_policy_file(path)
    if with_slack and settings is not None:
        token, api_url = settings.slack_bot_token.get_secret_value(), settings.slack_api_url
        asyncio.run(check_in_slack(report, token=token, api_url=api_url))
    print(f"# policy ({path or 'built-in defaults'})")
    if report.policy is not None:
        dumped = report.policy.model_dump(mode="json")
        print(yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True), end="")
        print(f"\n# runbooks from {report.runbooks_from or '(none)'}")
        for line in report.runbooks:
            print(line)
        print(f"\n# postmortem template\n{report.policy.postmortem_template or '(built in)'}")
        warnings = schedule_gaps(report.policy, datetime.now(UTC))
        if warnings:
            print("\n# warnings")
            for warning in warnings:
                print(warning)
    if settings is not None and report.policy is not None and report.policy.webhooks:
        print("\n# webhooks")
        for line in check_webhook_secrets(report, os.environ):
            print(line)
    if with_trackers and report.policy is not None and report.policy.trackers:
        from bot.entrypoints.tracker_check import check_trackers  # only with --trackers: loads the adapters

        print("\n# trackers")
        lines, fine = asyncio.run(check_trackers(report.policy, os.environ))
        print("\n".join(lines))
        problems += [] if fine else ["a tracker's credentials cannot do what Tocsin needs (see # trackers)"]
    problems += [str(finding) for finding in report.problems]
    for problem in problems:
        print(f"tocsin: {problem}", file=sys.stderr)
    if problems:
        print(f"tocsin: {len(problems)} problem(s) found", file=sys.stderr)
    return EXIT_CONFIG if problems else 0


def _dotenv_sets(name: str) -> bool:
    env = Path(".env")
    return env.is_file() and any(
        line.strip().startswith(f"{name}=") and line.strip() != f"{name}=" for line in env.read_text().splitlines()
    )


def schedule_gaps(policy: Policy, now: datetime) -> list[str]:
    """One line for each schedule that leaves nobody on call in the next two weeks."""
    lines = []
    for name, schedule in policy.schedules.items():
        found = gaps(schedule, now)
        if found:
            start, end = found[0]
            begin, finish = start.astimezone(schedule.zone), end.astimezone(schedule.zone)
            first = f"{begin:%a %Y-%m-%d %H:%M} to {finish:%a %H:%M} {schedule.timezone}"
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            lines.append(f"schedule {name}: nobody is on call {first}{more}")
    return lines


def _migrate(settings: DatabaseSettings) -> int:
    from bot.runtime.startup import wait_for_database
    from storage.db import create_engine
    from storage.migrate import current_revision, upgrade_to_head

    async def migrate() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await wait_for_database(
                engine, settings.database_url, within=settings.startup_timeout, ready=upgrade_to_head
            )
            return await current_revision(engine)
        finally:
            await engine.dispose()

    print(f"database at revision {asyncio.run(migrate())}")
    return 0


def _postmortem(settings: OfflineSettings, policy: Policy, reference: str) -> int:
    """Print an incident's draft; the incident is named INC-42 or 42 (and must be unambiguous)."""
    from bot.domain.incidents import parse_reference
    from bot.usecases.postmortems import PostmortemService
    from storage.db import create_engine, session_factory
    from storage.migrate import current_revision, head_revision
    from storage.uow import UnitOfWork

    number = parse_reference(reference)
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:  # connecting would create an empty file and then report it unmigrated
        raise ConfigError(f"there is no database at {missing} (DATABASE_URL); point DATABASE_URL at Tocsin's database")

    async def draft() -> str:
        engine = create_engine(settings.database_url)
        try:
            if await current_revision(engine) != head_revision():
                raise ConfigError("the database is not migrated to this version; run `tocsin migrate` first")
            uow = partial(UnitOfWork, session_factory(engine))
            async with uow(read_only=True) as work:
                found = await work.incidents.with_number(number)
            if not found:
                raise ConfigError(f"there is no INC-{number} in {redact_url(settings.database_url)}")
            if len(found) > 1:
                teams = ", ".join(sorted(i.team_id for i in found))
                raise ConfigError(f"INC-{number} exists in several workspaces ({teams})")
            service = PostmortemService(
                uow=uow,
                slack=None,  # type: ignore[arg-type]  # printing needs no Slack
                policy=policy,
                clock=utc_now,
                template=load_template(policy.postmortem_template),
            )
            return await service.draft(found[0].id)
        finally:
            await engine.dispose()

    sys.stdout.write(asyncio.run(draft()))
    return 0


def _missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite DATABASE_URL names, when it does not exist; None for anything else."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path.absolute()


async def _serve(settings: Settings, policy: Policy) -> int:
    from bot.app import build

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    tocsin = await build(settings, policy)
    # A signal stops the process in every phase: while it waits for the database or Slack, and after.
    starting = asyncio.create_task(tocsin.start())
    signalled = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            try:
                starting.result()  # a ConfigError (refused token, unreachable database) ends start-up here
            except OSError as exc:
                if exc.errno not in _CANNOT_LISTEN:
                    raise
                where = f"{settings.host}:{settings.port}"
                raise ConfigError(f"HOST/PORT: cannot listen on {where} ({os.strerror(exc.errno)})") from None
            await signalled
        else:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        log.info("stopping: finishing work in flight (up to %gs)", settings.shutdown_grace)
    finally:
        signalled.cancel()
        await tocsin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
