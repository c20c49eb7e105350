"""Scrapy settings of the newsmon project, and newsmon's own settings with their defaults.

Every newsmon setting is documented here once and in README.md ("Settings"). Override any of them
with ``-s NAME=value`` on ``scrapy crawl`` / ``newsmon crawl``; the environment variables named
below override the setting where noted. Nothing here touches the network or the disk.
"""

BOT_NAME = "newsmon"

# One spider per site profile (crawler/sites/*.toml), built by this loader instead of modules.
SPIDER_LOADER_CLASS = "crawler.spiderloader.ProfileSpiderLoader"
SPIDER_MODULES: list[str] = []
COMMANDS_MODULE = "crawler.commands"  # `scrapy crawl` checks site and -a arguments first
NEWSMON_SITES_DIR = None  # extra profile directory; env NEWSMON_SITES_DIR overrides

USER_AGENT = "newsmon/0.1 (+https://github.com/newsmon/newsmon; news monitoring crawler)"
ROBOTSTXT_OBEY = True
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
# `-O items.jsonl` / `-O items.csv`: one row per snippet per crawl, doc_id on every item, a CSV
# header for both item kinds with lists joined (crawler/feeds.py).
FEED_EXPORTERS = {"jsonlines": "crawler.feeds.JsonLinesExporter", "jsonl": "crawler.feeds.JsonLinesExporter",
                  "csv": "crawler.feeds.CsvExporter"}
LOG_LEVEL = "INFO"
# Scrapy's, minus the per-item "Scraped from" DEBUG record when no handler takes DEBUG (built for
# nothing at INFO: ~1 ms of CPU per page)
LOG_FORMATTER = "crawler.logformatter.LogFormatter"
# Scrapy's memory stats, without a deprecation wrapper looked up on every attribute access
# (crawler/stats.py; several microseconds per inc_value, a few calls per item)
STATS_CLASS = "crawler.stats.StatsCollector"
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 30
# Politeness per site comes from its profile (download_delay, concurrency); these are ceilings.
CONCURRENT_REQUESTS = 16
# Items of one response in the pipelines at once. Scrapy's 100 starts 100 asyncio tasks for every
# response (scrapy.utils.asyncio._parallel_asyncio), however few items it has; a page yields ~11
# (its article, ~10 News Feed sightings), so 16 still lets all of them reach identity together
# (one batch) and saves ~4 ms of CPU per article (README "Throughput").
CONCURRENT_ITEMS = 16
AUTOTHROTTLE_ENABLED = False
# Scrapy's default queue with its next priority kept in a heap (crawler/pqueues.py): articles are
# queued by their age in hours, hundreds of priorities, which Scrapy's scans on every pop.
SCHEDULER_PRIORITY_QUEUE = "crawler.pqueues.HeapDownloaderAwarePriorityQueue"

# The item path, in this order (README, "The item path"): clean → identity → topics → store.
ITEM_PIPELINES = {
    "pipelines.clean.CleanPipeline": 100,
    "pipelines.identity.IdentityPipeline": 300,  # canonical URL; new/unchanged/revision/duplicate, in batches
    "pipelines.topics.TopicsPipeline": 600,  # new and revised items only; flags the decided document
    "pipelines.store.StorePipeline": 900,  # documents, then their flags; alerts; journal on failure
}
DOWNLOADER_MIDDLEWARES = {
    # After Scrapy's own header middlewares, so conditional headers are the last word.
    "crawler.incremental.IncrementalCrawl": 950,
    # Hostile input and network faults (README "Failure modes"): named replacements of Scrapy's
    # retry and decompression middlewares, in their places, and the sniffer right after
    # decompression (process_response runs from high to low numbers).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retry.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.compression.NamedHttpCompressionMiddleware": 590,
    "crawler.sniff.ContentSniffMiddleware": 585,
}
SPIDER_MIDDLEWARES = {
    "crawler.replay.JournalReplay": 50,  # journaled items of the last crawls go through the path first
    "crawler.drops.DropExceptionsMiddleware": 950,  # next to the spider: sees callback errors first
}
# Checks every newsmon setting (crawler/checks.py) when a crawler is built, before any component.
ADDONS = {"crawler.addons.SettingsCheck": 0, "crawler.redis_frontier.SharedFrontier": 10}  # 2nd: REDIS_SHARED_CRAWL
# `scrapy check SITE`: contracts on NewsSpider's callbacks, URLs from the profile's [check] table.
SPIDER_CONTRACTS = {
    "crawler.contracts.ProfileUrlContract": 10,
    "crawler.contracts.ArticleContract": 20,
}
EXTENSIONS = {
    "crawler.runs.CrawlRunRecorder": 500,
    "crawler.progress.ProgressReporter": 600,
    "crawler.stages.StagesOffNotice": 100,  # says which stages settings switched off (crawler/stages.py)
}
NEWSMON_PROGRESS_INTERVAL = 0  # seconds between progress lines on stderr; 0 = off (the CLI sets 2)

# --- hostile input and network faults (README "Failure modes") ---------------------------------
# A news page is 50 KB to 2 MB of HTML; a bigger one is a mistake or an attack. DOWNLOAD_MAXSIZE
# also bounds the decompressed size (a gzip bomb stops there). Per site: the profile's
# `download_maxsize` (bytes).
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # bytes per response, raw or decompressed; over it: cancelled, counted
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024  # bytes per response above which a warning is logged
SNIFF_ENABLED = True  # binary bytes served as text are skipped (newsmon/drop/not_text, crawler/sniff.py)
SNIFF_MAX_CONTROL_RATIO = 0.05  # share of control bytes in the first 4 KB that makes a page binary
DROP_EXCEPTIONS_ENABLED = True  # a callback's exception is a counted drop (newsmon/drop/page_error/<Type>)
RETRY_AFTER_MAX = 60.0  # seconds; a longer Retry-After (429/503) is not retried in this crawl
RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry without Retry-After, doubled for each next one
RETRY_BACKOFF_MAX = 30.0  # seconds, the longest backoff between two retries

# --- storage -------------------------------------------------------------------------------------
MONGO_URI = None  # e.g. "mongodb://user:pass@host:27017/"; env NEWSMON_MONGO_URI overrides
MONGO_DATABASE = "newsmon"  # env NEWSMON_MONGO_DATABASE overrides
NEWSMON_DATA_DIR = None  # embedded store directory; env NEWSMON_DATA_DIR; default ~/.local/share/newsmon
STORE_ENABLED = True
STORE_BATCH_SIZE = 200  # items per identity decision and per bulk write (per collection)
STORE_FLUSH_SECONDS = 2.0  # decided items waiting longer than this are written anyway
NEWSMON_REPLAY_ONLY = False  # replay the site's journal and crawl nothing (`newsmon import-spool`)
SNIPPET_SEEN_ON_MAX = 100  # pages remembered per News Feed snippet (seen_on)
# A News Feed sighting that repeats one already sent in this crawl is written as part of one batched
# update of its document, not sent as an item of its own (pipelines/repeats.py)
SNIPPET_REPEATS_GATHERED = True
SQLITE_BUSY_TIMEOUT = 30.0  # embedded store: seconds a write waits for another process's lock, then fails
MONGO_SERVER_SELECTION_TIMEOUT = 5.0  # MongoDB: seconds a call waits for a reachable server, then fails (and is journaled)
# An unusable store (lock held elsewhere, server down) is left alone this long, items going straight
# to the journal, then one call probes it; doubled per failed probe up to the max
STORE_UNAVAILABLE_BACKOFF = 5.0
STORE_UNAVAILABLE_BACKOFF_MAX = 60.0

# --- cleaning / validation -----------------------------------------------------------------------
CLEAN_ENABLED = True
CLEAN_MIN_BODY_CHARS = None  # overrides every profile's articles.min_body_chars when set
CLEAN_MAX_BODY_CHARS = 300_000  # stored body text is cut (at a paragraph) to this many characters; 0 = no cap

# --- incremental re-crawls (crawler/incremental.py) ---------------------------------------------
INCREMENTAL_ENABLED = True  # conditional GETs and skipping known, unchanged article pages
INCREMENTAL_REVISIT_HOURS = 48.0  # articles younger than this are re-checked for silent edits
INCREMENTAL_REVISIT_MIN_MINUTES = 30.0  # ... at most this often (back-off: a quarter of their age)

# --- crawl runs ----------------------------------------------------------------------------------
CRAWL_RUNS_ENABLED = True  # record one crawl_runs document per crawl
NEWSMON_RUN_TRIGGER = "manual"  # who started the crawl: manual, schedule, demo

# --- crawl health (crawler/health.py): monitors judge every run; a site's [health] table overrides
HEALTH_ENABLED = True  # judge every crawl and write `health` on its crawl_runs document
HEALTH_ALERT_ON = "failed"  # send a crawl_health alert through ALERT_SINKS on: failed | warnings | never
HEALTH_MIN_PAGES = 1  # pages fetched below this: failed
HEALTH_MIN_ARTICLES = 1  # articles found (extracted + known unchanged) below this: failed
HEALTH_ARTICLES_MIN_RATIO = 0.5  # articles below this share of the median of recent runs: failed
HEALTH_HISTORY_RUNS = 10  # recent finished/degraded runs of the site that the median is taken over
HEALTH_HISTORY_MIN_RUNS = 3  # fewer earlier runs than this: the comparison is skipped
HEALTH_MAX_ERROR_RATE = 0.25  # newsmon/errors/* per page fetched above this: warning
HEALTH_MAX_DROP_RATE = 0.25  # share of items dropped above this: warning
HEALTH_MAX_NOT_ARTICLE_RATE = 0.25  # share of article pages fetched that gave no article above this: warning
HEALTH_MAX_RUNTIME = 3600.0  # seconds a crawl may take before a warning; 0 = not checked
HEALTH_MAX_MISSING = {"title": 0.05, "date": 0.2, "author": 0.5, "body": 0.05}  # share of articles without it: warning
HEALTH_FINISH_REASONS = ["finished"]  # close reasons that pass (closespider_* limits count as finished)

# --- metrics of the re-crawl service (crawler/metrics.py) ----------------------------------------
METRICS_PORT = None  # `newsmon schedule` serves Prometheus /metrics on this port; None = off (e.g. 9410)
METRICS_ADDRESS = "127.0.0.1"  # address the metrics server listens on (0.0.0.0 in a container)

# --- scale-out on Redis (crawler/distributed.py, crawler/redis_frontier.py) ----------------------
REDIS_URL = None  # redis://host:6379/0; env NEWSMON_REDIS_URL. Set: `newsmon schedule` queues crawls for workers
REDIS_QUEUE = "newsmon"  # the RQ queue `newsmon schedule` fills and `newsmon worker` drains
REDIS_LOCK_SECONDS = 60.0  # a site's crawl lock outlives a dead holder by at most this; renewed while it runs
REDIS_SHARED_CRAWL = False  # one frontier and request-dedupe set in Redis for every worker crawling a site (--shared)
REDIS_WORKER_TTL = 15.0  # shared crawl: a worker silent this long is dead and its in-flight requests are re-queued

# --- extraction (crawler/workers.py) -------------------------------------------------------------
# Worker processes that extract article pages beside the reactor (parse, article, News Feed);
# 0 = in the crawl process. Each is a process of ~35 MB, started with the crawl.
EXTRACT_WORKERS = 1
# Pages per worker sent and not back, beyond which a page waits for the first to free: a worker's
# place or the crawl process's extraction thread (0 = every page to the workers; crawler/workers.py).
# 8 kept the worker fed (bench/crawl.py --pages 1000: 104 pages/s against 97 at 4, 87 at 2)
EXTRACT_WORKERS_BACKLOG = 8

# --- dedupe (pipelines/dedupe.py, crawler/dupefilter.py) -------------------------------------------
# Requests are deduplicated on pipelines.urls.canonical_url (tracking params, AMP, slash policy).
DUPEFILTER_CLASS = "crawler.dupefilter.CanonicalDupeFilter"
DEDUPE_ENABLED = True  # decide new / unchanged / revision / duplicate per item; off = plain upserts
DEDUPE_NEAR_THRESHOLD = 0.85  # shingle containment (MinHash, Jaccard >= 0.5) at which two articles are one story
DEDUPE_SNIPPET_THRESHOLD = 0.7  # share of a snippet's 2-word shingles in another: a correction of it
DEDUPE_SNIPPET_WINDOW_HOURS = 48.0  # a corrected snippet is matched within this much of publication
DEDUPE_NUM_PERM = 128  # MinHash permutations; changing it invalidates stored signatures
DEDUPE_SHINGLE_SIZE = 3  # words per article shingle; changing it invalidates stored signatures
DEDUPE_REVISIONS_MAX = 20  # previous versions kept per article in article_revisions
DEDUPE_ALIASES_MAX = 100  # other URLs remembered per article (aliases)
DEDUPE_TRAILING_SLASH = "keep"  # canonical URL path slash: keep | strip | add
DEDUPE_TRAILING_SLASH_BY_SITE: dict[str, str] = {}  # per-site override, e.g. {"kyivindependent": "add"}

# --- topics and alerts (pipelines/topics.py, pipelines/alerts.py) --------------------------------
TOPICS_ENABLED = True  # match every item against the configured topics, record flags, alert
TOPICS_FILE = None  # topic TOML file(s) or directory, list or comma-separated; None = shipped central-asia.toml
ALERT_SINKS = ["log"]  # where new flags are announced: any of "log", "jsonl", "webhook"
ALERT_JSONL_PATH = None  # jsonl sink file; None = NEWSMON_DATA_DIR/alerts.jsonl
ALERT_WEBHOOK_URL = None  # webhook sink: http(s) URL that receives one JSON POST per alert
ALERT_WEBHOOK_TIMEOUT = 5.0  # seconds per webhook attempt (connect + response)
ALERT_WEBHOOK_RETRIES = 3  # extra attempts after a network error, timeout, 408/429 or 5xx
ALERT_WEBHOOK_BACKOFF = 0.5  # seconds before the first retry, doubled for each next one
ALERT_WEBHOOK_CONCURRENCY = 4  # webhook POSTs in flight at once
ALERT_OUTBOX_BACKOFF = 60.0  # seconds before an undelivered alert is tried again (next crawl), doubled per attempt
ALERT_OUTBOX_EXPIRE_HOURS = 72.0  # an alert not delivered within this is given up (status expired)

# --- JavaScript rendering (crawler/render.py) ----------------------------------------------------
# Only sites whose profile sets `render` use the browser (their spider gets scrapy-playwright's
# download handler; Playwright and Chromium start on the first rendered request).
RENDER_BROWSER = None  # Chromium executable; env NEWSMON_BROWSER overrides; None = /usr/bin/chromium
RENDER_TIMEOUT = 20.0  # seconds per step of a rendered page (navigation, wait, each click/scroll); profile render.timeout overrides
RENDER_MAX_PAGES = 4  # browser pages open at once per context (drives PLAYWRIGHT_MAX_PAGES_PER_CONTEXT)
RENDER_CONTEXT_PAGES = 100  # pages rendered in one browser context before a fresh one replaces it; 0 = never
RENDER_BLOCK_RESOURCES = ["image", "media", "font"]  # Playwright resource types aborted in the browser
RENDER_BLOCK_HOSTS = None  # tracker hosts aborted (subdomains too); None = crawler.render.DEFAULT_BLOCK_HOSTS
