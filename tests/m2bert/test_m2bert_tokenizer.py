"""Token ids of ``M2BertTokenizer`` against transformers' ``BertTokenizerFast`` on the same vocabulary.

The vocabulary is a WordPiece vocabulary trained here with ``tokenizers`` on generated text, so
no hub download is needed. The strings are generated too: unicode from many scripts, accents
(composed and decomposed), CJK, emoji (with modifiers and ZWJ sequences), control and zero-width
characters, odd whitespace, punctuation runs, very long words and very long texts.
"""

from __future__ import annotations

import random
import unicodedata

import pytest
from m2bert_folders import write_vocab
from m2bert_mlx.tokenizer import M2BertTokenizer, TokenizerNotFound

transformers = pytest.importorskip("transformers")

MAX_LENGTH = 128
RANGES = [
    (0x20, 0x7E),  # ASCII
    (0xC0, 0x17F),  # Latin-1 and Latin Extended-A (accented letters)
    (0x300, 0x36F),  # combining diacritics
    (0x370, 0x3FF),  # Greek
    (0x400, 0x4FF),  # Cyrillic
    (0x600, 0x6FF),  # Arabic
    (0x900, 0x97F),  # Devanagari
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x4E00, 0x4FFF),  # CJK ideographs
    (0xAC00, 0xAD00),  # Hangul
    (0x1F300, 0x1F64F),  # emoji
    (0x1F3FB, 0x1F3FF),  # skin-tone modifiers
    (0x2000, 0x206F),  # general punctuation, zero-width and odd spaces
    (0xFB00, 0xFB06),  # ligatures
    (0x0, 0x1F),  # control characters
]
SNIPPETS = [
    "Café",
    "cafe\u0301",
    "NAÏVE",
    "Ångström",
    "ﬁnancial",
    "İstanbul",
    "straße",
    "東京タワー",
    "北京大学",
    "😀👍🏽",
    "👨‍👩‍👧",
    "🇫🇷",
    "don't",
    "U.S.A.",
    "e-mail@example.com",
    "x² + y²",
    "\u200b\u200d",
    "\ufeff",
    "tab\tand\nnewline",
    "  many   spaces  ",
    "...!!!???",
    "ǅemal",
]


def random_text(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return " ".join(rng.choice(SNIPPETS) for _ in range(rng.randint(1, 12)))
    if kind < 0.45:  # very long text (far beyond the model length)
        return " ".join(rng.choice(SNIPPETS) for _ in range(rng.randint(300, 1500)))
    if kind < 0.55:  # one very long "word"
        return "".join(rng.choice("abcdéfg") for _ in range(rng.randint(90, 400)))
    chars = []
    for _ in range(rng.randint(1, 200)):
        low, high = rng.choice(RANGES)
        chars.append(chr(rng.randint(low, high)))
        if rng.random() < 0.2:
            chars.append(" ")
    text = "".join(chars)
    return (
        unicodedata.normalize(rng.choice(["NFC", "NFD", "NFKC"]), text)
        if rng.random() < 0.3
        else text
    )


@pytest.fixture(scope="module")
def vocab_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vocab")
    write_vocab(folder, 1000)
    return folder


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rng = random.Random(15)
    generated = [random_text(rng) for _ in range(400)]
    return [t for t in generated if t.strip()]


def hf_ids(folder, texts: list[str]) -> list[list[int]]:
    tokenizer = transformers.BertTokenizerFast.from_pretrained(str(folder))
    return tokenizer(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]


def test_ids_match_bert_tokenizer_fast_on_every_string(vocab_dir, texts):
    assert len(texts) >= 300
    ours = M2BertTokenizer.from_path(vocab_dir, MAX_LENGTH).encode(texts).ids
    theirs = hf_ids(vocab_dir, texts)
    mismatches = [t for t, a, b in zip(texts, ours, theirs) if a != b]
    assert not mismatches, mismatches[:3]
    # The strings exercise what they claim to: truncation, unknown pieces, accent stripping.
    assert sum(len(ids) == MAX_LENGTH for ids in ours) >= 30
    assert any(1 in ids for ids in ours)  # [UNK]
    assert all(ids[0] == 2 and ids[-1] == 3 for ids in ours)  # [CLS] ... [SEP]


def test_tokenizer_json_gives_the_same_ids(vocab_dir, texts, tmp_path):
    from_vocab = M2BertTokenizer.from_path(vocab_dir, MAX_LENGTH)
    from_vocab.tokenizer.save(str(tmp_path / "tokenizer.json"))
    from_json = M2BertTokenizer.from_path(tmp_path / "tokenizer.json", MAX_LENGTH)
    assert from_json.encode(texts).ids == from_vocab.encode(texts).ids


def test_truncation_is_reported(vocab_dir):
    tokenizer = M2BertTokenizer.from_path(vocab_dir, 16)
    batch = tokenizer.encode(["short", "the model " * 40])
    assert batch.truncated == [False, True]
    assert len(batch.ids[1]) == 16 and batch.ids[1][-1] == 3


def test_empty_text_is_an_error(vocab_dir):
    with pytest.raises(ValueError, match="empty text \\(item 2\\)"):
        M2BertTokenizer.from_path(vocab_dir, 16).encode(["fine", "   "])


def test_missing_vocabulary_says_where_it_looked(tmp_path):
    with pytest.raises(TokenizerNotFound) as error:
        M2BertTokenizer.from_path(tmp_path, 16)
    assert str(tmp_path / "tokenizer.json") in str(error.value)
    assert str(tmp_path / "vocab.txt") in str(error.value)
    assert "--tokenizer" in str(error.value)
