"""Co-browse insights for supervisors and admins: the page, and the same figures as CSV."""

import csv
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.models import Team
from helpdesk.views.common import supervisor_required

from . import insights
from .templatetags.insights import bar_chart, day_chart

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Far enough from date.min and date.max that a day's bounds exist in every time zone.
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


class InsightsForm(forms.Form):
    start = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="From",
                            error_messages={"invalid": "Enter the start date as YYYY-MM-DD."})
    end = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="To",
                          error_messages={"invalid": "Enter the end date as YYYY-MM-DD."})
    team = forms.ChoiceField(required=False, error_messages={"invalid_choice": "There is no such team."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.teams = {str(team.pk): team for team in Team.objects.order_by("name")}
        self.fields["team"].choices = [("", "All teams"), *((pk, team.name) for pk, team in self.teams.items())]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        start, end = data.get("start"), data.get("end")
        for value in (start, end):
            if value is not None and not EARLIEST <= value <= LATEST:
                raise forms.ValidationError(f"Choose dates between {EARLIEST} and {LATEST}.")
        if end is None:
            end = start + timedelta(days=DEFAULT_DAYS - 1) if start else timezone.localdate()
        if start is None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise forms.ValidationError("The end date is before the start date.")
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        data.update(start=start, end=end, team=self.teams.get(data.get("team") or ""))
        return data


@require_GET
@supervisor_required
def insights_page(request):
    """The figures of a date range and a team (default: the last 30 days, every team);
    ?format=csv downloads them."""
    form = InsightsForm(request.GET)
    as_csv = request.GET.get("format") == "csv"
    if not form.is_valid():
        if as_csv:
            return HttpResponse("\n".join(_errors(form)) + "\n", status=400, content_type="text/plain; charset=utf-8")
        values = {name: request.GET.get(name, "") for name in ("start", "end", "team")}
        return render(request, "supervisor/insights.html", {"form": form, "errors": _errors(form), "values": values},
                      status=400)
    start, end, team = form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["team"]
    figures = insights.compute(start, end, team)
    if as_csv:
        return _csv(figures, team)
    query = {"start": start.isoformat(), "end": end.isoformat(), "team": str(team.pk) if team else ""}
    context = {
        "form": form, "figures": figures, "team": team, "values": query,
        "csv_url": f"{request.path}?{urlencode({**query, 'format': 'csv'})}",
        "day_chart": day_chart("chart-days", "Co-browse sessions per day", figures.per_day),
        "consent_chart": bar_chart("chart-consent", "Consent", figures.consent),
        "tools_chart": bar_chart("chart-tools", "Sessions that used each tool",
                                 [insights.Bar(t.key, t.label, t.sessions) for t in figures.tools]),
        "causes_chart": bar_chart("chart-causes", "Sessions ended, by cause", figures.ended_by),
    }
    return render(request, "supervisor/insights.html", context)


def _errors(form):
    return [message for messages in form.errors.values() for message in messages]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A CSV cell that a spreadsheet shows as text: one starting like a formula gets a quote."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _seconds(length):
    return "" if length is None else round(length.total_seconds(), 1)


def _csv(figures, team):
    name = f"cobrowse-insights-{figures.start}-{figures.end}{'-' + team.slug if team else ''}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    rows = [
        ("range", "start", figures.start.isoformat()), ("range", "end", figures.end.isoformat()),
        ("range", "team", team.name if team else "All teams"),
        ("sessions", "total", figures.sessions),
        *(("sessions_per_day", day.isoformat(), n) for day, n in figures.per_day),
        ("tickets", "opened", figures.tickets_opened), ("tickets", "with_session", figures.tickets_with_session),
        ("tickets", "share_with_session",
         "" if figures.ticket_share is None else round(figures.ticket_share, 4)),
        *(("consent", bar.key, bar.value) for bar in figures.consent),
        ("sessions", "with_length", figures.measured),
        ("length_seconds", "median", _seconds(figures.median_length)),
        ("length_seconds", "p90", _seconds(figures.p90_length)),
        *(("tool_sessions", tool.key, tool.sessions) for tool in figures.tools),
        *(("tool_uses", tool.key, tool.uses) for tool in figures.tools),
        *((feature, step, n) for feature, (_, steps) in figures.features.items() for step, n in steps.items()),
        *(("ended_by", bar.key, bar.value) for bar in figures.ended_by),
    ]
    for agent in figures.agents:
        who = f"{agent.name} (#{agent.agent_id})" if agent.agent_id else agent.name
        rows += [("agent_sessions", who, agent.sessions), ("agent_median_seconds", who, _seconds(agent.median_length))]
    writer.writerow(("metric", "key", "value"))
    writer.writerows([_cell(cell) for cell in row] for row in rows)
    return response
