"""Threads and their hand-offs: the monitor loop and the latest-value slot."""
