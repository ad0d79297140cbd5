"""``from_pretrained`` on checkpoint folders built from the bundles' weights, and the
``m2bert-mlx embed`` / ``search`` / ``info`` commands on them."""

from __future__ import annotations

import json

import mlx.core as mx
import numpy as np
import pytest
from click.testing import CliRunner
from m2bert_folders import write_model_folder
from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.cli import main
from m2bert_mlx.models import NotAnM2BertModel, from_pretrained, load_embedding_model
from m2bert_mlx.retrieval import embed_token_ids
from m2bert_mlx.tokenizer import M2BertTokenizer
from mlx.utils import tree_flatten

TEXTS = ["the monarch mixer", "long context retrieval 東京", "café naïve 😀"]


@pytest.fixture(scope="module")
def bundle(tiny_dir) -> ReferenceBundle:
    return ReferenceBundle.open(tiny_dir)


@pytest.fixture(scope="module")
def folder(tiny_dir, tmp_path_factory):
    """float32 safetensors with the composer ``model.`` prefix."""
    return write_model_folder(
        tiny_dir, tmp_path_factory.mktemp("m2") / "tiny", composer_prefix=True
    )


def _weights(model) -> dict[str, mx.array]:
    return dict(tree_flatten(model.parameters()))


def _assert_weights(model, state: dict[str, mx.array]) -> None:
    weights = _weights(model)
    for name, value in state.items():
        if name in weights:
            assert mx.array_equal(weights[name], value).item(), name


def test_from_pretrained_reads_composer_prefixed_safetensors(folder, bundle):
    model = from_pretrained(folder, "sequence_classification")
    _assert_weights(model, bundle.state_dict("sequence_classification"))


def _bf16_rounded(state):
    return {
        n: v.astype(mx.bfloat16).astype(mx.float32) if v.dtype == mx.float32 else v
        for n, v in state.items()
    }


def test_from_pretrained_reads_bfloat16_safetensors(tiny_dir, tmp_path, bundle):
    path = write_model_folder(tiny_dir, tmp_path / "bf16", dtype=mx.bfloat16)
    model = from_pretrained(path, "sequence_classification")
    assert all(v.dtype != mx.bfloat16 for v in _weights(model).values())
    _assert_weights(model, _bf16_rounded(bundle.state_dict("sequence_classification")))


def test_from_pretrained_reads_bfloat16_pytorch_model_bin(tiny_dir, tmp_path, bundle):
    pytest.importorskip("torch")
    path = write_model_folder(
        tiny_dir,
        tmp_path / "bin",
        dtype=mx.bfloat16,
        composer_prefix=True,
        torch_bin=True,
    )
    model = from_pretrained(path, "sequence_classification")
    _assert_weights(model, _bf16_rounded(bundle.state_dict("sequence_classification")))


def test_folder_model_reproduces_the_bundle_pooled_output(folder, bundle):
    model = load_embedding_model(folder)
    inputs = bundle.inputs()
    out = model(inputs["input_ids"], inputs["token_type_ids"], inputs["attention_mask"])
    pooled = np.asarray(out.sentence_embedding, dtype=np.float64)
    truth = np.asarray(bundle.outputs_f64()["pooled_output"], dtype=np.float64)
    original = np.asarray(bundle.outputs()["pooled_output"], dtype=np.float64)
    assert np.abs(pooled - truth).max() <= np.abs(original - truth).max()


def test_not_an_m2bert_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(NotAnM2BertModel, match="not an M2-BERT config"):
        from_pretrained(tmp_path)


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def expected_vectors(folder, texts: list[str]) -> np.ndarray:
    model = load_embedding_model(folder)
    tokenizer = M2BertTokenizer.from_path(folder, model.config.max_position_embeddings)
    return np.asarray(embed_token_ids(model, tokenizer.encode(texts).ids))


def test_embed_prints_json_lines(folder):
    result = run("embed", folder, *TEXTS)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == TEXTS
    vectors = np.array([r["embedding"] for r in rows], dtype=np.float32)
    np.testing.assert_array_equal(vectors, expected_vectors(folder, TEXTS))


def test_embed_file_to_npy_with_batches_and_truncation_warning(folder, tmp_path):
    long_text = "the model " * 100  # > 64 tokens
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": t}) for t in TEXTS] + [json.dumps(long_text)]
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "vecs.npy"
    result = run(
        "embed", folder, "--input", source, "--output", out, "--batch-size", "2"
    )
    assert result.exit_code == 0, result.output
    assert "1 of 4 texts were longer than the model length (64 tokens)" in result.stderr
    vectors = np.load(out)
    assert vectors.shape == (4, 128) and vectors.dtype == np.float32
    np.testing.assert_array_equal(
        vectors, expected_vectors(folder, [*TEXTS, long_text])
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["embed", "{folder}", ""], "empty text"),
        (["embed", "{folder}"], "no texts"),
        (["embed", "{tmp}/nowhere", "hi"], "is not a folder"),
        (["embed", "{tmp}", "hi"], "no config.json"),
        (["embed", "{notm2}", "hi"], "not an M2-BERT config"),
        (["embed", "{folder}", "hi", "--tokenizer", "{tmp}"], "looked for"),
        (
            ["embed", "{folder}", "hi", "--output", "{tmp}/v.csv"],
            "must be .npy or .jsonl",
        ),
        (
            ["embed", "{folder}", "--input", "{tmp}/blank.txt"],
            "blank.txt:2: empty text",
        ),
        (
            ["search", "{folder}", "--corpus", "{tmp}/none.txt", "--query", "q"],
            "cannot read",
        ),
        (["info", "{notm2}"], "not an M2-BERT config"),
    ],
)
def test_bad_input_exits_2_with_a_message(folder, tmp_path, args, message):
    notm2 = tmp_path / "bert"
    notm2.mkdir()
    (notm2 / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "blank.txt").write_text("one\n\nthree\n")
    values = {"folder": folder, "tmp": tmp_path, "notm2": notm2}
    result = run(*[a.format(**values) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_search_ranks_by_cosine_and_caches_corpus_vectors(folder, tmp_path):
    corpus = tmp_path / "docs.txt"
    documents = [*TEXTS, "hyena filter order", "data-driven U.S.A."]
    corpus.write_text("\n".join(documents) + "\n")
    args = (
        "search",
        folder,
        "--corpus",
        corpus,
        "--query",
        TEXTS[1],
        "-k",
        "3",
        "--json",
    )
    first = run(*args)
    assert first.exit_code == 0, first.output
    hits = json.loads(first.stdout)["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert hits[0]["text"] == TEXTS[1] and hits[0]["score"] == pytest.approx(
        1.0, abs=1e-6
    )
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    vectors = expected_vectors(folder, documents)
    query = vectors[1] / np.linalg.norm(vectors[1])
    cosines = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ query
    assert [h["index"] for h in hits] == list(np.argsort(-cosines)[:3])
    caches = list(tmp_path.glob("docs.txt.m2bert-*.npy"))
    assert len(caches) == 1
    np.testing.assert_array_equal(np.load(caches[0]), vectors)
    second = run(*args[:-1])
    assert second.exit_code == 0 and "from cache" in second.stderr
    corpus.write_text("\n".join(documents[:4]) + "\n")  # new content: a new cache entry
    assert run(*args).exit_code == 0
    assert len(list(tmp_path.glob("docs.txt.m2bert-*.npy"))) == 2


def test_info_reports_blas_and_model(folder):
    result = run("info", folder, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["blas"] in ("mkl", "bundled")
    assert report["matmul_1024_gflops"] > 0
    assert report["model"]["max_position_embeddings"] == 64


def test_config_without_use_cls_token_is_noted(tiny_dir, tmp_path):
    path = write_model_folder(tiny_dir, tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    del config["use_cls_token"]
    (path / "config.json").write_text(json.dumps(config))
    result = run("embed", path, "hello")
    assert result.exit_code == 0, result.output
    assert (
        "does not set use_cls_token: the embedding is the pooled output"
        in result.stderr
    )
    explicit = run("embed", write_model_folder(tiny_dir, tmp_path / "e"), "hello")
    assert explicit.exit_code == 0 and "use_cls_token" not in explicit.stderr


def test_unwritable_output_exits_2(folder, tmp_path):
    result = run("embed", folder, "hi", "--output", tmp_path / "missing" / "v.npy")
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
