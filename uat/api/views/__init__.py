"""Viewsets of the API, one module per area."""
