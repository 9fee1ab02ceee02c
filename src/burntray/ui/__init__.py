"""User interfaces: the terminal view, and (lazily imported) tray adapters."""
