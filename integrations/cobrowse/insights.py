"""Co-browse insights: what co-browsing did over a date range, from the helpdesk's own records.

Counts (sessions per day, consent, tools, ends) come from the events; session lengths and the
per-agent figures from the session links. Each figure is one grouped query and the percentiles are
picked in the database (window functions), so the page makes the same number of queries whatever
the amount of data, and reads only the rows a percentile needs.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from fractions import Fraction

from django.db import connection
from django.db.models import (
    BooleanField, Case, Count, DateField, Exists, F, FloatField, Func, OuterRef, Q, TextField, Value, When, Window,
)
from django.db.models.fields.json import KeyTextTransform, compile_json_path
from django.db.models.functions import Coalesce, NullIf, RowNumber, TruncDate
from django.utils import timezone

from helpdesk.events import Verb
from helpdesk.models import Event, Ticket

from .models import SessionLink

# Short names of the causes a session ends with (every key of events.ENDED_BY), for charts.
CAUSE_LABELS = {
    "agent": "Agent",
    "customer": "Customer",
    "ticket_closed": "Ticket closed",
    "chat_closed": "Chat closed",
    "external_closed": "Outside call/chat",
    "repair": "Repair job",
    "timeout": "Timeout",
    "limit": "Session limit",
    "elsewhere": "In Cobrowse",
    "unknown": "Unknown",
}

CONSENT = (
    ("asked", "Asked", Verb.COBROWSE_CONSENT_ASKED),
    ("allowed", "Allowed", Verb.COBROWSE_CONSENT_ALLOWED),
    ("declined", "Declined", Verb.COBROWSE_CONSENT_DECLINED),
)
# A tool counts as used by a session when it was picked (laser, drawing) or allowed (the others).
TOOLS = (
    ("laser", "Laser", Verb.COBROWSE_TOOL, "laser"),
    ("drawing", "Drawing", Verb.COBROWSE_TOOL, "drawing"),
    ("full_device", "Full device", Verb.COBROWSE_FULL_DEVICE_ALLOWED, None),
    ("remote_control", "Remote control", Verb.COBROWSE_REMOTE_CONTROL_ALLOWED, None),
)
# Asked for, allowed, declined and stopped, per feature that needs the customer's consent.
FEATURES = {
    "full_device": ("Full device", {
        "requested": Verb.COBROWSE_FULL_DEVICE_REQUESTED, "allowed": Verb.COBROWSE_FULL_DEVICE_ALLOWED,
        "declined": Verb.COBROWSE_FULL_DEVICE_DECLINED, "stopped": Verb.COBROWSE_FULL_DEVICE_STOPPED}),
    "remote_control": ("Remote control", {
        "requested": Verb.COBROWSE_REMOTE_CONTROL_REQUESTED, "allowed": Verb.COBROWSE_REMOTE_CONTROL_ALLOWED,
        "declined": Verb.COBROWSE_REMOTE_CONTROL_DECLINED, "stopped": Verb.COBROWSE_REMOTE_CONTROL_STOPPED}),
}
COUNTED_VERBS = sorted({
    Verb.COBROWSE_ENDED, *(verb for _, _, verb in CONSENT), *(verb for _, _, verb, _ in TOOLS),
    *(verb for _, steps in FEATURES.values() for verb in steps.values()),
})
MEDIAN, P90 = (1, 2), (9, 10)  # percentiles as fractions (numerator, denominator)
# A session has a length once it was active and then ended.
MEASURED = Q(activated_at__isnull=False, ended_at__gte=F("activated_at"))


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    value: int


@dataclass(frozen=True)
class ToolUse:
    key: str
    label: str
    sessions: int  # sessions that used it
    uses: int  # times it was picked or allowed


@dataclass(frozen=True)
class AgentFigures:
    agent_id: int | None
    name: str
    sessions: int
    measured: int  # sessions with a length (active, then ended)
    median_length: timedelta | None


@dataclass(frozen=True)
class Insights:
    start: date
    end: date
    per_day: list  # [(date, sessions started)], every day of the range
    tickets_opened: int
    tickets_with_session: int  # of those opened in the range, with a linked session
    consent: list  # [Bar]
    tools: list  # [ToolUse]
    features: dict  # {"full_device": (label, {"requested": n, ...}), ...}
    ended_by: list  # [Bar], the causes that occurred, most first
    measured: int
    median_length: timedelta | None
    p90_length: timedelta | None
    agents: list  # [AgentFigures], most sessions first

    @property
    def sessions(self):
        return sum(n for _, n in self.per_day)

    @property
    def ticket_share(self):
        """The share (0-1) of the tickets opened in the range that had a session; None without tickets."""
        return self.tickets_with_session / self.tickets_opened if self.tickets_opened else None

    @property
    def consent_by_key(self):
        return {bar.key: bar.value for bar in self.consent}


def day_bounds(start, end):
    """The first instant of `start` and of the day after `end`, in the site's time zone."""
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(start, time.min), tz),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz))


def compute(start, end, team=None):
    """The figures of the days start..end (inclusive), of one team's tickets or of all. For the
    supervisors' and admins' page: they see every team (helpdesk.access)."""
    since, until = day_bounds(start, end)
    in_range = {"created_at__gte": since, "created_at__lt": until}
    if team is not None:
        in_range["ticket__team"] = team
    events = Event.objects.filter(**in_range).order_by()  # no default ordering in the GROUP BY
    links = SessionLink.objects.filter(**in_range).order_by()
    tickets = Ticket.objects.filter(created_at__gte=since, created_at__lt=until).order_by()
    if team is not None:
        tickets = tickets.filter(team=team)

    started = dict(
        events.filter(verb=Verb.COBROWSE_LINKED)
        .annotate(day=local_day("created_at", since, until))
        .values_list("day").annotate(n=Count("id"))
    )
    counts = _event_counts(events)
    tool_sessions = _tool_sessions(events)
    opened = tickets.aggregate(
        opened=Count("id"), with_session=Count("id", filter=Exists(SessionLink.objects.filter(ticket=OuterRef("pk")))))
    per_agent = list(
        links.values_list("agent_id", "agent__display_name")
        .annotate(sessions=Count("id"), measured=Count("id", filter=MEASURED))
    )
    overall, by_agent = _lengths(links.filter(MEASURED))

    days = (end - start).days + 1
    per_day = [(day, started.get(day, 0)) for day in (start + timedelta(days=i) for i in range(days))]
    by_verb = {}
    for (verb, _detail), n in counts.items():
        by_verb[verb] = by_verb.get(verb, 0) + n
    tools = [ToolUse(key, label, sessions=tool_sessions.get((verb, tool), 0), uses=counts.get((verb, tool), 0))
             for key, label, verb, tool in TOOLS]
    causes = {cause: n for (verb, cause), n in counts.items() if verb == Verb.COBROWSE_ENDED}
    ended_by = sorted(
        (Bar(cause, CAUSE_LABELS.get(cause) or cause.replace("_", " ").capitalize(), n) for cause, n in causes.items()),
        key=lambda bar: (-bar.value, bar.label))
    agents = sorted(
        (AgentFigures(agent_id, name or "Former agent", sessions, measured, by_agent.get(agent_id))
         for agent_id, name, sessions, measured in per_agent),
        key=lambda a: (-a.sessions, a.name.casefold(), a.agent_id or 0))
    return Insights(
        start=start, end=end, per_day=per_day,
        tickets_opened=opened["opened"], tickets_with_session=opened["with_session"],
        consent=[Bar(key, label, by_verb.get(verb, 0)) for key, label, verb in CONSENT],
        tools=tools,
        features={key: (label, {step: by_verb.get(verb, 0) for step, verb in steps.items()})
                  for key, (label, steps) in FEATURES.items()},
        ended_by=ended_by,
        measured=sum(a.measured for a in agents),
        median_length=overall.get(MEDIAN), p90_length=overall.get(P90),
        agents=agents,
    )


def local_day(field, since, until):
    """The day, in the site's time zone, of a datetime column whose values are in since..until.

    Django's TruncDate calls a Python function per row on SQLite; there, SQLite's own DATE()
    shifts each value by the zone's UTC offset at its instant (the offsets over the range are
    known: a CASE on the instants they change)."""
    tz = timezone.get_current_timezone()
    if connection.vendor != "sqlite":
        return TruncDate(field, tzinfo=tz)
    periods = offset_periods(since, until, tz)

    def shift(offset):
        return Value(f"{int(offset.total_seconds() // 60):+d} minutes")

    modifier = Case(
        *(When(**{f"{field}__lt": changes_at}, then=shift(offset))
          for (_, offset), (changes_at, _) in zip(periods, periods[1:])),
        default=shift(periods[-1][1]),
    ) if len(periods) > 1 else shift(periods[0][1])
    return Func(F(field), modifier, function="DATE", output_field=DateField())


def offset_periods(since, until, tz):
    """[(from, UTC offset)]: the instants since..until split where the zone's offset changes
    (found to the second; zones change their offset at most once a day)."""
    def offset(instant):
        return instant.astimezone(tz).utcoffset()

    periods = [(since, offset(since))]
    at = since
    while at < until:
        after = min(at + timedelta(days=1), until)
        if offset(after) != periods[-1][1]:
            low, high = int(at.timestamp()), int(math.ceil(after.timestamp()))
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(_utc(middle)) == periods[-1][1] else (low, middle)
            periods.append((_utc(high), offset(after)))
        at = after
    return periods


def _utc(seconds):
    return datetime.fromtimestamp(seconds, dt_timezone.utc)


class DataText(KeyTextTransform):
    """A key of an event's data as text (data->>key). On SQLite one JSON_EXTRACT: Django's asks
    JSON_TYPE first so that JSON true, false and null read as text, which these keys never hold."""

    def __init__(self, key):
        super().__init__(key, "data")

    def as_sqlite(self, compiler, connection):
        lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
        return f"JSON_EXTRACT({lhs}, %s)", (*params, compile_json_path(key_transforms))


def _only(verbs, value):
    """`value` for the events of these verbs, NULL for the others: SQLite then parses the JSON of
    only the rows that need it."""
    return Case(When(verb__in=verbs, then=value), default=None)


def _event_counts(events):
    """{(verb, detail): events} of the counted verbs, in one query; the detail of a tool event is
    its tool, of an end its cause (one recorded before ends had causes: "elsewhere" if it says so,
    else "unknown")."""
    cause = Coalesce(NullIf(DataText("cause"), Value("")),
                     Case(When(data__elsewhere=True, then=Value("elsewhere")), default=Value("unknown")),
                     output_field=TextField())
    rows = (
        events.filter(verb__in=COUNTED_VERBS)
        .annotate(detail=Case(When(verb=Verb.COBROWSE_TOOL, then=DataText("tool")),
                              When(verb=Verb.COBROWSE_ENDED, then=cause), default=None, output_field=TextField()))
        .values_list("verb", "detail")
        .annotate(n=Count("id"))
    )
    return {(verb, detail): n for verb, detail, n in rows}


def _tool_sessions(events):
    """{(verb, tool): sessions} that used each tool, in one query. Apart from the counts: a distinct
    count there would keep PostgreSQL from hashing that grouping of most of the events."""
    rows = (
        events.filter(verb__in={verb for _, _, verb, _ in TOOLS})
        .annotate(tool=_only([Verb.COBROWSE_TOOL], DataText("tool")))
        .values_list("verb", "tool")
        .annotate(sessions=Count(DataText("session_id"), distinct=True))
    )
    return {(verb, tool): n for verb, tool, n in rows}


class Seconds(Func):
    """Seconds from the second expression to the first, to the millisecond. Native on both
    databases (Django's DurationField subtraction calls a Python function per row on SQLite)."""

    arg_joiner = " - "
    template = "CAST(ROUND(EXTRACT(EPOCH FROM (%(expressions)s)), 3) AS DOUBLE PRECISION)"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, arg_joiner=") - JULIANDAY(",
                           template="ROUND((JULIANDAY(%(expressions)s)) * 86400.0, 3)", **extra)


def _ranks_around(rank, n, fraction):
    """The condition "rank is the floor or the ceiling of fraction * (n - 1)" (0-based, ranks are
    1-based), in integer arithmetic, which both databases do alike."""
    num, den = fraction
    return Q(**{f"{rank}__gte": (F(n) - 1) * num / den + 1, f"{rank}__lte": ((F(n) - 1) * num + den - 1) / den + 1})


def _lengths(measured):
    """({MEDIAN: length, P90: length}, {agent_id: median length}) of the measured sessions, in one
    query: the sessions are numbered by length overall and per agent, and only the rows next to a
    percentile are read."""
    length = Seconds("ended_at", "activated_at")
    by_length = [length.asc(), F("id").asc()]
    agent = [F("agent_id")]
    rows = (
        measured.annotate(
            length=length,
            n=Window(Count("id")), rank=Window(RowNumber(), order_by=by_length),
            agent_n=Window(Count("id"), partition_by=agent),
            agent_rank=Window(RowNumber(), partition_by=agent, order_by=by_length),
        )
        .annotate(wanted=Case(
            When(_ranks_around("rank", "n", MEDIAN) | _ranks_around("rank", "n", P90)
                 | _ranks_around("agent_rank", "agent_n", MEDIAN), then=Value(True)),
            default=Value(False), output_field=BooleanField()))
        .filter(wanted=True)
        .values_list("agent_id", "n", "rank", "agent_n", "agent_rank", "length")
    )
    overall, agents = {}, {}
    for agent_id, n, rank, agent_n, agent_rank, seconds in rows:
        overall.setdefault("n", n)
        overall[rank] = seconds
        agents.setdefault(agent_id, {"n": agent_n})[agent_rank] = seconds
    lengths = {fraction: _interpolate(overall, fraction) for fraction in (MEDIAN, P90)} if overall else {}
    return lengths, {agent_id: _interpolate(ranks, MEDIAN) for agent_id, ranks in agents.items()}


def _interpolate(ranks, fraction):
    """The percentile from {"n": count, rank: seconds} (linear between the two closest ranks, as
    PostgreSQL's percentile_cont)."""
    num, den = fraction
    position = Fraction((ranks["n"] - 1) * num, den)  # 0-based
    low = int(position)
    below = ranks[low + 1]
    above = ranks.get(low + 2, below)
    return timedelta(seconds=round(below + (above - below) * float(position - low), 3))


def format_length(value):
    """A length as people read it: "45 s", "4 min 10 s", "1 h 5 min"; "—" for none."""
    if value is None:
        return "—"
    seconds = int(round(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    return f"{seconds} s"
