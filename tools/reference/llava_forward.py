#!/usr/bin/env python3
"""LLaVA forward written from HuggingFace transformers' modeling code, not from mllm-ts.

Reads an HF LlavaForConditionalGeneration folder (config.json + model.safetensors, or shards
named by model.safetensors.index.json) by HF parameter names and config keys only, and prints
the logits transformers' `model(input_ids=..., pixel_values=...)` returns. It is the yardstick
`mllm export --format hf` is tested against; transformers and safetensors are not needed
(Debian's python3-torch and python3-numpy are), so the weights are parsed here.

Followed, piece by piece:
- modeling_llava.py: LlavaModel.get_image_features (hidden_states[vision_feature_layer], the
  CLS crop for "default"), LlavaMultiModalProjector (linear_1, ACT2FN[projector_hidden_act],
  linear_2), masked_scatter of the image features at image_token_index, then lm_head.
- modeling_clip.py: CLIPVisionEmbeddings (bias-free Conv2d patches, class_embedding, learned
  position_embedding), pre_layrnorm, CLIPEncoderLayer (pre-LN attention + MLP, fc1/act/fc2).
- modeling_siglip.py: SiglipVisionEmbeddings (Conv2d with bias, no CLS), SiglipEncoderLayer.
- modeling_llama.py: LlamaRMSNorm (float32 variance), rotate_half RoPE with
  inv_freq = 1 / theta^(2i/d), grouped-query attention (repeat_kv), causal mask, SwiGLU MLP.
- activations.py: gelu (erf), gelu_pytorch_tanh / gelu_new (tanh), quick_gelu (x sigmoid(1.702 x)).

Checkpoint layouts: the layout most hub LLaVA checkpoints use (vision_tower.*,
multi_modal_projector.*, language_model.model.*, language_model.lm_head.*) and the one
transformers >= 4.52 saves (model.vision_tower.*, model.multi_modal_projector.*,
model.language_model.*, lm_head.*) are both read, as transformers' _checkpoint_conversion_mapping does.

Usage: llava_forward.py MODEL_DIR INPUT.json [--output OUT.json] [--dtype float32|float64]
INPUT.json: {"input_ids": [[...]], "pixel_values": [[C][H][W], ...] (normalised, one per image,
in the order their image tokens appear), "attention_mask": [[...]] (optional)}.
Writes {"logits": [batch][seq][vocab]} to OUT.json, or to stdout.
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np
import torch

# --- safetensors, parsed by hand: u64 header length, JSON header, raw little-endian data ---

NUMPY_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    body = memoryview(data)[8 + n :]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = body[start:end]
        if entry["dtype"] == "BF16":
            # bfloat16 is the top half of a float32
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=np.dtype(NUMPY_DTYPES[entry["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(arr.astype(np.float64).reshape(entry["shape"]))
    return out


def read_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
    else:
        shards = ["model.safetensors"]
    tensors = {}
    for shard in shards:
        tensors.update(read_safetensors(os.path.join(folder, shard)))
    return tensors


# LlavaForConditionalGeneration._checkpoint_conversion_mapping, read the other way round: one
# layout for the code below whichever layout the folder holds
NEW_TO_OLD = [
    (r"^model\.language_model\.", "language_model.model."),
    (r"^model\.vision_tower\.", "vision_tower."),
    (r"^model\.multi_modal_projector\.", "multi_modal_projector."),
    (r"^lm_head\.", "language_model.lm_head."),
]


def old_layout(tensors):
    out = {}
    for name, t in tensors.items():
        for pattern, repl in NEW_TO_OLD:
            name = re.sub(pattern, repl, name)
        out[name] = t
    return out


# --- activations.py (ACT2FN) ---


def activation(name):
    if name == "gelu":
        return lambda x: torch.nn.functional.gelu(x)
    if name in ("gelu_pytorch_tanh", "gelu_new", "gelu_fast"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    if name in ("silu", "swish"):
        return torch.nn.functional.silu
    if name == "relu":
        return torch.relu
    raise SystemExit(f"activation {name!r} is not in this reference")


class Weights:
    def __init__(self, tensors, dtype):
        self.tensors = tensors
        self.dtype = dtype
        self.used = set()

    def __call__(self, name):
        if name not in self.tensors:
            raise SystemExit(f"missing tensor {name}")
        self.used.add(name)
        return self.tensors[name].to(self.dtype)


def linear(w, prefix, x, bias=True):
    y = x @ w(prefix + ".weight").T
    return y + w(prefix + ".bias") if bias else y


def layer_norm(w, prefix, x, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w(prefix + ".weight"), w(prefix + ".bias"), eps)


# --- modeling_clip.py / modeling_siglip.py: the vision tower, every hidden state ---


def vision_hidden_states(w, cfg, pixel_values):
    siglip = cfg["model_type"] == "siglip_vision_model"
    p = "vision_tower.vision_model."
    d = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    eps = cfg.get("layer_norm_eps", 1e-6 if siglip else 1e-5)
    act = activation(cfg.get("hidden_act", "gelu_pytorch_tanh" if siglip else "quick_gelu"))
    patch = cfg["patch_size"]
    conv_bias = w(p + "embeddings.patch_embedding.bias") if siglip else None
    x = torch.nn.functional.conv2d(pixel_values, w(p + "embeddings.patch_embedding.weight"), conv_bias, stride=patch)
    x = x.flatten(2).transpose(1, 2)  # [B, N, D]
    if not siglip:
        cls = w(p + "embeddings.class_embedding").expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
    x = x + w(p + "embeddings.position_embedding.weight")[None]
    if not siglip:
        x = layer_norm(w, p + "pre_layrnorm", x, eps)
    states = [x]
    dh = d // heads
    for i in range(cfg["num_hidden_layers"]):
        at = f"{p}encoder.layers.{i}."
        h = layer_norm(w, at + "layer_norm1", x, eps)
        b, t, _ = h.shape
        q = linear(w, at + "self_attn.q_proj", h).view(b, t, heads, dh).transpose(1, 2)
        k = linear(w, at + "self_attn.k_proj", h).view(b, t, heads, dh).transpose(1, 2)
        v = linear(w, at + "self_attn.v_proj", h).view(b, t, heads, dh).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) * dh**-0.5
        attn = torch.softmax(scores, dim=-1) @ v
        x = x + linear(w, at + "self_attn.out_proj", attn.transpose(1, 2).reshape(b, t, d))
        h = layer_norm(w, at + "layer_norm2", x, eps)
        x = x + linear(w, at + "mlp.fc2", act(linear(w, at + "mlp.fc1", h)))
        states.append(x)
    # post_layernorm (and SigLIP's head) make last_hidden_state / pooler_output, which LLaVA never
    # reads: it takes hidden_states[vision_feature_layer]; the tensors are there all the same
    for name in [n for n in w.tensors if n.startswith(p + "post_layernorm") or n.startswith(p + "head.")]:
        w.used.add(name)
    return states


# --- modeling_llama.py ---


def rms_norm(w, name, x, eps):
    variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True) if x.dtype != torch.float64 else x.pow(2).mean(-1, keepdim=True)
    return w(name) * (x * torch.rsqrt(variance.to(x.dtype) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def llama_logits(w, cfg, embeds, attention_mask):
    p = "language_model.model."
    d = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads") or heads
    dh = cfg.get("head_dim") or d // heads
    eps = cfg.get("rms_norm_eps", 1e-6)
    theta = cfg.get("rope_theta", 10000.0)
    if cfg.get("rope_scaling") not in (None, {}) or cfg.get("attention_bias") or cfg.get("mlp_bias"):
        raise SystemExit("rope_scaling, attention_bias and mlp_bias are not in this reference")
    act = activation(cfg.get("hidden_act", "silu"))
    b, t, _ = embeds.shape
    # LlamaRotaryEmbedding: inv_freq in float32 from int64 arange, as transformers computes it
    inv_freq = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.int64).float() / dh))
    positions = torch.arange(t, dtype=torch.float32)
    freqs = positions[:, None] * inv_freq[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos().to(embeds.dtype), emb.sin().to(embeds.dtype)
    # causal mask, plus padding keys from attention_mask (transformers' _update_causal_mask)
    allowed = torch.ones(t, t, dtype=torch.bool).tril()[None, None]
    if attention_mask is not None:
        allowed = allowed & attention_mask.bool()[:, None, None, :]
    mask = torch.zeros(allowed.shape, dtype=embeds.dtype).masked_fill(~allowed, torch.finfo(embeds.dtype).min)
    x = embeds
    for i in range(cfg["num_hidden_layers"]):
        at = f"{p}layers.{i}."
        h = rms_norm(w, at + "input_layernorm.weight", x, eps)
        q = linear(w, at + "self_attn.q_proj", h, bias=False).view(b, t, heads, dh).transpose(1, 2)
        k = linear(w, at + "self_attn.k_proj", h, bias=False).view(b, t, kv, dh).transpose(1, 2)
        v = linear(w, at + "self_attn.v_proj", h, bias=False).view(b, t, kv, dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(heads // kv, dim=1)  # repeat_kv
        v = v.repeat_interleave(heads // kv, dim=1)
        scores = (q @ k.transpose(-1, -2)) * dh**-0.5 + mask
        attn = torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v
        x = x + linear(w, at + "self_attn.o_proj", attn.transpose(1, 2).reshape(b, t, heads * dh), bias=False)
        h = rms_norm(w, at + "post_attention_layernorm.weight", x, eps)
        gate = act(linear(w, at + "mlp.gate_proj", h, bias=False))
        x = x + linear(w, at + "mlp.down_proj", gate * linear(w, at + "mlp.up_proj", h, bias=False), bias=False)
    x = rms_norm(w, p + "norm.weight", x, eps)
    # PreTrainedModel.tie_weights: tied (LlamaConfig defaults to untied), lm_head is embed_tokens
    # whatever the file holds under lm_head; untied, lm_head must be saved
    tied = cfg.get("tie_word_embeddings", False)
    head = w(p + "embed_tokens.weight") if tied else w("language_model.lm_head.weight")
    return x @ head.T


# --- modeling_llava.py ---


def llava_logits(folder, inputs, dtype):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "llava":
        raise SystemExit(f"config.json model_type is {cfg.get('model_type')!r}, not 'llava'")
    vision_cfg, text_cfg = cfg["vision_config"], cfg["text_config"]
    if vision_cfg.get("model_type") not in ("clip_vision_model", "siglip_vision_model"):
        raise SystemExit(f"vision_config.model_type {vision_cfg.get('model_type')!r} is not in this reference")
    if text_cfg.get("model_type", "llama") != "llama":
        raise SystemExit(f"text_config.model_type {text_cfg.get('model_type')!r} is not in this reference")
    w = Weights(old_layout(read_weights(folder)), dtype)
    # LlavaConfig: image_token_index, renamed image_token_id in newer versions
    image_token = cfg.get("image_token_index", cfg.get("image_token_id", 32000))
    layer = cfg.get("vision_feature_layer", -2)
    strategy = cfg.get("vision_feature_select_strategy", "default")
    projector_bias = cfg.get("multimodal_projector_bias", True)

    input_ids = torch.tensor(inputs["input_ids"], dtype=torch.long)
    embeds = w("language_model.model.embed_tokens.weight")[input_ids]  # [B, T, D]
    if inputs.get("pixel_values"):
        pixels = torch.tensor(inputs["pixel_values"], dtype=torch.float64).to(dtype)
        states = vision_hidden_states(w, vision_cfg, pixels)
        selected = states[layer]
        if strategy == "default":
            selected = selected[:, 1:]
        elif strategy != "full":
            raise SystemExit(f"vision_feature_select_strategy {strategy!r}")
        act = activation(cfg.get("projector_hidden_act", "gelu"))
        features = linear(w, "multi_modal_projector.linear_2", act(linear(w, "multi_modal_projector.linear_1", selected, projector_bias)), projector_bias)
        mask = (input_ids == image_token).unsqueeze(-1).expand_as(embeds)
        if int(mask.sum()) != features.numel():
            raise SystemExit(f"Image features and image tokens do not match: tokens {int((input_ids == image_token).sum())}, features {features.shape[0] * features.shape[1]}")
        embeds = embeds.masked_scatter(mask, features)
    attention_mask = torch.tensor(inputs["attention_mask"]) if inputs.get("attention_mask") else None
    logits = llama_logits(w, text_cfg, embeds, attention_mask)
    unused = sorted(set(w.tensors) - w.used)
    if unused:
        # transformers would report them as unexpected keys: the folder is not what config.json says
        raise SystemExit(f"tensors not part of the model: {unused[:8]}")
    return logits


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("input")
    parser.add_argument("--output")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    with open(args.input) as f:
        inputs = json.load(f)
    torch.set_num_threads(1)
    with torch.no_grad():
        logits = llava_logits(args.model, inputs, getattr(torch, args.dtype))
    text = json.dumps({"logits": logits.double().tolist()})
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
