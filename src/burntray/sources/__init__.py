"""Sources: one upstream each, yielding snapshots and statuses, never raising into the monitor."""
