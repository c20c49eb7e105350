"""Seeded English news prose for the demo site: titles, paragraphs, News Feed snippets.

Everything is drawn from the ``random.Random`` passed in, so a seed fixes every word. People who
are quoted are fictional; real place names keep the text looking like the seed page.
"""

from __future__ import annotations

import random
import re

__all__ = ["CENTRAL_ASIA_WORDS", "Prose", "ap_date", "first_sentence", "slugify"]

#: Words that only Central Asia stories (and the page boilerplate teaser) contain.
CENTRAL_ASIA_WORDS = ("Kazakhstan", "Tokayev", "Astana", "Uzbekistan")

CITIES = [
    "Kharkiv", "Zaporizhzhia", "Odesa", "Dnipro", "Sumy", "Kherson", "Mykolaiv", "Poltava",
    "Chernihiv", "Lviv", "Kryvyi Rih", "Vinnytsia", "Zhytomyr", "Kramatorsk", "Pokrovsk",
]
OBLASTS = [
    "Kharkiv Oblast", "Zaporizhzhia Oblast", "Odesa Oblast", "Dnipropetrovsk Oblast",
    "Sumy Oblast", "Kherson Oblast", "Donetsk Oblast", "Chernihiv Oblast", "Mykolaiv Oblast",
]
OFFICIALS = [
    ("Governor", "Ivan Fedorenko"), ("Governor", "Oksana Dovhal"), ("Mayor", "Petro Kushnir"),
    ("Deputy Minister", "Halyna Rudenko"), ("Minister", "Taras Hlushko"),
    ("spokesperson", "Vitalii Osadchyi"), ("Ombudsman", "Larysa Polishchuk"),
    ("Commander", "Yevhen Sirenko"), ("Prosecutor General", "Roman Zhuk"),
]
COUNTRIES = [
    "Germany", "France", "Poland", "the Netherlands", "Sweden", "Denmark", "Norway", "Finland",
    "Lithuania", "Estonia", "Latvia", "Canada", "Japan", "the United Kingdom", "Czechia", "Spain",
]
CAPITALS = ["Berlin", "Paris", "Warsaw", "Brussels", "Stockholm", "Vilnius", "Prague", "Rome"]
ORGS = [
    "the European Commission", "the World Bank", "NATO", "the IMF", "the European Parliament",
    "the UN Security Council", "the OSCE", "the Council of Europe",
]
ITEMS = [
    "air defense systems", "artillery shells", "armored vehicles", "power generators",
    "demining equipment", "medical supplies", "long-range drones", "transformers",
]
FULL_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
          "Nov.", "Dec."]

# Title templates per topic; each topic also has a lead and detail sentences below.
TITLES = {
    "attack": [
        "Russian drone attack on {city} injures {n} people",
        "Russian missile strike damages infrastructure in {city}",
        "Russian attacks on {oblast} kill {n} civilians over past day",
        "Explosions heard in {city} as air defense repels overnight attack",
    ],
    "aid": [
        "{Country} pledges new package of {items} for Ukraine",
        "{Country} to deliver {items} to Ukraine by spring",
        "Ukraine receives first batch of {items} from {country}",
    ],
    "energy": [
        "Power outages hit {oblast} after strike on energy facility",
        "Ukraine's grid operator schedules blackouts in {city}",
        "{Org} approves ${n} million for Ukraine's energy repairs",
    ],
    "economy": [
        "Ukraine's central bank keeps key rate at {pct}%",
        "Ukrainian exports through Black Sea corridor rise {pct}% in {month}",
        "Agro & Steel Group expands plant near {city} despite war",
        "Ukraine's budget deficit narrows as {org} releases funds",
    ],
    "europe": [
        "EU foreign ministers meet in {capital} to discuss sanctions on Russia",
        "{Country} extends temporary protection for Ukrainian refugees",
        "European leaders gather in {capital} to discuss Ukraine's accession",
    ],
    "russia": [
        "Russian court sentences journalist to {n} years in absentia",
        "Russia's economy slows as sanctions bite, analysts say",
        "Russian authorities detain activist in occupied {city} region",
    ],
    "society": [
        "{city} reopens library damaged in shelling",
        "Volunteers in {city} rebuild school destroyed in attack",
        "Ukraine returns {n} children deported to Russia",
    ],
    "opinion": [
        "Opinion: Why {country} must do more for Ukraine's air defense",
        "Opinion: The West cannot afford fatigue over Ukraine",
        "Opinion: What {city} teaches us about resilience",
        "Opinion: {Country}'s hesitation on {items} costs Ukrainian lives",
        "Opinion: Rebuilding {city} starts with its schools",
    ],
    "central_asia": [
        "Kazakhstan expands transit route bypassing Russia",
        "Uzbekistan and Ukraine sign agreement on grain exports",
        "Tokayev hosts European delegation in Astana",
        "Kazakhstan tightens controls on sanctioned goods bound for Russia",
        "Kazakhstan and {country} discuss new rail link via Caspian Sea",
        "Uzbekistan seeks closer ties with {country} as Moscow's influence wanes",
        "Tokayev meets {country}'s foreign minister in Astana",
    ],
}
TITLE_TAILS = [", officials say", " on {weekday}", " as talks continue", ", media report", " in {month}"]
SECTION_TOPICS = {
    "news": ["attack", "aid", "energy", "society", "central_asia"],
    "ukraine": ["attack", "energy", "society"],
    "russia": ["russia", "central_asia"],
    "europe": ["europe", "aid", "central_asia"],
    "business": ["economy", "energy"],
    "opinion": ["opinion"],
}
LEADS = {
    "attack": "Russian forces launched {n2} drones and {n3} missiles at {oblast} overnight on {date}, "
              "{title_official} {official} said.",
    "aid": "{Country} will send {items} to Ukraine as part of a new assistance package, the "
           "government announced on {date}.",
    "energy": "Ukraine's energy system came under renewed pressure on {date} after an attack "
              "damaged a facility in {oblast}, {title_official} {official} said.",
    "economy": "Ukraine's economy showed signs of resilience in {month}, according to data "
               "published by the National Bank on {date}.",
    "europe": "European officials met in {capital} on {date} to discuss further support for "
              "Ukraine and new restrictions on Russia.",
    "russia": "Russian authorities pressed ahead with a new wave of prosecutions on {date}, "
              "rights groups reported.",
    "society": "Residents of {city} gathered on {date} to mark the reopening of a building "
               "damaged by Russian shelling earlier this year.",
    "opinion": "For almost three years, Ukrainians have been told that help is on the way, and "
               "for almost three years, it has arrived late.",
    "central_asia": "Kazakhstan's President Kassym-Jomart Tokayev met European officials in "
                    "Astana on {date} to discuss trade routes that bypass Russia.",
}
DETAILS = {
    "attack": [
        "Air defense units shot down {n2} of the drones, the Air Force reported.",
        "A residential building and a warehouse were damaged in the attack.",
        "Emergency workers extinguished a fire that broke out after the strike.",
        "Among the injured are {n} women and a teenager, according to local authorities.",
        "Russia has repeatedly targeted civilian infrastructure in {oblast} since the start of the full-scale invasion.",
        "The attack came hours after a similar strike on {city2}.",
    ],
    "aid": [
        "The package is worth about ${n} million, according to the defense ministry.",
        "Deliveries are expected to begin within weeks, officials said.",
        "Ukraine has repeatedly asked its partners for more {items}.",
        "The announcement followed a meeting of defense ministers in {capital}.",
    ],
    "energy": [
        "Around {n},000 households were left without electricity after the strike.",
        "Repair crews restored power to most consumers by the evening.",
        "Ukrenergo urged residents to limit consumption during peak hours.",
        "Russia has launched more than {n} attacks on Ukraine's energy facilities this year.",
    ],
    "economy": [
        "Inflation slowed to {pct}% year-on-year, the central bank said.",
        "Exports of grain and metals accounted for most of the growth.",
        "Analysts expect the hryvnia to remain stable through the end of the quarter.",
        "The funds will cover salaries of teachers and doctors, the Finance Ministry said.",
    ],
    "europe": [
        "The ministers failed to agree on a new package of sanctions.",
        "Hungary has blocked several decisions on Ukraine in recent months.",
        "Diplomats said a compromise could be reached before the end of the year.",
        "More than {n} million Ukrainians have received temporary protection in the EU.",
    ],
    "russia": [
        "The defendant was not present in court and has left Russia, according to lawyers.",
        "Human rights organizations have documented hundreds of politically motivated cases.",
        "Independent media in Russia have been labeled foreign agents or undesirable organizations.",
        "Economists expect growth to slow further next year as military spending rises.",
    ],
    "society": [
        "The building was hit by a Russian missile in {month}.",
        "Volunteers and local businesses funded most of the repairs.",
        "About {n} children attend classes in the school's underground shelter.",
        "Local authorities plan to restore {n} more buildings by next year.",
    ],
    "opinion": [
        "Every delay has been measured in lives and in territory.",
        "The choice facing Western capitals is not between escalation and peace.",
        "History will judge this moment by what was delivered, not by what was promised.",
        "Ukraine's partners have the means; what they lack is urgency.",
    ],
    "central_asia": [
        "Uzbekistan has also increased cargo traffic along the so-called Middle Corridor.",
        "Tokayev has refused to recognize Russia's annexation of Ukrainian territories.",
        "Trade between Kazakhstan and the EU has grown steadily since 2022.",
        "Officials in Astana say the country seeks balanced relations with all partners.",
    ],
}
QUOTES = [
    "\u201cWe will not leave our people without support,\u201d {official} said.",
    "\u201cThe situation remains difficult but under control,\u201d {title_official} {official} told reporters.",
    '"This is a clear signal that Ukraine is not alone," {official} wrote on Telegram.',
    "\u201cEvery day counts,\u201d {official} said. \u201cWe need decisions, not statements.\u201d",
]
LIST_INTROS = {
    "default": "The measures announced on {date} include:",
    "aid": "The package includes:",
}
LIST_ITEMS = [
    "funding for repairs of damaged {items2}", "{n} mobile power units for hospitals",
    "training for {n} specialists", "support for displaced families in {oblast}",
    "new shelters for schools in {city}", "equipment for emergency services",
]
SUBJECTS = [
    "Local authorities", "The regional administration", "Ukraine's military", "Rescue teams",
    "Officials in {city}", "The Foreign Ministry", "Volunteers", "Energy workers",
    "The General Staff", "Prosecutors", "Independent analysts", "Western diplomats", "Residents",
    "Lawmakers", "The Cabinet of Ministers", "Hospital staff", "National Police officers",
    "Border guards", "Farmers in the region", "Railway engineers", "Investigators", "Kyiv city officials",
]
# (verbs, objects) pairs that make sense together: things observed, and things decided.
CLAUSES = [
    (["reported", "confirmed", "documented", "recorded", "estimated", "warned of", "pointed to"], [
        "damage to {n} buildings", "a shortage of {items}", "losses of about ${n} million",
        "a sharp rise in food prices", "delays in deliveries of {items}", "{n} cases of looting",
        "a drop in grain shipments", "the loss of {n} armored vehicles", "a spike in cyberattacks",
        "longer queues at checkpoints", "power outages affecting {n},000 homes", "{n} new craters on the main road",
    ]),
    (["announced", "prepared", "discussed", "welcomed", "criticized", "called for", "approved"], [
        "new restrictions on travel", "plans to rebuild the bridge", "the evacuation of {n} families",
        "the reopening of the checkpoint", "a new round of talks", "repairs to the water supply",
        "a plan to relocate factories", "more funding for shelters", "cuts to public transport",
        "a curfew from midnight to 5 a.m.", "compensation for damaged homes",
    ]),
]
PLACES = [
    "in {city}", "near {city}", "across {oblast}", "in the south", "along the front line",
    "in the capital", "in {oblast}", "in rural districts", "", "",
]
TIMES = [
    "on {weekday}", "earlier this week", "late on {weekday}", "over the weekend", "on {date}",
    "last month", "this morning", "since the summer", "",
]
TAILS = [
    "", "", ", according to {org}", ", {title_official} {official} said",
    ", the ministry said in a statement", ", local media reported", ", citing preliminary data",
    ", officials said", ", though details remain scarce", ", a source told reporters",
]
SNIPPET_HEADLINES = [
    "Explosions reported in {city}.", "Air raid alert issued across eastern Ukraine.",
    "{Country} announces new aid for Ukraine.", "Power restored in parts of {oblast}.",
    "Russian strike damages port infrastructure in {city}.", "Ukraine returns {n} POWs home.",
    "EU agrees to extend sanctions on Russia.", "Kazakhstan increases oil exports via Black Sea.",
    "Zelensky meets {country}'s defense minister.", "Drone debris falls on residential area in {city}.",
    "Ukrainian athletes win {n} medals at European championship.",
    "Train service to {city} resumes after attack.",
]
SNIPPET_TEXTS = [
    "{title_official} {official} said there were no immediate reports of casualties.",
    "The information is being verified, the General Staff said in a statement.",
    "According to preliminary data, {n} people were injured. Rescue work is ongoing.",
    "The decision was announced after a meeting in {capital} on Monday.",
    "Residents were urged to stay in shelters until the all-clear signal.",
    "Officials said the repairs could take several days.",
]


def ap_date(month: int, day: int) -> str:
    """AP-style date as the seed writes it: "Dec. 20", "March 5"."""
    return f"{MONTHS[month - 1]} {day}"


def first_sentence(text: str) -> str:
    """The first sentence of ``text``; abbreviations such as "Sept. 24" do not end it."""
    return re.split(r"(?<=[.!?”])\s+(?=[A-Z“\"])", text, maxsplit=1)[0]


def slugify(text: str) -> str:
    """Ghost-style slug: lowercase, apostrophes dropped, other runs of non-alphanumerics to '-'."""
    text = re.sub(r"['\u2019]", "", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


class Prose:
    """Draws titles, paragraphs and snippets from one ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _slots(self) -> dict[str, str]:
        r = self.rng
        title_official, official = r.choice(OFFICIALS)
        country = r.choice(COUNTRIES)
        city, city2 = r.sample(CITIES, 2)
        org = r.choice(ORGS)
        return {
            "city": city, "city2": city2, "oblast": r.choice(OBLASTS), "country": country,
            "Country": country[0].upper() + country[1:], "capital": r.choice(CAPITALS),
            "org": org, "Org": org[0].upper() + org[1:], "items": r.choice(ITEMS),
            "items2": r.choice(["homes", "schools", "hospitals", "bridges", "substations"]),
            "n": str(r.randint(2, 48)), "n2": str(r.randint(20, 90)), "n3": str(r.randint(2, 12)),
            "pct": str(r.choice([6, 9, 11, 13, 14, 17, 21])), "month": r.choice(FULL_MONTHS),
            "date": f"{r.choice(MONTHS)} {r.randint(1, 28)}", "official": official,
            "title_official": title_official, "weekday": r.choice(WEEKDAYS),
        }

    def fill(self, template: str, slots: dict[str, str] | None = None) -> str:
        """Fill one template from fresh (or given) slot values."""
        return template.format(**(slots or self._slots()))

    def title(self, section: str, taken: set[str]) -> tuple[str, str, dict[str, str]]:
        """Return ``(topic, title, slots)`` for a story in ``section``, a title not in ``taken``."""
        for attempt in range(200):
            topic = self.rng.choice(SECTION_TOPICS[section])
            slots = self._slots()
            title = self.fill(self.rng.choice(TITLES[topic]), slots)
            if attempt > 20:
                title += self.fill(self.rng.choice(TITLE_TAILS), slots)
            if title not in taken:
                return topic, title, slots
        raise RuntimeError(f"cannot find a fresh title for section {section!r}")

    def paragraphs(self, topic: str, n: int, slots: dict[str, str] | None = None
                   ) -> tuple[list[str], tuple[int, int] | None]:
        """Return ``n``-ish paragraphs and the ``(start, end)`` span rendered as a ``<ul>``, if any."""
        r = self.rng
        slots = slots or self._slots()
        out = [self.fill(LEADS[topic], slots)]
        details = list(DETAILS[topic])
        r.shuffle(details)
        while len(out) < n:
            k = r.randint(2, 4)
            sentences = [self.sentence() for _ in range(k)]
            if details and r.random() < 0.35:
                sentences.insert(r.randint(0, k), self.fill(details.pop()))
            if r.random() < 0.3:
                sentences.append(self.fill(r.choice(QUOTES), slots))
            para = " ".join(dict.fromkeys(sentences))
            if para not in out:
                out.append(para)
        span = None
        if n >= 6 and r.random() < 0.45:
            at = r.randint(2, n - 2)
            intro = self.fill(LIST_INTROS.get(topic, LIST_INTROS["default"]), slots)
            items = list(dict.fromkeys(self.fill(t) for t in r.sample(LIST_ITEMS, r.randint(3, 4))))
            items = [i[0].upper() + i[1:] + ";" for i in items[:-1]] + [items[-1][0].upper() + items[-1][1:] + "."]
            out[at:at] = [intro, *items]
            span = (at + 1, at + 1 + len(items))
        return out, span

    def sentence(self) -> str:
        """One compositional sentence: subject, verb, object, place, time, attribution."""
        r = self.rng
        slots = self._slots()
        verbs, objects = r.choice(CLAUSES)
        words = [r.choice(SUBJECTS), r.choice(verbs), r.choice(objects), r.choice(PLACES), r.choice(TIMES)]
        text = " ".join(w for w in words if w) + r.choice(TAILS) + "."
        return text.format(**slots)

    def snippet(self) -> tuple[str, str]:
        """Return ``(headline, text)`` for one News Feed item."""
        slots = self._slots()
        headline = self.fill(self.rng.choice(SNIPPET_HEADLINES), slots)
        text = " ".join(self.fill(t, slots) for t in self.rng.sample(SNIPPET_TEXTS, self.rng.randint(1, 2)))
        return headline, text
