from django import forms
from django.core.exceptions import ValidationError

from helpdesk import outbound

from . import account, policies


class AccountForm(forms.Form):
    api = forms.URLField(label="API base URL", required=False, assume_scheme="https")
    license_key = forms.CharField(max_length=200, required=False,
                                  help_text="Your Cobrowse license key. Blank: the environment's COBROWSE_LICENSE_KEY.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = ", ".join(account.allowed_apis())
        self.fields["api"].help_text = (f"Where the Cobrowse service answers. Allowed: {allowed} (COBROWSE_API_ALLOWED). "
                                        "Blank: the environment's COBROWSE_API.")

    def clean_api(self):
        url = self.cleaned_data["api"].rstrip("/")
        if url:
            problem = account.api_refusal(url)
            if problem:
                raise ValidationError(f"Not allowed: {problem}. Allowed: {', '.join(account.allowed_apis())}.", code="not_allowed")
            outbound.validate_url(url)
        return url

    def clean_license_key(self):
        value = self.cleaned_data["license_key"].strip()
        if value and not value.replace("-", "").replace("_", "").isalnum():
            raise ValidationError("A license key has only letters, digits, - and _.")
        return value


class PolicyForm(forms.Form):
    policy = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
                             help_text="JSON, version 3. Only custom_data values and ids can be matched.")
    enabled = forms.BooleanField(required=False, initial=True,
                                 help_text="Off: as if the team had no policy (unrestricted, or no co-browse token with "
                                           "COBROWSE_DENY_UNRESTRICTED_TEAMS on).")

    def clean_policy(self):
        return policies.parse(self.cleaned_data["policy"])
