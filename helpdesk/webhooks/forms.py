from django import forms
from django.conf import settings
from django.core.validators import URLValidator

from helpdesk import outbound

from .models import EVENT_TYPES, IncomingEndpoint, OutgoingEndpoint


class IncomingEndpointForm(forms.ModelForm):
    class Meta:
        model = IncomingEndpoint
        fields = ["name", "team"]
        help_texts = {"name": "Who calls it, e.g. the contact-centre platform."}


class OutgoingEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         validators=[URLValidator(schemes=["http", "https"])],
                         help_text="Where the helpdesk POSTs the events: https (http only when DEBUG is on or "
                                   "the host is in OUTBOUND_ALLOWED_NETWORKS); never a loopback, private or "
                                   "link-local address.")
    events = forms.MultipleChoiceField(choices=EVENT_TYPES, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one event."})

    class Meta:
        model = OutgoingEndpoint
        fields = ["name", "url", "events"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        outbound.validate_url(url, https_required=not settings.DEBUG)
        return url
