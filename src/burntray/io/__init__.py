"""Infrastructure that knows no source: watching and tailing files, file locks, read-only
SQLite, bounded reads, atomic writes, the bounded HTTP server and host:port parsing.

It sits below the sources, serve and the store: it imports only burntray's lowest layers
(``errors``, ``lazylog``, ``record``, ``model.snapshot`` for the status a read-only database
reports), so any layer above may use it.
"""
