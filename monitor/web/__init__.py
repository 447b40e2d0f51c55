"""The supervisor's console: server-rendered Chinese pages and a JSON API (issue 7).

Everything a user sees is filtered by their units (``monitor.store.scope``); objects outside
them answer 404, so not even their existence leaks.
"""
