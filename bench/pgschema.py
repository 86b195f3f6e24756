"""A throw-away PostgreSQL schema for a benchmark run: created empty, dropped afterwards."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from sqlalchemy import create_engine, text

from storage.db import normalize_url


def create_schema(url: str, prefix: str = "bench") -> tuple[str, str]:
    """(schema, URL whose search_path is that new, empty schema) on the database at `url`."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    create_named_schema(url, schema)
    return schema, schema_url(url, schema)


def create_named_schema(url: str, schema: str) -> None:
    """An empty schema of that name (one already there is dropped first)."""
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def schema_url(url: str, schema: str) -> str:
    """The URL whose search_path is `schema`."""
    sep = "&" if "?" in url else "?"
    return f"{normalize_url(url)}{sep}options={quote(f'-csearch_path={schema}')}"


def drop_schema(url: str, schema: str) -> None:
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()
