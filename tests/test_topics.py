"""Topic files, the matcher, the topic_flags store and the CLI helpers (no crawl)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.errors import ConfigError
from crawler.topics.cli import parse_since, topics_test
from crawler.topics.config import TopicFileError, load_topic, load_topics, parse_topic
from crawler.topics.matcher import TopicMatcher

# The seed page's article (Kyiv Independent, Dec. 20, 2023) and its News Feed snippets, inline.
SEED_TITLE = "Putin holds 'private' talks with Kazakhstan's ex-president"
SEED_BODY = (
    "Russian leader Vladimir Putin held private talks with the former president of Kazakhstan, "
    "Nursultan Nazarbayev, Kremlin spokesperson Dmitry Peskov confirmed on Dec. 20.\n\n"
    "According to UlysMedia's undisclosed sources, Kazakhstan's former leader sought Putin's support "
    "in connection to the prosecution of Samat Abish, formerly an influential figure in Kazakh politics "
    "and Nazarbayev's nephew.\n\n"
    "When Nazarbayev passed the presidential office to his successor Kassym-Jomart Tokayev, he "
    "maintained an extensive influence as the security council chairman.\n\n"
    "Despite Russia's role in suppressing the January unrests, Tokayev refused to support Moscow's "
    "aggression against Ukraine."
)
SEED_SNIPPETS = [
    ("Zelensky marks Holodomor Remembrance Day.",
     '"They wanted to destroy us. To kill us. To subjugate us. They failed," Zelensky wrote on X.'),
    ("Crimean Tatar editor goes missing in occupied Crimea.",
     "Ediye Muslimova, the editor-in-chief of a Crimean Tatar children's magazine, disappeared in "
     "Russian-occupied Crimea on Nov. 21."),
]


@pytest.fixture(scope="module")
def matcher() -> TopicMatcher:
    return TopicMatcher(load_topics(None))


def _ca(matcher: TopicMatcher, **fields: str):
    (result,) = [m for m in matcher.match(fields) if m.slug == "central-asia"]
    return result


def test_seed_article_is_flagged_with_its_terms(matcher: TopicMatcher) -> None:
    m = _ca(matcher, title=SEED_TITLE, body=SEED_BODY)
    assert m.flagged
    assert {"Kazakhstan", "Nazarbayev", "Tokayev", "Samat Abish"} <= set(m.terms)
    hit = next(h for h in m.hits if h.term == "Nazarbayev")
    assert hit.field == "body" and hit.count == 3 and "Nazarbayev" in hit.context


def test_seed_snippets_are_not_flagged(matcher: TopicMatcher) -> None:
    for headline, text in SEED_SNIPPETS:
        assert not _ca(matcher, title=headline, lead=text).flagged


@pytest.mark.parametrize("title", [
    "Kazakhstan's exports grow", "Токаєва зустріли в Астані", "Зустріч у Казахстані",
    "Переговоры в Бишкеке", "Uzbeks vote", "O’zbekiston", "Nur Sultan airport reopens",
    "Конференція в Центральній Азії",
])
def test_inflections_and_spellings_match(matcher: TopicMatcher, title: str) -> None:
    assert _ca(matcher, title=title).flagged, title


@pytest.mark.parametrize("title", [
    "Kazan hosts BRICS summit", "Astana format talks held in Geneva", "Syrian Turkmen fighters advance",
    "CSTO drills in Belarus", "Born in Tashkent, the actor wins award", "Samarkand restaurant opens",
    "ресторан «Самарканд» відкрився", "Протест у Східному Туркестані", "Immanuel Kant anniversary",
    "Бухарин и Сталин", "Georgia votes",
])
def test_exclusions_and_false_friends(matcher: TopicMatcher, title: str) -> None:
    assert not _ca(matcher, title=title).flagged, title


def test_support_terms_need_a_primary_term(matcher: TopicMatcher) -> None:
    assert _ca(matcher, title="CSTO SCO EAEU CSTO", lead="CSTO and SCO", body="CSTO").score == 0
    assert _ca(matcher, title="CSTO troops leave Kazakhstan").score == 3 * 3 + 1 * 3


def _topic(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_item_scope_exclusion_and_fields(tmp_path: Path) -> None:
    topic = load_topic(_topic(tmp_path, """
slug = "grid"
min_score = 2
fields = ["title"]
[[terms]]
term = "substation"
weight = 1
[[exclusions]]
scope = "item"
phrases = ["nuclear fusion"]
"""))
    m = TopicMatcher([topic])
    assert m.flagged({"title": "Substation hit"})  # 1 x title weight 3
    assert not m.flagged({"title": "Substation for nuclear fusion lab"})
    assert not m.flagged({"lead": "Substation hit", "body": "substation"})  # title only


@pytest.mark.parametrize("text, key", [
    ('name = "x"\n[[terms]]\nterm = "a"\nweight = 1', "slug"),
    ('slug = "Bad Slug"\n[[terms]]\nterm = "a"\nweight = 1', "slug"),
    ('slug = "x"\n[[terms]]\nterm = "a"\nweight = 0', "terms[0].weight"),
    ('slug = "x"\n[[terms]]\nterm = "a"\nweight = 1\nwieght = 2', "terms[0].wieght"),
    ('slug = "x"\nfields = ["headline"]\n[[terms]]\nterm = "a"\nweight = 1', "fields[0]"),
    ('slug = "x"\n[[terms]]\nterm = "a"\nweight = 1\naliases = ["A"]', "terms[0].aliases"),
    ('slug = "x"\n[[terms]]\nterm = "a"\nweight = 1\n[[exclusions]]\nscope = "all"\nphrases = ["b"]',
     "exclusions[0].scope"),
    ('slug = "x"', "terms"),
    ('slug = "x" [', "-"),
])
def test_bad_topic_files_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = _topic(tmp_path, text)
    with pytest.raises(TopicFileError) as info:
        load_topic(path)
    assert info.value.key == key and info.value.path == str(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ConfigError)


def test_parse_since() -> None:
    now = datetime(2024, 11, 26, 12, tzinfo=UTC)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2024-11-01") == datetime(2024, 11, 1, tzinfo=UTC)
    with pytest.raises(ConfigError, match="24h"):
        parse_since("yesterday")


def test_topics_test_adds_topics_and_keeps_fields() -> None:
    lines = [{"title": SEED_TITLE, "text": "Nazarbayev met Putin.", "id": 1},
             {"headline": SEED_SNIPPETS[0][0], "text": SEED_SNIPPETS[0][1], "id": 2}]
    out = io.StringIO()
    n = topics_test(io.StringIO("\n".join(json.dumps(x) for x in lines) + "\n"), out, None)
    got = [json.loads(x) for x in out.getvalue().splitlines()]
    assert n == 2 and [g["id"] for g in got] == [1, 2]
    assert got[0]["topics"][0]["slug"] == "central-asia" and "Nazarbayev" in got[0]["topics"][0]["terms"]
    assert got[1]["topics"] == []


def test_parse_topic_defaults() -> None:
    t = parse_topic("mem", {"slug": "x", "terms": [{"term": "a", "weight": 1}]})
    assert t.fields == ("title", "lead", "body") and t.min_score == 3.0


# --- topic_flags store, on every store tier -----------------------------------------------------


def _flag(item: str, score: float, topic: str = "central-asia") -> dict:
    return {"item_id": item, "kind": "article", "site": "demo", "topic": topic, "score": score,
            "threshold": 3.0, "terms": [{"term": "Kazakhstan", "count": 1, "field": "title",
                                          "context": "Kazakhstan…"}],
            "title": f"Story {item}", "url": f"https://x.test/{item}",
            "published": datetime(2024, 11, 26, 9, tzinfo=UTC)}


def test_flag_store_records_each_flag_once(store_tier) -> None:
    from pipelines.storage.config import StoreConfig
    from pipelines.storage.flags import open_flag_store

    clock = iter(datetime(2024, 11, 26, h, tzinfo=UTC) for h in range(1, 10))
    config = StoreConfig(store_tier.mongo_uri, store_tier.database or "newsmon", store_tier.data_dir)
    with open_flag_store(config, clock=lambda: next(clock)) as store:
        new = store.record([_flag("a", 9), _flag("b", 2), _flag("c", 6, "other")])
        assert {d["_id"] for d in new} == {"a:central-asia", "c:other"}  # b is below its threshold
        new = store.record([_flag("a", 12), _flag("b", 4)])  # a: a revision; b: crosses now
        assert [d["_id"] for d in new] == ["b:central-asia"]
        assert store.record([_flag("a", 1), _flag("b", 9)]) == []
        docs = store.find()
        assert [d["_id"] for d in docs] == ["b:central-asia", "a:central-asia", "c:other"]
        a = docs[1]
        assert a["score"] == 9 and a["last_score"] == 1 and a["schema_version"] == 1
        assert a["flagged_at"] == datetime(2024, 11, 26, 1, tzinfo=UTC)
        assert a["published"] == datetime(2024, 11, 26, 9, tzinfo=UTC)
        assert a["terms"][0]["term"] == "Kazakhstan"
        assert [d["_id"] for d in store.find(topic="central-asia")] == ["b:central-asia", "a:central-asia"]
        since = datetime(2024, 11, 26, 2, tzinfo=UTC)
        assert [d["_id"] for d in store.find(since=since)] == ["b:central-asia"]
        assert len(store.find(limit=1)) == 1
