"""Querysets compiled to SQL once and run again with another id.

On the queries every page runs (the signed-in user with their agent and team, the ticket of a ticket
page) Django spends longer compiling the queryset to SQL than the database spends answering it:
about 0.3-0.6 ms a query here. A prepared query is the same queryset, built by the same code as
anywhere else (so the access rules stay in access.py), compiled once for its shape; each call runs
its SQL with that call's id and makes the model instances the way the queryset would, joined
models (select_related) and the backend's value converters included.

Only the id changes between calls: the queryset is built with a placeholder integer, which must reach
the SQL parameters unchanged (integer primary and foreign keys do). An id that is no 64-bit integer
matches nothing; one that is not an integer at all is a ValueError.
"""

import threading

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import get_related_populators

# No row has a negative id, and it fits the narrowest id column here (AutoField, 32 bits): a value
# outside a column's range makes Django compile the lookup to "matches nothing" on PostgreSQL.
_PLACEHOLDER = -2_000_000_000
_INT64 = (-(2**63), 2**63 - 1)


class PreparedQuery:
    def __init__(self, build):
        """build(placeholder_id) -> the queryset, with the placeholder where the id goes."""
        queryset = build(_PLACEHOLDER)
        self._alias = queryset.db
        if queryset.query.is_empty():  # QuerySet.none(): nothing, whatever the id
            self._sql = None
            return
        compiler = queryset.query.get_compiler(using=self._alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet as exc:
            raise ValueError(f"{queryset.query.model.__name__}: the query matches nothing with a placeholder id") from exc
        self._sql, self._params = sql, list(params)
        if self._params.count(_PLACEHOLDER) != 1:
            raise ValueError(f"placeholder {_PLACEHOLDER} is not one parameter of: {sql}")
        self._slot = self._params.index(_PLACEHOLDER)
        self._compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        self._model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self._fields = (start, end, [column[0].target.attname for column in select[start:end]])
        self._related = get_related_populators(klass_info, select, self._alias)
        self._converters = compiler.get_converters([column[0] for column in select[:compiler.col_count]])

    def all(self, id_):
        """The model instances the queryset would give with this id in place of the placeholder."""
        id_ = int(id_)
        if self._sql is None or not _INT64[0] <= id_ <= _INT64[1]:
            return []
        params = list(self._params)
        params[self._slot] = id_
        with connections[self._alias].cursor() as cursor:
            cursor.execute(self._sql, params)
            rows = cursor.fetchall()
        if self._converters:
            rows = self._compiler.apply_converters(rows, self._converters)
        start, end, names = self._fields
        instances = []
        for row in rows:
            instance = self._model.from_db(self._alias, names, row[start:end])
            for related in self._related:
                related.populate(row, instance)
            instances.append(instance)
        return instances

    def first(self, id_):
        found = self.all(id_)
        return found[0] if found else None


class PreparedQueries:
    """Prepared queries by a key of their shape, made on first use (after the apps are ready)."""

    def __init__(self, build):
        """build(key, placeholder_id) -> the queryset of that shape."""
        self._build = build
        self._by_key = {}
        self._lock = threading.Lock()

    def __getitem__(self, key):
        prepared = self._by_key.get(key)
        if prepared is None:
            with self._lock:
                prepared = self._by_key.get(key)
                if prepared is None:
                    prepared = self._by_key[key] = PreparedQuery(lambda id_: self._build(key, id_))
        return prepared
