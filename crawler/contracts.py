"""Spider contracts for ``scrapy check SITE`` (``SPIDER_CONTRACTS``): one generic spider, a URL per profile.

The callbacks of ``NewsSpider`` carry the contracts in their docstrings, but the URL to fetch
belongs to the site, so it comes from the profile's ``[check]`` table (``article``, ``listing``),
re-rooted by ``-a base_url=`` like every other URL of the profile:

    scrapy check demo -a base_url=http://127.0.0.1:8765/

A profile without the page type has nothing to check for that callback (the request is not made).
"""

from __future__ import annotations

from typing import Any

from scrapy.contracts import Contract
from scrapy.exceptions import ContractFail

from crawler.items import Article

__all__ = ["ArticleContract", "ProfileUrlContract"]


class ProfileUrlContract(Contract):
    """``@profile_url article``: fetch the profile's ``[check] article`` URL."""

    name = "profile_url"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        # The callback is bound to the spider instance, whose profile -a base_url has re-rooted.
        profile = getattr(getattr(args.get("callback"), "__self__", None), "profile", None)
        url = profile.check.get(self.args[0]) if profile is not None else None
        if url:
            args["url"] = url
        return args


class ArticleContract(Contract):
    """``@article title body published``: exactly one Article, with these fields not empty."""

    name = "article"

    def post_process(self, output: list[Any]) -> None:
        articles = [x for x in output if isinstance(x, Article)]
        if len(articles) != 1:
            raise ContractFail(f"expected 1 article, got {len(articles)}")
        empty = [name for name in self.args if not getattr(articles[0], name, None)]
        if empty:
            raise ContractFail(f"article fields empty: {', '.join(empty)}")
