"""Lowest layer: settings, database access, errors and helpers every other layer may use."""
