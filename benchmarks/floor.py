"""The floor: micrograd's demo training step written by hand in plain Python floats.

Same network (2-16-16-1, ReLU hidden layers, linear output), same loss (mean hinge
max(0, 1 - y s) plus 1e-4 times the sum of squared parameters), same SGD update; the
backward pass is derived by hand. No graph, no Values: the fastest this step can be in
pure Python, and the yardstick for how much chainrule's graph costs.
"""

from __future__ import annotations

ALPHA = 1e-4


class FloatMLP:
    """Weights as nested lists of floats, neuron by neuron (the order of model.parameters())."""

    def __init__(self, layers: list[list[list[float]]]) -> None:
        # layers[l][j] = [w_j0, ..., w_j(n-1), b_j]
        self.layers = [[list(neuron) for neuron in layer] for layer in layers]

    def step(self, X: list[list[float]], y: list[int], lr: float) -> tuple[float, float]:
        """One full-batch step; returns (loss, accuracy) before the update."""
        (l1, l2, l3) = self.layers
        g1 = [[0.0] * len(n) for n in l1]
        g2 = [[0.0] * len(n) for n in l2]
        g3 = [[0.0] * len(n) for n in l3]
        inv_n = 1.0 / len(X)
        data_loss = 0.0
        correct = 0
        for x, yi in zip(X, y):
            x0, x1 = x
            z1 = [n[0] * x0 + n[1] * x1 + n[2] for n in l1]
            a1 = [z if z > 0.0 else 0.0 for z in z1]
            z2 = [sum([w * a for w, a in zip(n, a1)]) + n[-1] for n in l2]
            a2 = [z if z > 0.0 else 0.0 for z in z2]
            out = l3[0]
            s = sum([w * a for w, a in zip(out, a2)]) + out[-1]
            correct += (s > 0.0) == (yi > 0)
            margin = 1.0 - yi * s
            if margin > 0.0:
                data_loss += margin
            # Backward, by hand. No data-dependent shortcuts (skipping samples whose
            # margin is met, or units that are off): the same arithmetic the graph does.
            ds = -yi * inv_n if margin > 0.0 else 0.0
            g = g3[0]
            g[:-1] = [gk + ds * a for gk, a in zip(g, a2)]
            g[-1] += ds
            dz2 = [ds * w if z > 0.0 else 0.0 for w, z in zip(out, z2)]
            da1 = [0.0] * len(a1)
            for gk, n, d in zip(g2, l2, dz2):
                gk[:-1] = [gj + d * a for gj, a in zip(gk, a1)]
                gk[-1] += d
                da1 = [acc + d * w for acc, w in zip(da1, n)]
            for gj, z, d in zip(g1, z1, da1):
                d = d if z > 0.0 else 0.0
                gj[0] += d * x0
                gj[1] += d * x1
                gj[2] += d
        reg = 0.0
        for layer, grads in ((l1, g1), (l2, g2), (l3, g3)):
            for n, g in zip(layer, grads):
                for k, p in enumerate(n):
                    reg += p * p
                    n[k] = p - lr * (g[k] + 2.0 * ALPHA * p)
        return data_loss * inv_n + ALPHA * reg, correct / len(X)
