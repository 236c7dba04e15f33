"""Loupe: cross-modal semantic search. The installed namespace for the repo's top-level folders.

``loupe.search`` is ``search/``, ``loupe.ingest`` is ``ingest/``, ``loupe.workers`` is ``workers/``
and ``loupe.api`` is ``api/`` (setuptools package-dir mapping in ``pyproject.toml``; in a checkout
the links beside this file point at the same folders).
"""
