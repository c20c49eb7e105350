"""A small, fast language guess from text: script first, then function-word counts."""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["detect_language"]

_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to in is that for it was on with as he said by at from his an be "
              "have has are this which not but they were their who been will would",
        "de": "der die und das ist nicht den mit von sich des auf ein eine dem zu im für "
              "auch es wird wurde sind bei als nach aus",
        "fr": "le la les et des est une un du dans que pour pas qui sur au il par avec sont "
              "ce été aux plus ont elle",
        "es": "el la de que y los en las del por con una para es se al lo como más pero "
              "sus fue ha este entre",
        "it": "il di che la e per non una sono del della gli con le un si da ha anche "
              "nel alla dei ma è",
        "pt": "de que o a não do da em para com uma os no se na por mais as dos ao ele "
              "das foi são também",
        "nl": "de het een van en is dat op te in niet zijn voor met die er aan ook als "
              "bij door naar werd heeft",
        "pl": "i w nie się na że z do to jest jak o co ale tak za po od przez jego być "
              "już oraz który",
        "sv": "och att det som en på är för av med den till har inte om ett var jag de "
              "men från också",
        "tr": "ve bir bu da de için ile olarak daha çok gibi olan ama en kadar sonra "
              "değil ne şu",
        "ro": "și de în la că cu pe nu o un a din este pentru sunt mai care fost lui",
        "cs": "a v se na je že to s z do o jako ale by pro jsou které byl jeho tak",
        "uk": "і в на що не з до та у як це за від його але є був про вже було також",
        "ru": "и в на что не с по это как из к но от за его для был о же было уже также",
        "bg": "и на в за да се че не от е с по са като които това е е",
    }.items()
}
_TOKEN = re.compile(r"[^\W\d_]+")
_SCRIPTS = (
    (re.compile(r"[\u3040-\u30ff]"), "ja"),
    (re.compile(r"[\uac00-\ud7af]"), "ko"),
    (re.compile(r"[\u4e00-\u9fff]"), "zh"),
    (re.compile(r"[\u0590-\u05ff]"), "he"),
    (re.compile(r"[\u0600-\u06ff]"), "ar"),
    (re.compile(r"[\u0370-\u03ff]"), "el"),
    (re.compile(r"[\u0e00-\u0e7f]"), "th"),
    (re.compile(r"[\u0900-\u097f]"), "hi"),
    (re.compile(r"[\u10a0-\u10ff]"), "ka"),
    (re.compile(r"[\u0530-\u058f]"), "hy"),
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Any letter of _SCRIPTS or _CYRILLIC: a text with none (Latin, with its punctuation) is found by
# one scan instead of eleven.
_ANY_SCRIPT = re.compile("[" + "".join(p.pattern[1:-1] for p, _ in (*_SCRIPTS, (_CYRILLIC, ""))) + "]")
_UK_ONLY = re.compile(r"[іїєґ]", re.IGNORECASE)
_RU_ONLY = re.compile(r"[ыэъё]", re.IGNORECASE)


def detect_language(text: str, *, fallback: str | None = None, sample: int = 3000) -> str | None:
    """ISO 639-1 code of ``text`` (its first ``sample`` chars), or ``fallback`` when unsure."""
    text = text[:sample]
    letters = sum(map(str.isalpha, text))
    if letters < 20:
        return fallback
    other_scripts = _ANY_SCRIPT.search(text) is not None  # else none of the counts below can pass
    for pattern, lang in _SCRIPTS if other_scripts else ():
        if len(pattern.findall(text)) > letters * 0.3:
            if lang == "ar" and re.search(r"[پچژگ]", text):
                return "fa"
            return lang
    tokens = list(map(str.lower, _TOKEN.findall(text)))
    if not tokens:
        return fallback
    if other_scripts and len(_CYRILLIC.findall(text)) > letters * 0.5:
        uk, ru = len(_UK_ONLY.findall(text)), len(_RU_ONLY.findall(text))
        if uk > ru and uk >= 2:
            return "uk"
        if ru > uk and ru >= 2:
            return "ru"
        candidates = ("uk", "ru", "bg")
    else:
        candidates = tuple(k for k in _STOPWORDS if k not in ("uk", "ru", "bg"))
    # Each language's function words looked up in the token counts (~40 lookups per language).
    counts = Counter(tokens)
    scores = {lang: sum(counts[w] for w in _STOPWORDS[lang] if w in counts) for lang in candidates}
    best = max(scores, key=scores.__getitem__)
    if scores[best] < max(3, len(tokens) * 0.05):
        return fallback
    return best
