#!/usr/bin/env python3
"""One LLaVA training step in PyTorch, the yardstick for tools/bench-vs-torch.mjs.

Written from the semantics of HF transformers' LlamaForCausalLM and LlavaForConditionalGeneration
(not from this project's code): RMSNorm in float32, rotate-half RoPE, grouped-query attention
(repeat_kv), SwiGLU, a 2-layer GELU projector whose outputs replace the `<image>` placeholder
embeddings (masked_scatter), logits for every position and cross-entropy over the trained ones.
The frozen vision tower's features are an input (a feature cache); nothing of it is trained.

The step is AdamW (decoupled decay on matrices only, as the project decays), global-norm
clipping, fp32. Reads a folder written by the node driver:
  manifest.json  shapes, optimizer, tensor table {name, shape, offset} into weights.f32,
                 batch (input ids, targets, weights as lists; image token id)
  weights.f32    the model's parameters, float32 little-endian, concatenated
  features.f32   tower features [images, tokens, width]
Prints one JSON object: the loss at step 0 and after one update, and step times per thread count.
"""
import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_tables(seq, head_dim, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    positions = torch.arange(seq, dtype=torch.float32)
    freqs = torch.outer(positions, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, T, dh]


class Attention(nn.Module):
    def __init__(self, dim, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.q_proj = nn.Linear(dim, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, dim, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        if groups > 1:  # HF repeat_kv
            k = k[:, :, None].expand(b, self.kv_heads, groups, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
            v = v[:, :, None].expand(b, self.kv_heads, groups, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c["dim"], c["heads"], c["kvHeads"])
        self.mlp = MLP(c["dim"], c["mlpHidden"])
        self.input_layernorm = RMSNorm(c["dim"], c["normEps"])
        self.post_attention_layernorm = RMSNorm(c["dim"], c["normEps"])

    def forward(self, h, cos, sin, mask):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab"], c["dim"])
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["dim"], c["normEps"])


class CausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = Llama(c)
        self.tied = c["tied"]
        if not self.tied:
            self.lm_head = nn.Linear(c["dim"], c["vocab"], bias=False)
        self.theta = c["ropeTheta"]
        self.head_dim = c["dim"] // c["heads"]

    def forward(self, embeds):
        t = embeds.shape[1]
        cos, sin = rope_tables(t, self.head_dim, self.theta)
        mask = torch.full((t, t), torch.finfo(torch.float32).min).triu(1)[None, None]
        h = embeds
        for layer in self.model.layers:
            h = layer(h, cos, sin, mask)
        h = self.model.norm(h)
        weight = self.model.embed_tokens.weight if self.tied else self.lm_head.weight
        return F.linear(h, weight)


class Projector(nn.Module):
    """HF LlavaMultiModalProjector: linear_1, GELU (erf), linear_2."""

    def __init__(self, feat_dim, dim):
        super().__init__()
        self.linear_1 = nn.Linear(feat_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.gelu(self.linear_1(x)))


class Llava(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.multi_modal_projector = Projector(c["featDim"], c["dim"])
        self.language_model = CausalLM(c)

    def loss(self, ids, targets, weights, features, image_token_id):
        embeds = self.language_model.model.embed_tokens(ids)
        image_mask = (ids == image_token_id).unsqueeze(-1).expand_as(embeds)
        visual = self.multi_modal_projector(features).reshape(-1, embeds.shape[-1])
        embeds = embeds.masked_scatter(image_mask, visual)
        logits = self.language_model(embeds)
        v = logits.shape[-1]
        per_token = F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1), reduction="none")
        w = weights.reshape(-1)
        return (per_token * w).sum() / w.sum().clamp(min=1)


def load(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    raw = np.fromfile(os.path.join(folder, "weights.f32"), dtype="<f4")
    state = {t["name"]: torch.from_numpy(raw[t["offset"] : t["offset"] + int(np.prod(t["shape"]))].reshape(t["shape"]).copy()) for t in manifest["tensors"]}
    b = manifest["batch"]
    feats = np.fromfile(os.path.join(folder, "features.f32"), dtype="<f4").reshape(b["featureShape"])
    batch = (
        torch.tensor(b["inputIds"], dtype=torch.int64),
        torch.tensor(b["targets"], dtype=torch.int64),
        torch.tensor(b["weights"], dtype=torch.float32),
        torch.from_numpy(feats.copy()),
        b["imageTokenId"],
    )
    return manifest, state, batch


def build(manifest, state):
    model = Llava(manifest["model"])
    mine = model.state_dict()
    missing = [k for k in mine if k not in state]
    extra = [k for k in state if k not in mine]
    if missing or extra:
        raise SystemExit(f"weights do not match the model: missing {missing[:5]}, unexpected {extra[:5]}")
    model.load_state_dict(state)
    trains = manifest["trains"]
    for name, p in model.named_parameters():
        p.requires_grad = any(name.startswith(prefix) for prefix in trains)
    return model


def optimizer_for(model, o):
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for _, p in params if p.dim() >= 2], "weight_decay": o["weightDecay"]},
        {"params": [p for _, p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])


def step(model, opt, batch, clip):
    opt.zero_grad(set_to_none=True)
    loss = model.loss(*batch)
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], clip)
    opt.step()
    return loss.item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    manifest, state, batch = load(args.folder)
    o = manifest["optim"]
    torch.set_num_threads(1)
    # the parity check: the loss of the exported weights, and after one update on the same batch
    model = build(manifest, state)
    opt = optimizer_for(model, o)
    losses = [step(model, opt, batch, o["clipNorm"])]
    with torch.no_grad():
        losses.append(model.loss(*batch).item())
    result = {"torch": torch.__version__, "losses": losses, "threads": {}}
    for threads in [int(x) for x in args.threads.split(",")]:
        torch.set_num_threads(threads)
        times = []
        cpu = []
        for i in range(args.warmup + args.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            step(model, opt, batch, o["clipNorm"])
            if i >= args.warmup:
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)  # all threads: what a quiet machine's cores would spend
        result["threads"][str(threads)] = {"medianMs": statistics.median(times), "ms": times, "cpuMs": statistics.median(cpu)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
