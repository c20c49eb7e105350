"""Pages as they come off the wire: charsets in the header, in a <meta>, in neither, or wrong."""

from __future__ import annotations

import pytest

from crawler.extraction import extract_article

PARAGRAPHS = {
    "ja": ["東京都は月曜日、新しい防災計画を発表し、地震や洪水への備えを強化する方針を示した。",
           "計画には避難所の拡充と情報伝達の改善が含まれ、来年度から段階的に実施される予定だ。",
           "都の担当者は、住民一人ひとりが日頃から備えることが何より重要だと強調した。"],
    "zh": ["北京市政府星期一宣布了一项新的城市交通计划，旨在减少拥堵并改善空气质量。",
           "该计划包括扩建地铁网络、增加公交线路以及鼓励市民骑自行车出行等多项措施。",
           "市交通委员会负责人表示，相关措施将在今后三年内逐步落实，并接受公众监督。"],
    "uk": ["Уряд ухвалив програму відновлення енергетики, яка передбачає ремонт підстанцій до зими.",
           "Міністр енергетики заявив, що роботи вже тривають у кількох областях країни.",
           "Експерти вважають, що програма допоможе уникнути тривалих відключень світла."],
}
TITLES = {"ja": "東京都が新たな防災計画を発表", "zh": "北京发布新的城市交通计划",
          "uk": "Уряд схвалив програму відновлення енергетики"}


def page(lang: str, meta: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[lang])
    return (f'<!doctype html><html lang="{lang}"><head>{meta}<title>{TITLES[lang]} | News</title>'
            f'<meta property="og:type" content="article"></head><body><article><h1>{TITLES[lang]}</h1>'
            f'<div class="byline">By Jane Doe</div>{body}</article>'
            '<script>var hidden = "never in the text";</script><style>.x{color:red}</style>'
            '<!-- a comment never in the text --><div hidden>hidden text never in the text</div>'
            '</body></html>')


@pytest.mark.parametrize(
    ("lang", "codec", "meta", "header"),
    [
        ("ja", "shift_jis", '<meta charset="Shift_JIS">', None),  # charset only in <meta>
        ("ja", "shift_jis", "", "shift_jis"),  # only in the HTTP header
        ("zh", "gb18030", '<meta http-equiv="Content-Type" content="text/html; charset=GB18030">', None),
        ("zh", "gb18030", "", None),  # in neither: detected
        ("uk", "windows-1251", "", None),  # in neither: detected
        ("uk", "utf-8", '<meta charset="utf-8">', "iso-8859-1"),  # header wrong, meta right
    ],
)
def test_decoding(lang: str, codec: str, meta: str, header: str | None) -> None:
    raw = page(lang, meta).encode(codec)
    result = extract_article(raw, "https://news.example/story/", headers_encoding=header)
    assert result["title"] == TITLES[lang]
    assert result["paragraphs"] == PARAGRAPHS[lang]
    assert "never in the text" not in result["body"]
    assert result["language"] == lang
