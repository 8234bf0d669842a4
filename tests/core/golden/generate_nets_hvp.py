"""Golden Hessian-vector products of small networks by torch autograd (double backward).

Run with the scratch venv that has torch (never a project dependency):

    /path/to/torch-venv/bin/python tests/core/golden/generate_nets_hvp.py

As generate_nets.py: data, parameters and the direction v are drawn here with numpy
(seeded) and stored in the JSON, so the test needs neither torch nor this script.  H·v is
the gradient of (∇L · v), torch's second backward pass through the graph of the first;
gelu is the erf form (torch's default, approximate='none').  Layout: torch.nn.Linear's
weight (out × in, row-major) then its bias, layer by layer.
"""

import json
import pathlib
import platform

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
ACTS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
        "gelu": torch.nn.functional.gelu}
LOSSES = {"mse": torch.nn.MSELoss(), "cross-entropy": torch.nn.BCEWithLogitsLoss()}
CASES = [((2, 4, 3, 1), act, loss) for act in ACTS for loss in LOSSES] + [
    ((2, 1), "tanh", "cross-entropy"), ((1, 5, 1), "gelu", "mse"),
    ((2, 6, 5, 4, 1), "tanh", "mse")]


def case(layers, act, loss, seed):
    rng = np.random.default_rng(100 + seed)
    n = 12
    x = rng.normal(size=(n, layers[0]))
    y = (rng.uniform(size=n) > 0.5).astype(np.float64) if loss == "cross-entropy" \
        else rng.normal(size=n)
    params = []
    for i, o in zip(layers[:-1], layers[1:]):
        params += [rng.normal(size=(o, i)) * 1.5, rng.normal(size=o) * 0.5]
    flat = np.concatenate([p.ravel() for p in params])
    v = rng.normal(size=flat.size)
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    h = torch.tensor(x)
    for j in range(0, len(tensors), 2):
        h = h @ tensors[j].T + tensors[j + 1]
        if j + 2 < len(tensors):
            h = ACTS[act](h)
    value = LOSSES[loss](h[:, 0], torch.tensor(y))
    grads = torch.autograd.grad(value, tensors, create_graph=True)
    flat_grad = torch.cat([g.reshape(-1) for g in grads])
    hv = torch.autograd.grad(flat_grad @ torch.tensor(v), tensors)
    return {"layers": list(layers), "activation": act, "loss": loss, "x": x.tolist(),
            "y": y.tolist(), "params": flat.tolist(), "v": v.tolist(),
            "hvp": torch.cat([t.reshape(-1) for t in hv]).numpy().tolist()}


def main():
    out = {"versions": {"torch": torch.__version__, "numpy": np.__version__,
                        "python": platform.python_version()},
           "dtype": "float64",
           "cases": [case(layers, act, loss, seed) for seed, (layers, act, loss)
                     in enumerate(CASES)]}
    path = pathlib.Path(__file__).with_name("nets_hvp_golden.json")
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
