from django import forms
from django.core.validators import URLValidator

from .models import EVENT_TYPES, IncomingEndpoint, OutgoingEndpoint


class IncomingEndpointForm(forms.ModelForm):
    class Meta:
        model = IncomingEndpoint
        fields = ["name", "team"]
        help_texts = {"name": "Who calls it, e.g. the contact-centre platform."}


class OutgoingEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         validators=[URLValidator(schemes=["http", "https"])],
                         help_text="Where the helpdesk POSTs the events (http or https).")
    events = forms.MultipleChoiceField(choices=EVENT_TYPES, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one event."})

    class Meta:
        model = OutgoingEndpoint
        fields = ["name", "url", "events"]
