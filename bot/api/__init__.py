"""The HTTP API front end: JSON over FastAPI, authenticated with API keys, thin over the core service."""
