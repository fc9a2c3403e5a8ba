"""Soonish front ends (console, HTTP API, chat platforms) and the `soonish` command."""
