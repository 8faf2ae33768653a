"""Reading the policy file: YAML into a validated Policy (every problem with its key path), paths in it
read from the file's folder, and the runbooks folder in force."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.domain.errors import ConfigError
from bot.domain.policy import PROBLEM_SEPARATOR, Policy


def key_path(location: tuple[int | str, ...]) -> str:
    """A key path as the policy file's errors write it: `severities[0].notify`."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def describe_error(error: dict[str, object]) -> str:
    """A pydantic error as `key.path: message`."""
    location: tuple[int | str, ...] = tuple(error["loc"])  # type: ignore[arg-type]
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    path = key_path(location)
    return f"{path}: {message}" if path else message


def parse_policy(data: object, source: str = "tocsin.yml") -> Policy:
    """Validate already-parsed YAML into a Policy; ConfigError lists each problem with its key path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = PROBLEM_SEPARATOR.join(describe_error(e) for e in exc.errors())  # type: ignore[arg-type]
        raise ConfigError(f"{source}: {problems}") from None


def load_policy(path: Path | None) -> Policy:
    """Read the policy file at `path`, or the built-in defaults when there is none."""
    if path is None:
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"TOCSIN_CONFIG: cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    return relative_to(parse_policy(data, source=str(path)), path.parent)


def relative_to(policy: Policy, folder: Path) -> Policy:
    """The policy with its relative paths (runbooks_dir, postmortem_template) read from `folder`: the
    policy file's own, not wherever Tocsin happens to be started."""
    update = {
        key: str(folder / value)
        for key, value in (("runbooks_dir", policy.runbooks_dir), ("postmortem_template", policy.postmortem_template))
        if value is not None and not Path(value).is_absolute()
    }
    return policy.model_copy(update=update) if update else policy


def shipped_runbooks() -> Path:
    """The folder of runbooks installed with Tocsin."""
    return Path(str(resources.files("tocsin_runbooks")))


def runbooks_folder(policy: Policy) -> tuple[Path, str]:
    """The runbooks folder in force and where it came from; ConfigError when a configured one is missing."""
    if policy.runbooks_dir is None:
        return shipped_runbooks(), "shipped with Tocsin"
    folder = Path(policy.runbooks_dir)
    if not folder.is_dir():
        raise ConfigError(f"runbooks_dir: {folder} is not a folder")
    return folder, "runbooks_dir"
