"""``burntray serve``: the monitor with no tray, and its figures for Prometheus and scripts."""
