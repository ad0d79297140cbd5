"""WordPiece tokenization with Hugging Face ``tokenizers`` (the bert-base-uncased rules).

M2-BERT uses the ``bert-base-uncased`` tokenizer: BERT normalisation (clean text, CJK characters
split, lower-casing, accent stripping), BERT pre-tokenisation, WordPiece with ``[UNK]``,
``[CLS] ... [SEP]`` around each text, truncation to the model length.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")


class TokenizerNotFound(FileNotFoundError):
    """No ``tokenizer.json`` / ``vocab.txt`` where one was expected; the message lists the paths."""


@dataclasses.dataclass
class Batch:
    """Token ids of a batch of texts, and which texts were truncated."""

    ids: list[list[int]]
    truncated: list[bool]


def _read_vocab(path: Path) -> dict[str, int]:
    tokens = path.read_text(encoding="utf-8").splitlines()
    return {token: index for index, token in enumerate(tokens)}


def wordpiece_from_vocab(path: str | Path, lowercase: bool = True) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` with BERT's pipeline over a ``vocab.txt`` (one token a line)."""
    vocab = _read_vocab(Path(path))
    missing = [token for token in SPECIAL_TOKENS if token not in vocab]
    if missing:
        raise ValueError(f"{path}: vocabulary lacks {', '.join(missing)}")
    tokenizer = Tokenizer(
        models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100)
    )
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True,
        handle_chinese_chars=True,
        strip_accents=None,
        lowercase=lowercase,
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    return tokenizer


def _lowercase_setting(folder: Path) -> bool:
    """``do_lower_case`` from ``tokenizer_config.json`` when present (default: uncased)."""
    config = folder / "tokenizer_config.json"
    if config.is_file():
        return bool(json.loads(config.read_text()).get("do_lower_case", True))
    return True


class M2BertTokenizer:
    """Text to padded-length-ready token ids; ``max_length`` is the model length."""

    def __init__(self, tokenizer: Tokenizer, max_length: int, source: Path):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.source = source
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length)
        pad = tokenizer.token_to_id("[PAD]")
        self.pad_id = 0 if pad is None else pad

    @classmethod
    def from_path(cls, path: str | Path, max_length: int) -> M2BertTokenizer:
        """From a ``tokenizer.json`` or ``vocab.txt`` file, or a folder holding one of them."""
        path = Path(path)
        if path.is_dir():
            for name in TOKENIZER_FILES:
                if (path / name).is_file():
                    return cls.from_path(path / name, max_length)
            looked = ", ".join(str(path / name) for name in TOKENIZER_FILES)
            raise TokenizerNotFound(
                f"no tokenizer found; looked for {looked} "
                "(give one with --tokenizer PATH: a vocab.txt or tokenizer.json)"
            )
        if not path.is_file():
            raise TokenizerNotFound(f"tokenizer file {path} does not exist")
        if path.suffix == ".json":
            tokenizer = Tokenizer.from_file(str(path))
        else:
            tokenizer = wordpiece_from_vocab(path, _lowercase_setting(path.parent))
        return cls(tokenizer, max_length, path)

    def encode(self, texts: Sequence[str]) -> Batch:
        """Ids with ``[CLS]``/``[SEP]``, truncated to ``max_length``; empty texts raise ``ValueError``."""
        empty = [i for i, text in enumerate(texts) if not text.strip()]
        if empty:
            shown = ", ".join(str(i + 1) for i in empty[:10])
            raise ValueError(f"empty text (item {shown}): nothing to embed")
        encodings = self.tokenizer.encode_batch(list(texts))
        return Batch(
            ids=[encoding.ids for encoding in encodings],
            truncated=[bool(encoding.overflowing) for encoding in encodings],
        )
