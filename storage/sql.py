"""SQL functions that read the same on SQLite and PostgreSQL: seconds since the epoch of a timestamp,
and the larger or smaller of several values (GREATEST/LEAST; SQLite's scalar MAX/MIN)."""

from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Float


class epoch_seconds(FunctionElement):
    """Seconds since 1970 of a timestamp column."""

    type = Float()
    inherit_cache = True


class greatest(FunctionElement):
    inherit_cache = True


class least(FunctionElement):
    inherit_cache = True


@compiles(epoch_seconds)
def _epoch_default(element, compiler, **kw):
    return "EXTRACT(EPOCH FROM %s)" % compiler.process(element.clauses, **kw)


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return "((julianday(%s) - 2440587.5) * 86400.0)" % compiler.process(element.clauses, **kw)


@compiles(greatest)
def _greatest_default(element, compiler, **kw):
    return "GREATEST(%s)" % compiler.process(element.clauses, **kw)


@compiles(greatest, "sqlite")
def _greatest_sqlite(element, compiler, **kw):
    return "MAX(%s)" % compiler.process(element.clauses, **kw)


@compiles(least)
def _least_default(element, compiler, **kw):
    return "LEAST(%s)" % compiler.process(element.clauses, **kw)


@compiles(least, "sqlite")
def _least_sqlite(element, compiler, **kw):
    return "MIN(%s)" % compiler.process(element.clauses, **kw)
