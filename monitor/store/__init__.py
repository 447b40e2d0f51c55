"""Storage: tables, engines and sessions, blob stores, and the reads of snapshot history.

``models`` (SQLModel tables, one metadata for Alembic), ``engine`` (engines, sessions, the
schema check), ``blobs``/``blobs_db`` (content-addressed evidence), ``findings`` (a
finding's life), ``history`` (snapshot reads for the console, CLI and reports), ``scope``
(the unit tree a user may see). Nothing here fetches, judges or sends.
"""
