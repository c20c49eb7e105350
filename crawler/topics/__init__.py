"""Topics of interest: topic files (``config``), the one-pass matcher (``matcher``), CLI helpers (``cli``),
the compiled-terms builder (``build``, needs the build extra; never imported by a crawl)."""

from __future__ import annotations

from crawler.topics.config import DEFAULT_TOPICS_FILE, Exclusion, Term, Topic, TopicFileError, load_topics
from crawler.topics.matcher import Cancelled, TermHit, TopicMatch, TopicMatcher, item_fields

__all__ = ["DEFAULT_TOPICS_FILE", "Cancelled", "Exclusion", "Term", "TermHit", "Topic", "TopicFileError",
           "TopicMatch", "TopicMatcher", "item_fields", "load_topics"]
