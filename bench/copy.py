"""`COPY ... FROM STDIN` of model rows: the fastest way PostgreSQL takes rows, a floor for any INSERT path."""

import io
import json
from datetime import date, datetime

from django.db import connection, models
from psycopg2.extras import Json


def text(value) -> str:
    """One value in COPY's text format (NULL is \\N; backslash, tab and line breaks escaped; JSON as
    JSON text, psycopg2's `Json` wrapper included)."""
    if value is None:
        return r"\N"
    if isinstance(value, Json):
        value = value.adapted
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    plain = value if isinstance(value, str) else str(value)
    return plain.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def columns(model: type[models.Model]) -> list[models.Field]:
    """The concrete fields of `model` but its auto primary key, as COPY fills them."""
    return [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]


def buffer(model: type[models.Model], rows) -> io.StringIO:
    fields = columns(model)
    out = io.StringIO()
    for row in rows:
        values = []
        for field in fields:
            value = field.value_from_object(row)
            if isinstance(field, models.JSONField):
                value = json.dumps(value, ensure_ascii=False)
            elif isinstance(field, models.FileField):
                value = value.name or ""
            values.append(text(value))
        out.write("\t".join(values))
        out.write("\n")
    out.seek(0)
    return out


def copy_rows(model: type[models.Model], rows) -> int:
    """COPY `rows` (model instances, fields computed) into the model's table; returns how many."""
    fields = columns(model)
    data = buffer(model, rows)
    names = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        cursor.copy_expert(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN', data)
        return cursor.rowcount
