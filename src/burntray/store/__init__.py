"""burntray's own persistent state (history of what sources saw, alert state)."""
