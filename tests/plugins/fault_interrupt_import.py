"""Fault plugin: raises KeyboardInterrupt while it is imported."""

raise KeyboardInterrupt
