"""Site profiles: the shipped ones load, and every kind of mistake names file, key and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.errors import ProfileError
from crawler.profiles import load_profile, load_profiles, profile_dirs, read_profiles

GOOD = """
name = "{name}"
base_url = "https://example.org"
timezone = "Europe/Kyiv"
[start]
sections = {{ world = "/world/" }}
feeds = ["/rss"]
[articles]
allow = ['^/\\d{{4}}/']
[pagination]
next_selector = "a.next::attr(href)"
max_pages = 2
[news_feed]
item = ".feed li"
time = "time::text"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_profiles_load() -> None:
    profiles = load_profiles()
    assert {"demo", "kyivindependent"} <= profiles.keys()
    kyiv = profiles["kyivindependent"]
    assert "https://kyivindependent.com/feed/" in kyiv.feeds
    assert kyiv.timezone == "Europe/Kyiv"
    assert kyiv.is_article_url("https://kyivindependent.com/us-did-not-impose-tariffs-on-russia/")
    assert kyiv.is_article_url("https://kyivindependent.com/national/heres-how-to-support/")
    assert not kyiv.is_article_url("https://kyivindependent.com/tag/news-feed/page/19")
    assert not kyiv.is_article_url("https://example.com/us-did-not-impose-tariffs/")


def test_good_profile_relative_urls_resolved(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, "ex", GOOD.format(name="ex")))
    assert profile.sections == (("world", "https://example.org/world/"),)
    assert profile.feeds == ("https://example.org/rss",)
    assert profile.is_article_url("https://example.org/2024/05/x")
    assert not profile.is_article_url("https://example.org/about")
    moved = profile.with_base_url("http://127.0.0.1:9999/")
    assert moved.sections == (("world", "http://127.0.0.1:9999/world/"),)
    assert "127.0.0.1" in moved.allowed_domains


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (lambda t: t.replace('base_url = "https://example.org"', 'base_url = "example.org"'),
         "base_url", "absolute http"),
        (lambda t: t.replace('timezone = "Europe/Kyiv"', 'timezone = "Mars/Olympus"'),
         "timezone", "unknown time zone"),
        (lambda t: t.replace("max_pages = 2", "max_pages = 0"), "pagination.max_pages", "at least 1"),
        (lambda t: t.replace("max_pages = 2", 'max_pages = "two"'), "pagination.max_pages", "an integer"),
        (lambda t: t.replace("allow = ['^/\\d{4}/']", "allow = ['^/(']"), "articles.allow[0]",
         "regular expression"),
        (lambda t: t.replace('next_selector = "a.next::attr(href)"', 'next_selector = "a[["'),
         "pagination.next_selector", "CSS selector"),
        (lambda t: t.replace('timezone =', 'colour = "red"\ntimezone ='), "colour", "unknown key"),
        (lambda t: t + 'colour = "red"\n', "news_feed.colour", "unknown selector"),
        (lambda t: t.replace('item = ".feed li"\n', ""), "news_feed", "'item' and 'time'"),
        (lambda t: t.replace('sections = { world = "/world/" }\nfeeds = ["/rss"]', ""), "start",
         "at least one of"),
        (lambda t: t.replace('name = "ex"', 'name = "Ex Site"'), "name", "lowercase"),
        (lambda t: t + '[check]\nartcle = "/x/"\n', "check.artcle", "unknown key"),
        (lambda t: t + '[check]\narticle = "ftp://x/"\n', "check.article", "http(s) URL or a path"),
    ],
)
def test_bad_profile_names_file_key_and_problem(tmp_path: Path, change, key: str, problem: str) -> None:
    path = write(tmp_path, "ex", change(GOOD.format(name="ex")))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(path) in str(info.value)


def test_invalid_toml_and_name_mismatch(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, "broken", 'name = "broken"\nbase_url = \n'))
    assert str(info.value) == f"{tmp_path}/broken.toml: line 2, column 12: is not valid TOML: Invalid value"
    with pytest.raises(ProfileError, match="match the file name"):
        load_profile(write(tmp_path, "other", GOOD.format(name="ex")))


def test_user_profile_dir_adds_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "ex", GOOD.format(name="ex"))
    monkeypatch.setenv("NEWSMON_SITES_DIR", str(tmp_path))
    profiles = load_profiles(profile_dirs())
    assert {"demo", "kyivindependent", "ex"} <= profiles.keys()
    monkeypatch.setenv("NEWSMON_SITES_DIR", str(tmp_path / "missing"))
    with pytest.raises(ProfileError, match="not a directory"):
        profile_dirs()


def test_scrapy_list_skips_a_bad_profile_with_one_line(tmp_path: Path) -> None:
    write(tmp_path, "ex", GOOD.format(name="ex"))
    write(tmp_path, "bad", GOOD.format(name="bad").replace("max_pages = 2", "max_pages = -1"))
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=root, capture_output=True, text=True,
        env={**__import__("os").environ, "NEWSMON_SITES_DIR": str(tmp_path)}, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["demo", "ex", "kyivindependent"]
    assert "bad.toml: pagination.max_pages: must be at least 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_problem_of_one_file_is_reported(tmp_path: Path) -> None:
    text = GOOD.format(name="ex").replace('timezone = "Europe/Kyiv"', 'timezone = "Mars/Olympus"\ncolour = 1')
    text = text.replace("max_pages = 2", "max_pages = 0").replace('"https://example.org"', '"example.org"')
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, "ex", text))
    keys = [key for key, _ in info.value.problems]
    assert keys == ["base_url", "timezone", "pagination.max_pages", "colour"]
    assert len(str(info.value).splitlines()) == 1
    assert str(info.value).startswith(f"{tmp_path}/ex.toml: base_url: must be an absolute")


def test_a_broken_profile_only_takes_itself_out(tmp_path: Path) -> None:
    write(tmp_path, "ex", GOOD.format(name="ex"))
    write(tmp_path, "broken", "name = \n")
    write(tmp_path, "demo", GOOD.format(name="demo").replace("max_pages = 2", "max_pages = 0"))
    found = read_profiles(profile_dirs(tmp_path))
    assert sorted(found.profiles) == ["ex", "kyivindependent"]
    # A broken replacement of a shipped profile is reported, not silently swapped for the shipped one.
    assert sorted(found.broken) == ["broken", "demo"]
    assert found.broken["demo"].key == "pagination.max_pages"
    with pytest.raises(ProfileError):
        load_profiles(profile_dirs(tmp_path))
