"""Prefill and decode of a generation loop measured as separate windows (docs/python.md).

A tiny decoder-only transformer in pure numpy (random weights; single head, pre-norm,
a KV cache) stands in where no framework is installed: the prefill runs the whole prompt
at once, the decode generates one token per step against the cache. The two phases have
different energy per token, which is what the windows show; with PyTorch or vLLM the
windows go around the same two calls (docs/python.md has a vLLM script).

    PYTHONPATH=build/python /usr/bin/python3 examples/python/prefill_decode.py [PROMPT] [NEW] [D]
"""

import sys

import numpy as np

import jouleperf


class TinyDecoder:
    def __init__(self, vocab=1000, d=256, layers=4, seed=0):
        rng = np.random.default_rng(seed)
        scale = 1.0 / np.sqrt(d)
        self.embed = rng.standard_normal((vocab, d), dtype=np.float32) * scale
        self.layers = [{k: rng.standard_normal(shape, dtype=np.float32) * scale
                        for k, shape in (("wq", (d, d)), ("wk", (d, d)), ("wv", (d, d)), ("wo", (d, d)),
                                         ("w1", (d, 4 * d)), ("w2", (4 * d, d)))} for _ in range(layers)]
        self.d = d

    @staticmethod
    def _norm(x):
        return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-6)

    def forward(self, tokens, cache):
        """Runs `tokens` (positions after those in `cache`) and returns the last logits."""
        x = self.embed[tokens]
        for layer, kv in zip(self.layers, cache):
            h = self._norm(x)
            q, k, v = h @ layer["wq"], h @ layer["wk"], h @ layer["wv"]
            kv["k"] = k if kv["k"] is None else np.concatenate([kv["k"], k])
            kv["v"] = v if kv["v"] is None else np.concatenate([kv["v"], v])
            scores = q @ kv["k"].T / np.sqrt(self.d)
            past = kv["k"].shape[0] - len(tokens)  # causal mask over the new positions
            mask = np.arange(kv["k"].shape[0])[None, :] > (past + np.arange(len(tokens)))[:, None]
            scores[mask] = -np.inf
            p = np.exp(scores - scores.max(axis=-1, keepdims=True))
            x = x + (p / p.sum(axis=-1, keepdims=True)) @ kv["v"] @ layer["wo"]
            x = x + np.maximum(self._norm(x) @ layer["w1"], 0) @ layer["w2"]
        return self._norm(x[-1]) @ self.embed.T


def main(prompt_tokens=256, new_tokens=32, d=256):
    model = TinyDecoder(d=d)
    prompt = np.random.default_rng(1).integers(0, 1000, prompt_tokens)
    mon = jouleperf.Monitor(sensors="auto")
    cache = [{"k": None, "v": None} for _ in model.layers]
    with mon.window("prefill") as prefill:
        logits = model.forward(prompt, cache)
    generated = []
    with mon.window("decode") as decode:
        for _ in range(new_tokens):
            token = int(np.argmax(logits))
            generated.append(token)
            logits = model.forward(np.array([token]), cache)
    for name, w, tokens in (("prefill", prefill, prompt_tokens), ("decode", decode, new_tokens)):
        m = w.measurement
        print(f"{name}: {tokens} tokens, {m.energy_j:.4f} J +- {m.uncertainty_j:.4f} J in {m.duration_s:.4f} s, "
              f"{m.energy_j / tokens * 1e3:.3f} mJ per token ({m.kind}, {m.energy_source})")
    return prefill.measurement, decode.measurement, generated


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:4]))
