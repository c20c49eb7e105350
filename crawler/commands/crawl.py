"""``scrapy crawl SITE``: Scrapy's own command, with newsmon's checks before the crawl starts.

Scrapy reports an error raised in a spider's ``__init__`` as a traceback; a mistyped ``-a since=``,
an unknown site or an invalid setting is a user mistake, so it is checked here and reported as one
usage error (exit 2). ``LOG_LEVEL`` (``-L``/``-s``) is checked while the options are read: Scrapy
configures logging with it before ``run`` is called.

The crawl is started through ``crawler.shutdown.start``, as ``newsmon crawl`` starts it: under
Scrapy's own signal handlers a Ctrl-C or SIGTERM that lands while the crawl is closing cuts the
close short, and its last store batch, fetch state and run record are lost.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.errors import ConfigError


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        from crawler.checks import check_setting, override_problem

        trial = self.settings.copy()
        for pair in opts.set:  # tried on a copy first: Scrapy's own setting of them is a traceback
            name, _, value = pair.partition("=")
            try:
                trial.set(name, value, priority="cmdline")
            except (ValueError, TypeError) as exc:
                raise UsageError(override_problem(name, value, exc), print_help=False) from exc
        super().process_options(args, opts)

        try:
            check_setting(self.settings, "LOG_LEVEL")
        except ConfigError as exc:
            raise UsageError(str(exc), print_help=False) from exc

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) == 1 and self.crawler_process is not None:
            from crawler.checks import check_settings
            from crawler.spiders.news import check_spider_arguments

            loader = self.crawler_process.spider_loader
            broken = getattr(loader, "broken", {}).get(args[0])
            if broken is not None:
                raise UsageError(f"site {args[0]!r} cannot be used: its profile is broken: {broken}",
                                 print_help=False)
            known = loader.list()
            if args[0] not in known:
                raise UsageError(f"unknown site {args[0]!r}; known: {', '.join(known)}", print_help=False)
            try:
                check_spider_arguments(opts.spargs)
                check_settings(self.settings)
            except ConfigError as exc:
                raise UsageError(str(exc), print_help=False) from exc
        if len(args) != 1 or self.crawler_process is None:
            super().run(args, opts)  # Scrapy's own usage errors
            return
        from crawler.shutdown import start

        # Scrapy's run, with the process started by crawler.shutdown (see the module docstring)
        self.crawler_process.crawl(self._create_crawler(args[0]), **opts.spargs)
        start(self.crawler_process)
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
