from django.apps import AppConfig


class CobrowseConfig(AppConfig):
    name = "integrations.cobrowse"
    label = "cobrowse"
    verbose_name = "Cobrowse"

    def ready(self):
        from helpdesk import auth_backend, fragments, ticket_page

        from . import events  # noqa: F401  (the sentences of its verbs)
        from .templatetags.cobrowse import card_key

        auth_backend.select_with_user("agent__team__cobrowse_policy")  # the agent token's policy

        fragments.register("cobrowse", "cobrowse/_links.html", lambda ticket: {
            "session_links": ticket.session_links.select_related("agent")[:10],
        })
        ticket_page.register_key("cobrowse", card_key)  # the card: the agent's token
