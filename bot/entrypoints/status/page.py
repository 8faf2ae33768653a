"""The status page's in-process snapshot: every body it serves (the HTML, the Atom feed, the JSON documents)
rendered once, each with a strong ETag, and served from memory, so a traffic spike in an outage costs no
database query per request.

A refresher keeps it current across replicas: every REFRESH_SECONDS it reads the event log's newest
position (one cheap query) and rebuilds when that moved (any change anywhere appends an event) or the day
changed (the history moves on); a commit that appended events in this process rings its doorbell, so a
publication made here shows at once. Rebuilds are at least MIN_GAP apart, so a storm of changes costs at
most a rebuild or two a second. Until the first build the routes answer 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date

from aiohttp import web

from bot.domain.status_page import StatusSnapshot
from bot.entrypoints.status.atom import atom_feed
from bot.entrypoints.status.html import StatusHtml
from bot.entrypoints.status.statuspage_json import StatuspageJson
from bot.runtime.background import transient
from bot.runtime.cancelling import raise_if_cancelling
from bot.runtime.doorbell import Doorbell
from bot.runtime.logs import Outage
from bot.usecases.status_board import StatusBoard

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0  # how often the event log's newest position is read (other replicas' changes)
MIN_GAP = 0.5  # seconds between two rebuilds, however often changes are committed
# Failures this long after starting, before the first build, are expected (the process starts serving
# HTTP before it has migrated the database) and logged only at DEBUG.
STARTING_QUIET = 120.0

COMPRESS_FROM = 1024  # bytes: smaller bodies are sent as they are

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSON = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Body:
    """One rendered response body, its content type and its strong ETag (a digest of the bytes), and the
    same gzip-compressed (an outage's crowd costs a tenth of the bandwidth) with an ETag of its own, as a
    representation of its own."""

    content: bytes
    content_type: str
    etag: str
    gzipped: bytes | None = None

    @classmethod
    def of(cls, content: bytes, content_type: str) -> Body:
        """A body with its ETag, compressed too when that is worth it."""
        digest = hashlib.sha256(content).hexdigest()[:32]
        # mtime=0: the same bytes compress to the same bytes, whenever and wherever they are built.
        packed = gzip.compress(content, compresslevel=6, mtime=0) if len(content) >= COMPRESS_FROM else None
        return cls(content, content_type, f'"{digest}"', packed)

    @property
    def gzip_etag(self) -> str:
        """The compressed representation's ETag."""
        return f'{self.etag[:-1]}-gzip"'


@dataclass(frozen=True, slots=True)
class Rendered:
    """Every body of one snapshot (by path under /status), and what it was built from."""

    version: int
    today: date
    bodies: Mapping[str, Body]


class StatusPage:
    """The snapshot and its refresher (started and stopped with the web application: `running`)."""

    def __init__(
        self,
        board: StatusBoard,
        *,
        public_url: str,
        doorbell: Doorbell | None = None,
        every: float = REFRESH_SECONDS,
        min_gap: float = MIN_GAP,
    ) -> None:
        """`public_url`: where customers reach Tocsin (PUBLIC_URL); `doorbell`: rung after this process
        commits events (the unit of work's), so its own changes show at once."""
        self.board = board
        self.page_url = f"{public_url.rstrip('/')}/status"
        self.every, self.min_gap = every, min_gap
        self.rendered: Rendered | None = None
        self.rebuilds = 0  # snapshots built so far (tests and the benchmark read it)
        self._bell = Doorbell()
        if doorbell is not None:
            doorbell.answer_with(self._bell.ring)
        self._html = StatusHtml()
        self._json = StatuspageJson(page_url=self.page_url, time_zone=board.policy.timezone)
        self._outage = Outage(log, "status page: the database")
        self._task: asyncio.Task[None] | None = None

    def body(self, path: str) -> Body | None:
        """The current body served at /status/`path` ("" for the page itself); None before the first build."""
        rendered = self.rendered
        return None if rendered is None else rendered.bodies.get(path)

    def wake(self) -> None:
        """Look for changes now rather than at the next REFRESH_SECONDS."""
        self._bell.ring()

    async def refresh(self) -> bool:
        """Rebuild if anything may have changed since the last build; whether it rebuilt."""
        version, today = await self.board.version(), self.board.today()
        current = self.rendered
        if current is not None and current.version == version and current.today == today:
            return False
        built_at, snapshot = await self.board.snapshot()
        # Rendering takes a few milliseconds for a long history: off the event loop, which keeps serving.
        bodies = await asyncio.to_thread(self.render, snapshot)
        self.rendered = Rendered(built_at, snapshot.today, bodies)
        self.rebuilds += 1
        return True

    def render(self, snapshot: StatusSnapshot) -> dict[str, Body]:
        """Every body of a snapshot, by path under /status."""
        bodies = {"": Body.of(self._html.render(snapshot), HTML)}
        bodies["feed.atom"] = Body.of(atom_feed(snapshot, page_url=self.page_url), ATOM)
        for path, content in self._json.documents(snapshot).items():
            bodies[f"api/v2/{path}"] = Body.of(content, JSON)
        return bodies

    # ----- the refresher ---------------------------------------------------------------------------
    async def running(self, _app: web.Application) -> AsyncIterator[None]:
        """The refresher for as long as the web application runs (an aiohttp cleanup context)."""
        self.start()
        yield
        await self.stop()

    def start(self) -> None:
        """Start the refresher (inside the running loop); the first build is tried at once."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="tocsin-status-page")

    async def stop(self) -> None:
        """Stop the refresher."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        quiet_until = loop.time() + STARTING_QUIET
        told = False  # a failing rebuild's error was logged
        while True:
            rung = self._bell.armed()
            started = loop.time()
            try:
                await self.refresh()
                self._outage.answered()
                told = False
            except Exception as exc:
                raise_if_cancelling(exc)
                if self.rendered is None and loop.time() < quiet_until:  # the database may not be migrated yet
                    log.debug("status page: not built yet (%s)", type(exc).__name__)
                elif transient(exc):
                    self._outage.failed(type(exc).__name__)  # the page keeps serving its last build
                elif not told:
                    told = True
                    log.exception("status page: a rebuild failed (said once until one works); the last build is served")
            await Doorbell.wait(rung, self.every)
            if (gap := self.min_gap - (loop.time() - started)) > 0:
                await asyncio.sleep(gap)
