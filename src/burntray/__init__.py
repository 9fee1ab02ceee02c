"""burntray: a system-tray monitor for LLM usage."""

__version__ = "0.1.0"
