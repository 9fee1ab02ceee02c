"""Usage reports: one self-contained HTML file with charts, or CSV/JSON exports (``build``)."""
