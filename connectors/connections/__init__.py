"""Connections (shared, or each end user's own) and the OAuth grants behind them."""
