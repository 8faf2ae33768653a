"""`helm lint` without the helm binary, which no package registry we use ships: Helm's own linter (Helm 4,
the library inside the helm-sdkpy wheel, which `make lint` unpacks into .venv/helm) called through ctypes.

    python -m tests.helm_lint deploy/helm/tocsin [more-values.yaml ...]

Each values file is merged over the chart's values.yaml (as `helm lint -f` does) in a copy of the chart.
Prints one line per finding and exits 1 on any warning or error (`helm lint --strict`). The library's
findings carry their severity and file but not their text; `helm lint` on a machine that has helm says more.
Run it in a process of its own: the Go runtime inside the library installs signal handlers.
"""

from __future__ import annotations

import ctypes
import json
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / ".venv" / "helm" / "helm_sdkpy" / "_lib" / "linux-amd64" / "libhelm_sdkpy.so"
SEVERITIES = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}
WARNING = 2


def available() -> bool:
    """Whether Helm's linter can run here (the library is built for Linux on x86-64 only)."""
    return LIBRARY.is_file()


def supported_platform() -> bool:
    return platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64")


def merged(base: Any, override: Any) -> Any:
    """`override` over `base`, maps merged key by key as Helm merges values files."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{key: merged(base.get(key), value) for key, value in override.items()}}
    return override


def lint(chart: Path, *values_files: Path) -> list[tuple[str, str]]:
    """Helm's findings for the chart with the values files merged in: (severity, path) each."""
    library = ctypes.CDLL(str(LIBRARY))
    library.helm_sdkpy_last_error.restype = ctypes.c_char_p
    handle = ctypes.c_ulonglong()
    if library.helm_sdkpy_config_create(b"default", None, None, None, ctypes.byref(handle)) != 0:
        raise RuntimeError(f"helm: {library.helm_sdkpy_last_error()!r}")
    with tempfile.TemporaryDirectory(prefix="helm-lint-") as scratch:
        copy = Path(scratch) / chart.name
        shutil.copytree(chart, copy)
        values = yaml.safe_load((copy / "values.yaml").read_text()) or {}
        for extra in values_files:
            values = merged(values, yaml.safe_load(extra.read_text()) or {})
        (copy / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
        result = ctypes.c_char_p()
        if library.helm_sdkpy_lint(handle, str(copy).encode(), ctypes.byref(result)) != 0:
            raise RuntimeError(f"helm lint: {library.helm_sdkpy_last_error()!r}")
    report = json.loads(result.value or b"{}")
    return [(SEVERITIES.get(m["Severity"], str(m["Severity"])), m["Path"]) for m in report.get("Messages") or []]


def main(argv: list[str]) -> int:
    """Lint the chart named first with the values files after it; 1 on a warning or an error."""
    if not argv:
        print("usage: python -m tests.helm_lint CHART [VALUES.yaml ...]", file=sys.stderr)
        return 2
    if not available():
        if supported_platform():
            print(f"helm lint: {LIBRARY} is missing; `make lint` unpacks it", file=sys.stderr)
            return 1
        print("helm lint: skipped (Helm's linter library is built for Linux x86-64 only)")
        return 0
    chart, *values_files = (Path(a) for a in argv)
    findings = lint(chart, *values_files)
    for severity, path in findings:
        print(f"[{severity}] {chart / path}")
    failed = [f for f in findings if f[0] in ("WARNING", "ERROR", "UNKNOWN")]
    with_values = f" with {', '.join(map(str, values_files))}" if values_files else ""
    print(f"helm lint {chart}{with_values}: {len(failed)} warning(s) or error(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
