"""Infrastructure every layer may use and that knows no source: watching and tailing files,
file locks, read-only SQLite, bounded reads, atomic writes, the bounded HTTP server and
host:port parsing. Nothing here imports from the rest of burntray except ``lazylog``/``errors``."""
