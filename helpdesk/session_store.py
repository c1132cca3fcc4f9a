"""Django's database sessions, with the read every signed-in page makes written as one plain query.

Compiling Session.objects.get(session_key=..., expire_date__gt=now) costs more than running it;
this runs the SQL it compiles to. Everything else (writes, expiry, keys) is Django's. With a shared
cache (REDIS_URL) the settings use Django's cached_db sessions instead, read from the cache.
"""

import functools
from types import SimpleNamespace

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


@functools.cache
def _read_sql(model, alias):
    quote = connections[alias].ops.quote_name
    data, key, expiry = (quote(model._meta.get_field(name).column)
                         for name in ("session_data", "session_key", "expire_date"))
    return f"SELECT {data} FROM {quote(model._meta.db_table)} WHERE {key} = %s AND {expiry} > %s"


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if not self.session_key:
            return None
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(_read_sql(self.model, alias),
                           [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return SimpleNamespace(session_data=row[0])
