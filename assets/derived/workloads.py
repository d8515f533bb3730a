"""The model workloads the performance scenarios use, each value with its source."""

from __future__ import annotations

import pandas as pd

LLAMA2 = "Llama 2: Open Foundation and Fine-Tuned Chat Models (Touvron et al.), arXiv:2307.09288"
LLAMA3 = "The Llama 3 Herd of Models (Llama Team, Meta), arXiv:2407.21783"
DSV3 = "DeepSeek-V3 Technical Report (DeepSeek-AI), arXiv:2412.19437"
DSLLM = "DeepSeek LLM: Scaling Open-Source Language Models with Longtermism, arXiv:2401.02954"
DSMOE = "DeepSeekMoE: Towards Ultimate Expert Specialization (Dai et al.), arXiv:2401.06066"
DSV2 = "DeepSeek-V2: A Strong, Economical, and Efficient MoE Language Model, arXiv:2405.04434"

#: Training workloads: architecture, sequence length, global batch and training tokens as published.
TRAINING_MODELS = pd.DataFrame(
    [
        {
            "model_id": "llama2-7b",
            "params_b": 7.0,
            "active_params_b": 7.0,
            "layers": 32,
            "hidden": 4096,
            "heads": 32,
            "kv_heads": 32,
            "ffn_hidden": 11008,
            "gated_mlp": 1,
            "seq_len": 4096,
            "vocab": 32000,
            "experts": 1,
            "top_k": 1,
            "global_batch_tokens": 4 * 1024 * 1024,
            "training_tokens": 2.0e12,
            "model_source": f"{LLAMA2}: 4k context, 4M-token batch, 2.0T tokens; shape from the released "
            "config (32 key/value heads, SwiGLU MLP of 11,008)",
        },
        {
            "model_id": "llama2-70b",
            "params_b": 70.0,
            "active_params_b": 70.0,
            "layers": 80,
            "hidden": 8192,
            "heads": 64,
            "kv_heads": 8,
            "ffn_hidden": 28672,
            "gated_mlp": 1,
            "seq_len": 4096,
            "vocab": 32000,
            "experts": 1,
            "top_k": 1,
            "global_batch_tokens": 4 * 1024 * 1024,
            "training_tokens": 2.0e12,
            "model_source": f"{LLAMA2}: 4k context, 4M-token batch, 2.0T tokens; shape from the released "
            "config (grouped-query attention with 8 key/value heads, Table 1 'GQA'; SwiGLU MLP of "
            "28,672)",
        },
        {
            "model_id": "llama3-405b",
            "params_b": 405.0,
            "active_params_b": 405.0,
            "layers": 126,
            "hidden": 16384,
            "heads": 128,
            "kv_heads": 8,
            "ffn_hidden": 53248,
            "gated_mlp": 1,
            "seq_len": 8192,
            "vocab": 128000,
            "experts": 1,
            "top_k": 1,
            "global_batch_tokens": 16 * 1024 * 1024,
            "training_tokens": 15.6e12,
            "model_source": f"{LLAMA3}: Table 3 shape (8 key/value heads, FFN dimension 53,248, "
            "SwiGLU), 8K sequences, 16M-token batch, 15.6T tokens",
        },
        {
            "model_id": "deepseek-v3-671b",
            "params_b": 671.0,
            "active_params_b": 37.0,
            "layers": 61,
            "hidden": 7168,
            "heads": 128,
            "seq_len": 4096,
            "vocab": 129280,
            "experts": 256,
            "top_k": 8,
            "global_batch_tokens": 15360 * 4096,
            "training_tokens": 14.8e12,
            "model_source": f"{DSV3}: 671B total / 37B active, 256 routed experts top-8, batch 15,360 x 4K, "
            "14.8T tokens; attention and MLP shape left at the model's defaults (multi-head latent "
            "attention and fine-grained experts are not represented)",
        },
    ]
)

#: Serving workloads. kv_heads < heads is grouped-query attention.
SERVING_MODELS = pd.DataFrame(
    [
        {
            "model_id": "deepseek-llm-7b",
            "params_b": 7.0,
            "active_params_b": 7.0,
            "layers": 30,
            "hidden": 4096,
            "heads": 32,
            "kv_heads": 32,
            "experts": 1,
            "top_k": 1,
            "model_source": f"{DSLLM}, Table 2 (7B: 30 layers, d 4096, 32 heads)",
        },
        {
            "model_id": "deepseek-llm-67b",
            "params_b": 67.0,
            "active_params_b": 67.0,
            "layers": 95,
            "hidden": 8192,
            "heads": 64,
            "kv_heads": 8,
            "experts": 1,
            "top_k": 1,
            "model_source": f"{DSLLM}, Table 2 (67B is dense: 95 layers, d 8192, 64 heads, 8 KV heads)",
        },
        {
            "model_id": "moe-67b-deepseekmoe-ratio",
            "params_b": 67.0,
            "active_params_b": 67.0 * 2.8 / 16.4,
            "layers": 95,
            "hidden": 8192,
            "heads": 64,
            "kv_heads": 8,
            "experts": 64,
            "top_k": 6,
            "model_source": (
                f"Hypothetical 67B-total MoE on the DeepSeek LLM 67B shape; active share 2.8B/16.4B and "
                f"64 routed experts top-6 from DeepSeekMoE 16B ({DSMOE})"
            ),
        },
        {
            "model_id": "moe-67b-deepseek-v2-ratio",
            "params_b": 67.0,
            "active_params_b": 67.0 * 21.0 / 236.0,
            "layers": 95,
            "hidden": 8192,
            "heads": 64,
            "kv_heads": 8,
            "experts": 160,
            "top_k": 6,
            "model_source": (
                f"Hypothetical 67B-total MoE on the DeepSeek LLM 67B shape; active share 21B/236B and "
                f"160 routed experts top-6 from DeepSeek-V2 ({DSV2})"
            ),
        },
        {
            "model_id": "llama2-70b",
            "params_b": 70.0,
            "active_params_b": 70.0,
            "layers": 80,
            "hidden": 8192,
            "heads": 64,
            "kv_heads": 8,
            "experts": 1,
            "top_k": 1,
            "model_source": f"{LLAMA2}; shape from the released config (8 KV heads)",
        },
    ]
)
