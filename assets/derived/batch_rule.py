"""The global batch of a training run as it grows with the cluster: a tokens-per-chip rule capped
by the compute-optimal batch of the run, never below the model's published batch."""

from __future__ import annotations

import numpy as np

#: Llama 3 405B trained with a 16M-token batch on 16,384 H100 (The Llama 3 Herd of Models,
#: arXiv:2407.21783, Sec. 3.4.1 and 3.3.1): 16 x 2^20 / 16,384 = 1,024 tokens per chip.
TOKENS_PER_CHIP = 16 * 1024 * 1024 / 16_384
#: Optimal batch in tokens B = 0.2920 C^0.3271 for a compute budget C in FLOPs (DeepSeek LLM,
#: arXiv:2401.02954, Sec. 3.1); C taken as 6 N_active D.
CRITICAL_BATCH_COEFFICIENT = 0.2920
CRITICAL_BATCH_EXPONENT = 0.3271
BATCH_RULE = (
    "global batch = max(published batch, min(1,024 tokens per chip (Llama 3: 16M tokens on 16K "
    "H100), 0.2920 C^0.3271 tokens with C = 6 N_active D (DeepSeek LLM optimal batch))), in whole "
    "sequences"
)


def critical_batch_tokens(active_params_b, training_tokens):
    """Compute-optimal global batch (tokens) of a run of 6 N_active D FLOPs (DeepSeek LLM law)."""
    compute = 6.0 * np.asarray(active_params_b, dtype=float) * 1e9 * np.asarray(training_tokens)
    return CRITICAL_BATCH_COEFFICIENT * compute**CRITICAL_BATCH_EXPONENT


def grown_batch_tokens(chips, seq_len, published_batch_tokens, active_params_b, training_tokens):
    """Global batch (tokens) of a run on ``chips`` chips under ``BATCH_RULE``; works on scalars
    and arrays alike."""
    grown = TOKENS_PER_CHIP * np.asarray(chips, dtype=float)
    cap = critical_batch_tokens(active_params_b, training_tokens)
    batch = np.maximum(published_batch_tokens, np.minimum(grown, cap))
    seq = np.asarray(seq_len, dtype=float)
    return np.maximum(np.floor(batch / seq), 1.0) * seq
