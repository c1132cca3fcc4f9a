from django import forms
from django.db.models import Q

from .models import Agent, Team, Ticket

LIST_STATUSES = [("active", "Open & pending"), *Ticket.Status.choices, ("all", "All")]
MAX_ID = 2**63 - 1  # the id columns are 64-bit; the databases refuse a larger number in a query


def object_id(text):
    """The id written in text (a query string value), or None. ASCII digits only: "²".isdigit()
    is true, and int() refuses it."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)) and int(text) <= MAX_ID:
        return int(text)
    return None


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(choices=LIST_STATUSES, required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="All teams")
    assignee = forms.CharField(required=False)  # "me", "none" or an agent id
    q = forms.CharField(required=False, max_length=100, label="Search")

    def __init__(self, *args, agent, **kwargs):
        super().__init__(*args, **kwargs)
        self.agent = agent
        if not agent.sees_all_teams:
            del self.fields["team"]

    def clean_assignee(self):
        value = self.cleaned_data["assignee"].strip()
        if value in ("", "me", "none") or object_id(value) is not None:
            return value
        raise forms.ValidationError("Unknown assignee filter.")

    def filter(self, qs):
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or "active"
        if status == "active":
            qs = qs.filter(status__in=[Ticket.Status.OPEN, Ticket.Status.PENDING])
        elif status != "all":
            qs = qs.filter(status=status)
        if data.get("team"):
            qs = qs.filter(team=data["team"])
        assignee = data.get("assignee")
        if assignee == "me":
            qs = qs.filter(assignee=self.agent)
        elif assignee == "none":
            qs = qs.filter(assignee__isnull=True)
        elif assignee:
            qs = qs.filter(assignee_id=object_id(assignee))
        if data.get("q"):
            term = data["q"].strip()
            match = Q(subject__icontains=term) | Q(customer__name__icontains=term) | Q(customer__email__icontains=term)
            if object_id(term.lstrip("#")) is not None:
                match |= Q(pk=object_id(term.lstrip("#")))
            qs = qs.filter(match)
        return qs


class ReplyForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Write a reply… (Ctrl+Enter to send)"}),
        max_length=20_000,
        strip=True,
        error_messages={"required": "The message is empty."},
    )
    internal = forms.BooleanField(required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices, error_messages={
        "invalid_choice": "Unknown status: %(value)s.",
    })


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=Agent.objects.none(), required=False, empty_label="Unassigned")

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = Agent.objects.filter(
            Q(team_id=ticket.team_id) | Q(role__in=[Agent.Role.SUPERVISOR, Agent.Role.ADMIN])
        ).order_by("display_name")
