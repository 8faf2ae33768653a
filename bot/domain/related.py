"""Related past incidents, from plain data: what an incident is keyed by (its service, its alert group, the
identifying labels of its alerts), the words its title is searched by, how a candidate scores (shared keys
and how much of the title it shares), and when an open incident looks like the same one. Pure."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from anyascii import anyascii

from bot.domain.errors import UserError
from bot.domain.incidents import Incident, NewIncident

SHOWN = 3  # related incidents shown at once
LOOKALIKE_WINDOW = timedelta(hours=1)  # an open incident declared this recently may be the same one
LOOKALIKE_SIMILARITY = 0.5  # share of the new title's words an open incident's title has
SEARCH_TERMS = 8  # words of the title (then the description) searched for
KEY_LENGTH = 255  # the incident_keys.key column

# Labels that say what is wrong and where (not which pod or instance): shared ones make incidents related.
IDENTIFYING_LABELS = frozenset(
    {"alertname", "service", "job", "app", "component", "namespace", "cluster", "team", "env", "environment"}
)
# Common words that say nothing about what happened.
_STOPWORD_TEXT = """a an and are as at be been but by for from has have in into is it its of on or our the their this to
    was were will with after again all any are can cannot could did does down during from high how incident
    issue issues low more not now off out over some than that then there these they too under up very what
    when where which while who why"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[a-z0-9]+")
_ALERT_KEY = re.compile(r"^alert:([^:]+):\d+:(.+)$", re.DOTALL)

# What each kind of evidence is worth; the text's share is multiplied by its weight.
SAME_GROUP = 5.0
SAME_SERVICE = 3.0
SHARED_LABEL = 1.5  # per identifying label shared, at most three counted
TEXT = 4.0


def words(text: str) -> list[str]:
    """The words of `text` that say something, lowercased and transliterated, in order, each once."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(anyascii(text).lower()):
        if len(word) >= 2 and word not in _STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


def search_terms(title: str, description: str = "") -> tuple[str, ...]:
    """The words an incident is searched by: its title's, then its description's, at most SEARCH_TERMS."""
    return tuple(dict.fromkeys([*words(title), *words(description)]))[:SEARCH_TERMS]


def alert_group_of(declare_key: str) -> str | None:
    """The alert group (`source:group key`) an incident was declared from, whatever its generation; None
    when it was declared by a person."""
    match = _ALERT_KEY.match(declare_key)
    return f"{match.group(1)}:{match.group(2)}" if match else None


def _key(kind: str, value: str) -> str:
    key = f"{kind}:{value}"
    if len(key) <= KEY_LENGTH:
        return key
    return f"{kind}:#{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"


def keys_of(
    service: str | None, alert_group: str | None = None, labels: Mapping[str, str] | None = None
) -> frozenset[str]:
    """What an incident is keyed by: `service:…`, `group:…` and one `label:name=value` per identifying label."""
    keys = set()
    if service:
        keys.add(_key("service", service))
    if alert_group:
        keys.add(_key("group", alert_group))
    for name, value in (labels or {}).items():
        if name in IDENTIFYING_LABELS and value:
            keys.add(_key("label", f"{name}={value}"))
    return frozenset(keys)


@dataclass(frozen=True, slots=True)
class Subject:
    """The incident related ones are looked for: its keys and search words (an incident not yet declared
    has no id)."""

    team_id: str
    title: str
    keys: frozenset[str] = frozenset()
    terms: tuple[str, ...] = ()
    incident_id: int | None = None
    declared_at: datetime | None = None  # only earlier incidents are related ones

    @classmethod
    def of(cls, incident: Incident, keys: Iterable[str] = ()) -> Subject:
        """A stored incident as the subject (its service's key added to `keys`)."""
        return cls(
            team_id=incident.team_id,
            title=incident.title,
            keys=frozenset(keys) | keys_of(incident.service),
            terms=search_terms(incident.title, incident.description),
            incident_id=incident.id,
            declared_at=incident.declared_at,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """An incident found by the store: by a shared key, by full-text search, or both."""

    incident: Incident
    keys: frozenset[str] = frozenset()
    text_rank: float = 0.0  # the database's own rank of the text match (higher is closer; 0: none)
    open_follow_ups: int = 0
    postmortem: bool = False  # a postmortem draft was published


@dataclass(frozen=True, slots=True)
class Match:
    """A candidate as scored for one subject, with the reasons people are shown."""

    candidate: Candidate
    score: float
    reasons: tuple[str, ...] = field(default=())

    @property
    def incident(self) -> Incident:
        """The related incident."""
        return self.candidate.incident


def similarity(terms: Sequence[str], text: str) -> float:
    """The share of `terms` that `text` has (0 to 1)."""
    if not terms:
        return 0.0
    found = set(words(text))
    return sum(1 for t in terms if t in found) / len(terms)


def _text_of(incident: Incident) -> str:
    return f"{incident.title} {incident.description} {incident.resolution_summary}"


def score(subject: Subject, candidate: Candidate) -> Match:
    """How related `candidate` is to `subject`, and why (no reason: not related)."""
    shared = subject.keys & candidate.keys
    reasons: list[str] = []
    total = 0.0
    if any(k.startswith("group:") for k in shared):
        total += SAME_GROUP
        reasons.append("same alert group")
    if any(k.startswith("service:") for k in shared):
        total += SAME_SERVICE
        reasons.append("same service")
    labels = sorted(k.removeprefix("label:") for k in shared if k.startswith("label:"))
    if labels:
        total += SHARED_LABEL * min(len(labels), 3)
        reasons.append("shared labels: " + ", ".join(labels[:3]))
    text = similarity(subject.terms, _text_of(candidate.incident))
    if text > 0:
        total += TEXT * text
        reasons.append("similar title" if text >= LOOKALIKE_SIMILARITY else "some words in common")
    return Match(candidate, round(total, 6), tuple(reasons))


def rank(subject: Subject, candidates: Iterable[Candidate]) -> list[Match]:
    """Every related candidate, closest first (ties: the database's text rank, then the most recent);
    the subject itself, later incidents and other workspaces' are left out."""
    found: dict[int, Match] = {}
    for candidate in candidates:
        incident = candidate.incident
        if incident.id == subject.incident_id or incident.team_id != subject.team_id:
            continue
        if subject.declared_at is not None and incident.declared_at >= subject.declared_at:
            continue
        match = score(subject, candidate)
        if match.reasons and (incident.id not in found or found[incident.id].score < match.score):
            found[incident.id] = match
    return sorted(
        found.values(),
        key=lambda m: (-m.score, -m.candidate.text_rank, -m.incident.declared_at.timestamp(), -m.incident.id),
    )


def looks_like_same(subject: Subject, candidate: Candidate, *, now: datetime) -> bool:
    """Whether an open incident may be the one `subject` is about to declare again: declared within the
    last hour, and from the same alert group, for the same service, or with a similar title."""
    incident = candidate.incident
    if not incident.status.is_open or incident.team_id != subject.team_id:
        return False
    if now - incident.declared_at > LOOKALIKE_WINDOW:
        return False
    shared = subject.keys & candidate.keys
    if any(k.startswith(("group:", "service:")) for k in shared):
        return True
    return similarity(subject.terms, incident.title) >= LOOKALIKE_SIMILARITY


def lookalike(subject: Subject, candidates: Iterable[Candidate], *, now: datetime) -> Candidate | None:
    """The open incident most like `subject` among `candidates` (the most recent of equals), if any."""
    alike = [c for c in candidates if looks_like_same(subject, c, now=now)]
    if not alike:
        return None
    return max(alike, key=lambda c: (score(subject, c).score, c.incident.declared_at, c.incident.id))


def common_labels(alerts: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The identifying labels every one of `alerts` has with the same value."""
    shared: dict[str, str] | None = None
    for labels in alerts:
        mine = {k: v for k, v in labels.items() if k in IDENTIFYING_LABELS and v}
        shared = mine if shared is None else {k: v for k, v in shared.items() if mine.get(k) == v}
    return shared or {}


# ----- the declare a "Declare anyway" button carries ----------------------------------------------
VALUE_LIMIT = 2000  # a button's value
_CARRIED = ("team_id", "title", "severity", "declare_key", "service", "private", "incident_type", "custom_fields")


def carried_request(new: NewIncident) -> str | None:
    """The declare as a button's value (JSON), or None when it does not fit in one."""
    value = json.dumps({name: getattr(new, name) for name in _CARRIED}, separators=(",", ":"), default=str)
    return value if len(value) <= VALUE_LIMIT else None


def request_from(value: str, *, declared_by: str) -> NewIncident:
    """The declare a button carried, now declared by `declared_by`; UserError when it is not one."""
    try:
        carried = json.loads(value)
        new = NewIncident(
            team_id=str(carried["team_id"]),
            title=str(carried["title"]),
            severity=str(carried["severity"]),
            declared_by=declared_by,
            declare_key=str(carried["declare_key"]),
            service=str(carried["service"]) if carried.get("service") else None,
            private=bool(carried.get("private", False)),
            incident_type=str(carried["incident_type"]) if carried.get("incident_type") else None,
            custom_fields=dict(carried.get("custom_fields") or {}),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise UserError("That button isn't carrying a declare any more; type `/incident declare` again.") from exc
    if not new.title.strip():
        raise UserError("That button isn't carrying a declare any more; type `/incident declare` again.")
    return new
