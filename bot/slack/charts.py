"""Charts as PNG bytes. matplotlib (Agg, no display) is imported on first use and run in a worker
thread by the caller, so neither start-up nor the event loop pays for it. A chart that cannot be drawn
(matplotlib needs a writable cache folder: MPLCONFIGDIR, else ~/.config, else a temporary one) raises
ChartError, and the caller goes on without the picture."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

from bot.domain.errors import ChartError

__all__ = ["ChartError", "mttr_by_week_png"]


def mttr_by_week_png(
    weekly_mttr: Mapping[date, Mapping[str, float]], severities: Sequence[str], colours: Mapping[str, str | None]
) -> bytes:
    """A line per severity: mean time to resolve (hours) of the incidents declared each week."""
    try:
        return _mttr_by_week_png(weekly_mttr, severities, colours)
    # matplotlib fails as OSError (no writable cache folder), ValueError, RuntimeError…: each means no picture.
    except Exception as exc:
        raise ChartError(" ".join(f"{type(exc).__name__}: {exc}".split())) from exc


def _mttr_by_week_png(
    weekly_mttr: Mapping[date, Mapping[str, float]], severities: Sequence[str], colours: Mapping[str, str | None]
) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    weeks = sorted(weekly_mttr)
    for severity in severities:
        points = [(week, weekly_mttr[week][severity] / 3600) for week in weeks if severity in weekly_mttr[week]]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        axes.plot(xs, ys, marker="o", label=severity, color=colours.get(severity) or None)
    axes.set_title("Mean time to resolve, by week declared")
    axes.set_ylabel("hours")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
