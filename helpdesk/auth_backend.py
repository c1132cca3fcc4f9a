"""Django's model backend, with the signed-in user's agent profile and team read in the same query:
every helpdesk page needs them, so a page view costs one query for all of them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .prepared import PreparedQueries

SELECT_RELATED = ["agent__team"]


def select_with_user(*paths):
    """Integrations add what they read of the agent on every page (paths from the user)."""
    SELECT_RELATED.extend(p for p in paths if p not in SELECT_RELATED)


def _user_with_agent(select_related, user_id):
    return get_user_model()._default_manager.select_related(*select_related).filter(pk=user_id).order_by("pk")[:1]


_user_queries = PreparedQueries(_user_with_agent)


class AgentModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = _user_queries[tuple(SELECT_RELATED)].first(user_id)
        except (TypeError, ValueError):  # a session naming no user id
            return None
        return user if user is not None and self.user_can_authenticate(user) else None
