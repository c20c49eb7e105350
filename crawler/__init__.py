"""newsmon: crawl news sites, extract articles and News Feed snippets, store them."""

__version__ = "0.1.0"
