"""Soonish core: settings, data, services and the rules every front end shares."""
