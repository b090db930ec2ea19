"""Chat and console adapters: turn neutral alerts and replies into platform messages."""
