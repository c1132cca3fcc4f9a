"""Querysets compiled to SQL once and run again with other ids.

On the queries every page runs (the signed-in user with their agent and team, the ticket of a ticket
page) Django spends longer compiling the queryset to SQL than the database spends answering it:
about 0.3-0.6 ms a query here. A prepared query is the same queryset, built by the same code as
anywhere else (so the access rules stay in access.py), compiled once for its shape; each call runs
its SQL with that call's ids and makes the model instances the way the queryset would, joined
models (select_related) and the backend's value converters included.

Only ids can change between calls: the queryset is built with placeholder integers, which must reach
the SQL parameters unchanged (integer primary and foreign keys do). An id that is no 64-bit integer
matches nothing; one that is not an integer at all is a ValueError.
"""

import threading

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import get_related_populators

# No row has a negative id, and these fit the narrowest id column here (AutoField, 32 bits): a value
# outside a column's range makes Django compile the lookup to "matches nothing" on PostgreSQL.
_PLACEHOLDER_BASE = -2_000_000_000
_INT64 = (-(2**63), 2**63 - 1)


class PreparedQuery:
    def __init__(self, build, ids=1):
        """build(*placeholder_ids) -> the queryset, with each placeholder where an id goes."""
        placeholders = [_PLACEHOLDER_BASE - n for n in range(ids)]
        queryset = build(*placeholders)
        self._alias = queryset.db
        if queryset.query.is_empty():  # QuerySet.none(): nothing, whatever the ids
            self._sql = None
            return
        compiler = queryset.query.get_compiler(using=self._alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet as exc:
            raise ValueError(f"{queryset.query.model.__name__}: the query matches nothing with placeholder ids") from exc
        self._sql, self._params = sql, list(params)
        self._slots = []
        for placeholder in placeholders:
            if self._params.count(placeholder) != 1:
                raise ValueError(f"placeholder {placeholder} is not one parameter of: {sql}")
            self._slots.append(self._params.index(placeholder))
        self._compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        self._model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self._fields = (start, end, [column[0].target.attname for column in select[start:end]])
        self._related = get_related_populators(klass_info, select, self._alias)
        self._converters = compiler.get_converters([column[0] for column in select[:compiler.col_count]])

    def all(self, *ids):
        """The model instances the queryset would give with these ids in place of the placeholders."""
        ids = [int(value) for value in ids]
        if self._sql is None or not all(_INT64[0] <= value <= _INT64[1] for value in ids):
            return []
        params = list(self._params)
        for slot, value in zip(self._slots, ids, strict=True):
            params[slot] = value
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

    def first(self, *ids):
        found = self.all(*ids)
        return found[0] if found else None


class PreparedQueries:
    """Prepared queries by a key of their shape, made on first use (after the apps are ready)."""

    def __init__(self, build, ids=1):
        self._build, self._ids = build, ids
        self._by_key = {}
        self._lock = threading.Lock()

    def __getitem__(self, key):
        prepared = self._by_key.get(key)
        if prepared is None:
            with self._lock:
                prepared = self._by_key.get(key)
                if prepared is None:
                    prepared = self._by_key[key] = PreparedQuery(lambda *ids: self._build(key, *ids), self._ids)
        return prepared
