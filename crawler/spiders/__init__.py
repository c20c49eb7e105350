"""Spiders. There is one generic spider; each site profile becomes a subclass of it."""
