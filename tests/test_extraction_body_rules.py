"""Generic body rules: live blogs, prose with links, camelCase captions, card grids, articleBody,
prose siblings of the container."""

from __future__ import annotations

import json

from crawler.extraction import extract_article

URL = "https://news.example.com/2024/03/02/story"
PROSE = ("The council voted on Tuesday to approve the new budget after a long debate that ran "
         "late into the evening, with several members raising concerns about transport costs.")


def _page(body: str, ld: dict | None = None) -> str:
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    return (f"<html><head><title>Story</title>{script}</head><body><h1>Council passes budget</h1>"
            f"{body}</body></html>")


def _paras(n: int, tag: str = "p", label: str = "Paragraph") -> str:
    return "".join(f"<{tag}>{PROSE} {label} {i}.</{tag}>" for i in range(n))


def test_live_blog_body_is_the_summary_not_the_update_stream() -> None:
    updates = [{"@type": "BlogPosting", "headline": f"Update {i}",
                "articleBody": f"Live update number {i} says the vote count is still going on and "
                               f"more members have spoken in the chamber tonight, item {i}."}
               for i in range(4)]
    ld = {"@type": "LiveBlogPosting", "headline": "Council passes budget", "liveBlogUpdate": updates}
    stream = "".join(f'<div class="post"><h2>{u["headline"]}</h2><p>{u["articleBody"]}</p>'
                     f'<div>Reporter 2 March 2024 21:0{i}</div></div>' for i, u in enumerate(updates))
    html = _page(f'<article><div class="intro">{_paras(4)}</div><div class="stream">{stream}'
                 "</div></article>", ld)
    body = extract_article(html, URL)["body"]
    assert "Paragraph 3." in body and "Live update number" not in body and "Reporter" not in body


def test_prose_paragraph_with_long_links_is_kept() -> None:
    linked = ('<p>Judge Cannon called the <a href="/a">prosecution’s request to begin the trial in '
              'July “unrealistic”</a>, given the overlap with the <a href="/b">New York hush-money '
              "trial scheduled for six weeks from 25 March.</a></p>")
    html = _page(f"<article>{_paras(3)}{linked}<ul><li><a href='/c'>Other story one</a></li>"
                 "<li><a href='/d'>Other story two headline</a></li></ul></article>")
    body = extract_article(html, URL)["body"]
    assert "Judge Cannon called the" in body and "Other story" not in body


def test_camel_case_caption_class_removed() -> None:
    html = _page(f'<article>{_paras(2)}<div class="InlineImage-imageEmbedCaption">Planes on the '
                 f"tarmac at the airport on January 8, 2024.</div>{_paras(2)}</article>")
    assert "Planes on the tarmac" not in extract_article(html, URL)["body"]


def test_more_from_card_grid_inside_article_removed() -> None:
    cards = "".join(f'<div class="card"><h2><a href="/s{i}">Teaser headline {i}</a></h2>'
                    f"<p>A short dek for the teaser story number {i}, one sentence long.</p></div>"
                    for i in range(4))
    html = _page(f'<article>{_paras(5)}<section class="collections"><h2>More</h2>{cards}'
                 "</section></article>")
    body = extract_article(html, URL)["body"]
    assert "Paragraph 4." in body and "Teaser headline" not in body and "short dek" not in body


def test_linked_subheadings_with_long_sections_are_kept() -> None:
    sections = "".join(f'<h3><a href="/p{i}">Product {i}</a></h3><p>{PROSE} Section {i}.</p>'
                       f"<p>{PROSE} Section {i}, more.</p>" for i in range(4))
    body = extract_article(_page(f"<article>{_paras(1)}<div>{sections}</div></article>"), URL)["body"]
    assert all(f"Section {i}, more." in body for i in range(4))


def test_declared_article_body_chosen_when_dom_misses_it() -> None:
    declared = "\n".join(f"Declared paragraph {i}: the stream of the article says something "
                         f"different from the sidebar text, sentence {i}." for i in range(6))
    ld = {"@type": "NewsArticle", "headline": "Council passes budget", "articleBody": declared}
    html = _page(f'<article><div itemprop="x">{_paras(6)}</div></article>', ld)
    assert extract_article(html, URL)["body"].startswith("Declared paragraph 0")
    ld["articleBody"] = "\n".join(f"{PROSE} Paragraph {i}." for i in range(6))
    body = extract_article(_page(f"<article>{_paras(6)}</article>", ld), URL)["body"]
    assert "Paragraph 5." in body and "Declared" not in body



def test_declared_article_body_written_as_html_is_read_as_html() -> None:
    """A CMS that writes the body's markup into articleBody, even entity-escaped: no tag or
    entity reaches the body, and an inline tag does not split a sentence."""
    paras = [f"Declared paragraph {i}: the solu&ccedil;&atilde;o of the <strong>council</strong> "
             f"differs from the sidebar text, sentence {i}." for i in range(6)]
    markup = "".join(f'<p class="texto">{p}</p>' for p in paras)
    for declared in (markup, markup.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                     .replace('"', "&quot;")):
        ld = {"@type": "NewsArticle", "headline": "Council passes budget", "articleBody": declared}
        body = extract_article(_page(f'<article><div itemprop="x">{_paras(6)}</div></article>', ld),
                               URL)["body"]
        assert body.split("\n\n")[0] == ("Declared paragraph 0: the solução of the council differs "
                                          "from the sidebar text, sentence 0.")
        assert "<" not in body and "&" not in body and "Paragraph 5." not in body

def test_microdata_article_body_is_declared_evidence() -> None:
    stream = "".join(f"<p>Microdata paragraph {i} about the council vote and what comes next for "
                     f"the budget, sentence {i}.</p>" for i in range(6))
    html = _page(f"<div class='main'>{_paras(8)}</div><div itemprop='articleBody'>{stream}</div>")
    assert "Microdata paragraph 5" in extract_article(html, URL)["body"]


def test_unclosed_noscript_holding_the_page_is_unwrapped_not_removed() -> None:
    html = ("<html><head><title>Story</title></head><body><noscript><p>Enable JavaScript.</p>"
            f"<h1>Council passes budget</h1><article>{_paras(5)}</article></body></html>")
    r = extract_article(html, URL)
    assert "Paragraph 4." in r["body"] and r["is_article"]
    # a noscript that is only a notice still goes
    html = ("<html><head><title>Story</title></head><body><noscript><p>Enable JavaScript to see "
            f"the comments.</p></noscript><h1>Council passes budget</h1><article>{_paras(5)}"
            "</article></body></html>")
    assert "Enable JavaScript" not in extract_article(html, URL)["body"]


def test_page_wrapped_in_one_form_is_read_as_the_page() -> None:
    """ASP.NET wraps every page in <form id="aspnetForm">: the article inside is not furniture."""
    html = ('<html><head><title>Story</title></head><body><form id="aspnetForm" method="post">'
            f'<h1>Council passes budget</h1><div class="text">{_paras(5)}</div>'
            '<form class="comment"><p>Leave a comment</p></form></form></body></html>')
    body = extract_article(html, URL)["body"]
    assert "Paragraph 4." in body and "Leave a comment" not in body


def test_lead_paragraph_beside_the_container_is_kept_and_a_teaser_past_a_link_list_is_not() -> None:
    # the container (most of the running text) is the paywall block; the lead sits beside it
    lead = ("<p>Grosbliederstroff, the small border town, woke on Monday to find its only bridge "
            "to France closed by police, with no word on when it would open again.</p>")
    links = "".join(f'<li><a href="/s{i}">Another story headline number {i}</a></li>' for i in range(4))
    teaser = f"<p>{PROSE.replace('council', 'committee')} A teaser paragraph.</p>"
    html = _page(f'<div class="story">{lead}<div class="paywall">{_paras(6)}</div>'
                 f"<ul>{links}</ul>{teaser}</div>")
    body = extract_article(html, URL)["body"]
    assert body.startswith("Grosbliederstroff, the small border town") and "Paragraph 5." in body
    assert "teaser paragraph" not in body


def test_heading_over_only_a_link_list_is_dropped_and_subheadings_with_text_are_kept() -> None:
    # "Further reading" introduces nothing but links (dropped): its label goes with them; the
    # subheadings above a section of prose, or above a lower-ranked subheading, stay
    links = "".join(f'<li><a href="/s{i}">Another story headline number {i}</a></li>' for i in range(4))
    # prose of its own (a repeat of the first section's paragraphs would be dropped as one)
    later = _paras(2, label="Later part")
    html = _page(f"<article><h2>The vote</h2><h3>Tuesday</h3>{_paras(3)}<h2>Further reading</h2>"
                 f"<ul>{links}</ul><h2>What comes next</h2>{later}"
                 f"<p><strong>See also</strong></p><ul>{links}</ul></article>")
    body = extract_article(html, URL)["body"]
    assert "The vote\n\nTuesday" in body and "What comes next" in body
    assert "Further reading" not in body and "See also" not in body and "Another story" not in body


def _cards(n: int) -> str:
    return "".join(f'<li class="card"><h3><a href="/other/{i}">Another story headline {i}</a></h3>'
                   f"<p>A summary of another story number {i}, told in two sentences for the "
                   f"stream. It runs long enough to look like running text to a scorer.</p>"
                   f"<span>Source {i}</span></li>" for i in range(n))


def test_stream_of_story_cards_beside_the_article_is_no_part_of_it() -> None:
    # the stream holds more text than the article: without the card rule the container would
    # be their common parent, and trafilatura keeps the stream too
    html = _page(f'<div class="main"><div class="story">{_paras(5)}</div>'
                 f'<ul class="stream">{_cards(12)}</ul></div>')
    body = extract_article(html, URL)["body"]
    assert "Paragraph 4." in body and "another story" not in body


def test_cards_that_are_most_of_the_page_are_its_text() -> None:
    # a thread or a gallery: the cards are the content (the short intro alone is no article)
    html = _page(f"<p>Comments on the budget.</p><ul>{_cards(8)}</ul>")
    assert "another story number 7" in extract_article(html, URL)["body"]


def test_text_on_both_sides_of_a_captioned_picture_is_one_body() -> None:
    # Medium-style layout: the text in sections, a full-width picture section between two
    picture = '<div class="wide"><img src="/a.jpg"><span>Photo: the town hall</span></div>'
    html = _page(f'<div class="post"><div class="text">{_paras(8)}</div>{picture}'
                 f'<div class="text"><p>{PROSE} The closing part.</p></div></div>')
    body = extract_article(html, URL)["body"]
    assert "Paragraph 7." in body and "The closing part." in body


def test_a_line_that_is_only_a_date_is_no_paragraph_and_prose_with_dates_is() -> None:
    stamps = ["23.10.2018", "Stand: 05. Februar 2020", "March 5, 2020", "20 de noviembre de 2019",
              "Updated: 12/03/2021 10:00 CET"]
    kept = ["Tokyo 2020", "Top 10 of 2020", "On March 5, 2020 the council met again."]
    html = _page("<article>" + "".join(f"<p>{t}</p>" for t in stamps + kept) + _paras(4)
                 + "</article>")
    paragraphs = extract_article(html, URL)["paragraphs"]
    assert not set(stamps) & set(paragraphs)
    assert set(kept) <= set(paragraphs) and "Paragraph 3." in paragraphs[-1]


def test_a_label_left_last_after_prose_is_dropped_and_a_run_of_short_lines_is_kept() -> None:
    labelled = extract_article(_page(f"<article>{_paras(4)}<p>Weitere Informationen</p></article>"), URL)
    assert labelled["paragraphs"][-1].endswith("Paragraph 3.")
    verse = "".join(f"<p>Line {i} of the song</p>" for i in range(3))
    kept = extract_article(_page(f"<article>{_paras(4)}{verse}</article>"), URL)
    assert kept["paragraphs"][-1] == "Line 2 of the song"


def test_an_author_box_named_in_any_of_its_spellings_is_no_part_of_the_body() -> None:
    bio = "Jane Doe has covered city hall for the paper since 2015 and lives in the city with two cats."
    for name in ("post-author", "artDetailAutor", "TestReport__AuthorBox", "auteur"):
        html = _page(f'<article>{_paras(4)}<div class="{name}"><p>{bio}</p></div></article>')
        body = extract_article(html, URL)["body"]
        assert "Paragraph 3." in body and "city hall" not in body, name


LEAD = ("Councillors approved the spending plan after eight hours of debate, and the mayor said "
        "the transport budget would be reviewed in the spring.")


def _lead_page(gap: str) -> str:
    return (f"<html><head><title>Story</title></head><body><header><h1>Council passes budget</h1>"
            f"{gap}</header><section class='story'>{_paras(5)}</section></body></html>")


def test_lead_between_headline_and_container_leads_the_body() -> None:
    """A lead above the article's container is its first paragraph, without the description
    meta to confirm it; a caption, or a sign-up box's text, in the same place is not."""
    body = extract_article(_lead_page(f"<p>{LEAD}</p>"), URL)["body"]
    assert body.split("\n\n")[0] == LEAD and "Paragraph 4." in body
    for gap in (f"<div class='video-caption'><p>{LEAD}</p></div>",
                f"<div><p>{LEAD}</p><input type='email'><button>Sign up</button></div>",
                f"<figure><figcaption><p>{LEAD}</p></figcaption></figure>"):
        body = extract_article(_lead_page(gap), URL)["body"]
        assert LEAD not in body and "Paragraph 4." in body, gap


def test_read_more_expander_does_not_cut_the_text_in_two() -> None:
    """The first paragraphs, then a "Read more" button and the rest of the text it expands: one
    body. After the article, a link line still ends the run (teasers follow share links)."""
    first, rest = _paras(2, label="First part"), _paras(12, label="Second part")
    teasers = _paras(2, label="Teaser")
    html = _page(f"<div class='story'>{first}<div id='more'><div><a href='#more'>Read more</a></div>"
                 f"<div class='slot'></div><div id='rest'>{rest}</div></div></div>"
                 f"<div><a href='/share'>Share</a></div>{teasers}")
    body = extract_article(html, URL)["body"]
    assert "First part 0." in body and "First part 1." in body and "Second part 11." in body
    assert "Teaser 0." not in body


def test_declared_excerpt_never_wins_over_the_page_text() -> None:
    """A CMS that puts a teaser ("...") in articleBody, of this story or another: the page's own
    text is the body, and the page is stored as an article."""
    teaser = ("What inspires someone to become a software developer? Two guests discuss how the "
              "culture of coding has evolved over the decades and where they hope it is headed...")
    ld = {"@type": "NewsArticle", "headline": "Council passes budget", "articleBody": teaser}
    r = extract_article(_page(f"<article>{_paras(6)}</article>", ld), URL)
    assert r["is_article"] and "Paragraph 5." in r["body"] and "inspires" not in r["body"]


def test_post_in_noscript_beside_a_long_sidebar_is_read() -> None:
    """A blog engine that renders its post by script and keeps it in <noscript> for readers
    without JavaScript: the post is the body, though the sidebar holds more of the page's text."""
    sidebar = "".join(f'<li><a href="/archive/{i}">Archive entry number {i} of this blog, '
                      f"from an earlier month</a></li>" for i in range(80))
    html = ("<html><head><title>Story</title></head><body><h1>Council passes budget</h1>"
            f"<div class='post'><noscript>{_paras(4)}</noscript></div><ul>{sidebar}</ul></body></html>")
    assert "Paragraph 3." in extract_article(html, URL)["body"]


def test_inline_link_named_like_boilerplate_inside_a_sentence_is_kept() -> None:
    """A glossary popup (``<a class="popup">``) or a ``<span class="share">`` highlight in the
    middle of a sentence is part of it; a block of that name is still furniture."""
    inline = ('<p>"Oh, certainly, sir, <a href="#" class="popup">if you prefer that I should</a>,"'
              ' said the clerk, and went back to his desk without another word.</p>')
    html = _page(f"<article>{_paras(3)}{inline}{_paras(3, label='After')}"
                 "<div class='share'><a href='/s'>Share this story with your friends</a></div>"
                 "</article>")
    body = extract_article(html, URL)["body"]
    assert "certainly, sir, if you prefer that I should" in body and "Share this" not in body


def test_linked_subheading_of_a_section_is_kept_a_teaser_card_is_not() -> None:
    """A listicle's subheadings are links to what they review: each is kept when a paragraph of
    its own follows. A related-post card (linked heading, excerpt that breaks off) is not."""
    sections = "".join(f'<h3><a href="/game/{i}">Game number {i}</a></h3><p>{PROSE} Review {i}.</p>'
                       for i in range(3))
    card = f'<div><h4><a href="/other">Another story</a></h4><p>{PROSE} and more…</p></div>'
    body = extract_article(_page(f"<article>{_paras(3)}{sections}{card}</article>"), URL)["body"]
    assert "Game number 0" in body and "Game number 2" in body and "Another story" not in body


def test_introduction_above_a_list_written_as_a_table_is_kept() -> None:
    """The text is the rows of a table (a list of films, a timeline): the paragraphs above the
    table introduce it; its caption and head row do not end the run of prose beside it."""
    rows = "".join(f"<tr><td>19{i}0</td><td>{PROSE} Row {i}.</td></tr>" for i in range(5))
    intro = ("<p>This list of films features time loops, in which characters live the same day "
             "again and again until some condition is met and the loop is broken at last.</p>")
    more = "<p>For a list of films that include any kind of time travel, see the other list.</p>"
    html = _page(f"<div class='content'>{intro}{more}<table><caption>Films</caption><thead><tr><th>Year"
                 f"</th><th>Plot</th></tr></thead><tbody>{rows}</tbody></table></div>")
    body = extract_article(html, URL)["body"]
    assert "This list of films" in body and "see the other list" in body and "Row 4." in body


def test_subheading_whose_text_is_a_link_named_like_boilerplate_is_kept() -> None:
    """A documentation page's subheadings link back to its contents (``<a class="toc-backref">``):
    the link is the heading's text, not a table of contents."""
    sections = "".join(f'<h3><a class="toc-backref" href="#toc{i}">Setting up part {i}</a>'
                       f'<a class="headerlink" href="#s{i}">¶</a></h3>{_paras(2, label=f"S{i}")}'
                       for i in range(3))
    body = extract_article(_page(f"<article>{_paras(2)}{sections}</article>"), URL)["body"]
    assert "Setting up part 0" in body and "Setting up part 2" in body


def test_pull_quote_that_repeats_nothing_is_a_paragraph_of_the_text() -> None:
    """A pull quote repeats a sentence of the article and is dropped; a block named so whose
    words appear nowhere else is a paragraph the page set off, and is kept."""
    repeated = f'<blockquote class="pullquote">{PROSE}</blockquote>'
    unique = ('<blockquote class="pullquote">Literally means actually: when you say something '
              "literally happened, you describe it as it actually happened.</blockquote>")
    html = _page(f"<article>{_paras(3)}{repeated}{_paras(2, label='After')}{unique}</article>")
    body = extract_article(html, URL)["body"]
    assert "Literally means actually" in body and body.count("The council voted") == 5


def test_deck_leads_the_body_when_another_candidate_wins_without_it(monkeypatch) -> None:
    """The description shown as a deck above the text leads the DOM body; when the chooser takes
    another candidate (here forced: trafilatura's), the deck it misses still leads the body."""
    import crawler.extraction.article as article

    deck = "Tax cuts and higher interest rates could make it harder to respond to future recessions."
    ld = {"@type": "NewsArticle", "headline": "Council passes budget", "description": deck}
    html = _page(f"<p>{deck}</p><article>{_paras(6)}</article>", ld)
    monkeypatch.setattr(article, "choose", lambda dom, *a, **k: (dom[1:], 0.55))
    body = extract_article(html, URL)["body"]
    assert body.startswith("Tax cuts and higher interest rates") and "Paragraph 5." in body


def test_paragraph_the_page_repeats_among_its_paragraphs_is_kept_each_time() -> None:
    """A sentence or two written twice in the flow of the text (each a <p> beside other
    paragraphs: two sections that end alike) is the text as the reader sees it, kept twice; a
    third copy set off alone in a box of its own (a quote box) is a repeat, dropped."""
    refrain = "Ticket holders are asked to arrive early, as the doors close at eight sharp."
    html = _page(f"<article><h2>Friday</h2>{_paras(2, label='Friday')}<p>{refrain}</p>"
                 f"<h2>Saturday</h2>{_paras(2, label='Saturday')}<p>{refrain}</p>"
                 f"<blockquote><p>{refrain}</p></blockquote>{_paras(1, label='Last')}</article>")
    body = extract_article(html, URL)["body"]
    assert body.count("Ticket holders are asked") == 2 and "Last 0." in body


def test_text_clipped_to_nothing_for_screen_readers_is_not_body_text() -> None:
    """A visually hidden span (the inline style of an "sr-only" component: clipped to nothing)
    is read to screen readers only, like display:none it is no text a reader sees."""
    rect = ("border:0;clip:rect(0 0 0 0);height:1px;margin:-1px;overflow:hidden;padding:0;"
            "position:absolute;width:1px;white-space:nowrap")
    links = (f'<p>Shares rose, the <a href="/x">exchange said<span style="{rect}">, opens new tab'
             f'</span></a>, and the <a href="/y">index<span style="clip-path: inset(50%)">'
             f" (external link)</span></a> followed the market higher through the whole day.</p>")
    body = extract_article(_page(f"<article>{_paras(3)}{links}</article>"), URL)["body"]
    assert "Shares rose, the exchange said, and the index followed" in body
    assert "opens new tab" not in body and "external link" not in body


def test_single_line_break_continues_the_paragraph_two_end_it() -> None:
    """A single <br> breaks a line inside the paragraph (a verse's refrain is one of its lines,
    not a repeat to drop; a "___" rule line is no text); two in a row end the paragraph."""
    refrain = "We shall meet again when the rain is over and done"
    verse = (f"<p>{refrain},<br>and the light comes back to the valley floor;<br>{refrain},<br>"
             "and the river runs clear to the sea.<br>___<br>From a song sung at the funeral.</p>")
    two = ("<div>The first part of the statement was read out by the mayor herself.<br><br>"
           "The second part was read out later by her deputy, to applause.</div>")
    paragraphs = extract_article(_page(f"<article>{_paras(3)}{verse}{two}</article>"),
                                 URL)["paragraphs"]
    assert f"{refrain}, and the light comes back to the valley floor; {refrain}, and the river " \
           "runs clear to the sea. From a song sung at the funeral." in paragraphs
    assert paragraphs[-2:] == ["The first part of the statement was read out by the mayor herself.",
                               "The second part was read out later by her deputy, to applause."]


def test_key_points_list_of_sentences_beside_the_text_is_the_articles() -> None:
    """A list whose every item is a sentence, right above the container (the story's key
    points), is prose beside it and joins the body; a list of headlines there does not."""
    points = ("<ul><li>The council approved the budget by nine votes to four on Tuesday.</li>"
              "<li>Transport spending rises by a tenth, the first rise in six years.</li></ul>")
    heads = ('<ul><li><a href="/a">Mayor opens the new bridge</a></li>'
             '<li><a href="/b">Schools close early for the holiday</a></li></ul>')
    for above, kept in ((points, True), (heads, False)):
        html = _page(f'<main><div class="summary">{above}</div><div class="story">{_paras(6)}'
                     "</div></main>")
        body = extract_article(html, URL)["body"]
        assert ("nine votes to four" in body) is kept and "new bridge" not in body
        assert "Paragraph 5." in body


def test_article_footer_is_furniture_unless_it_holds_a_paragraph_of_prose() -> None:
    """The <footer> inside the article holds the author's bio and the tags: dropped. One that
    holds a paragraph of prose (a closing note of the story) is kept."""
    bio = ('<footer><div>Jane Roe has covered city hall for the paper since 2015 and lives in '
           'the old town.</div><div><a href="/t/budget">Budget</a> <a href="/t/city">City</a>'
           "</div></footer>")
    note = (f"<footer><p>{PROSE.replace('The council', 'An earlier version said the council')} "
            "It was corrected on Wednesday.</p></footer>")
    body = extract_article(_page(f"<article>{_paras(4)}{bio}</article>"), URL)["body"]
    assert "Paragraph 3." in body and "covered city hall" not in body
    body = extract_article(_page(f"<article>{_paras(4)}{note}</article>"), URL)["body"]
    assert "It was corrected on Wednesday." in body


def test_slash_between_two_words_of_a_sentence_is_no_credit_line() -> None:
    """"Jane Doe/AFP" alone is a photo credit; a short line whose slash joins two words of its
    own ("country/region", "1/2 teaspoon", "GB/s") is text: a list item, an ingredient."""
    from crawler.extraction.body import filter_paragraphs

    lines = ["Jane Doe/AFP", "Photo Agency / John Smith", "1/2 teaspoon ground cumin",
             "Represent Mozilla in their country/region", "2.3 GB/s"]
    assert filter_paragraphs(lines) == lines[2:]
