"""The "Demo Independent" fixture site: a seeded Ghost-style news site and a local server for it.

``build_site(seed)`` returns a ``DemoSite`` (ground truth + renderer); ``serve(site)`` runs it on a
local port. Nothing here does I/O at import time. See README.md in this folder for the URL map.
"""

from __future__ import annotations

from .generator import build_site
from .model import DemoArticle, DemoSnippet, Page
from .server import DemoServer, serve
from .site import DemoSite

__all__ = ["DemoArticle", "DemoServer", "DemoSite", "DemoSnippet", "Page", "build_site", "serve"]
