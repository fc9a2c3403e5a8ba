"""Slack listeners grouped by kind; each module has `register(app, core)` and plain, importable handlers."""
