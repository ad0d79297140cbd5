"""MLX port of M2-BERT (Monarch Mixer BERT, HazyResearch ``m2``, ``bert/src/bert_layers.py``)."""

# MKL (the fast-cpu extra) must be loaded before anything imports mlx.
from m2bert_mlx.fast_cpu import load_mkl

load_mkl()

from m2bert_mlx.bundle import ReferenceBundle
from m2bert_mlx.checkpoint import CheckpointError, load_state_dict, read_checkpoint
from m2bert_mlx.config import M2BertConfig
from m2bert_mlx.heads import BertForMaskedLM, BertForSequenceClassification, ModelOutput
from m2bert_mlx.models import build_model, from_pretrained, model_from_state

__all__ = [
    "BertForMaskedLM",
    "BertForSequenceClassification",
    "CheckpointError",
    "M2BertConfig",
    "ModelOutput",
    "ReferenceBundle",
    "build_model",
    "from_pretrained",
    "load_state_dict",
    "model_from_state",
    "read_checkpoint",
]
