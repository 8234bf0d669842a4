"""The ``nets`` problem kind: a small network trained on a generated dataset.

Its fields live in ``ProblemSpec.extra`` (a kind added after version 1 of the session
file): each has a default, so files without them read unchanged.  On the command line
it shares ``--dataset``, ``--model`` and ``--loss`` with the dataset kind and claims the
run when the dataset or the model is one of its own (``--dataset moons --model mlp``).
"""

from __future__ import annotations

from gd_explorer.core.io import fields as F
from gd_explorer.core.limits import MAX_COUNT
from gd_explorer.core.problems.kinds import COMMON_VIEWS, ProblemKind
from gd_explorer.core.problems.nets import (
    ACTIVATIONS,
    NET_DATASETS,
    NET_LOSSES,
    NET_MODELS,
    make_network,
    net_objective,
    parse_layers,
)

#: a network of at most this many samples (a dataset is generated in memory)
MAX_NET_SAMPLES = 100_000


class NetKind(ProblemKind):
    """A logistic regression or an MLP trained on a generated dataset, maybe in mini-batches."""

    name = "nets"
    title = "Neural network"
    tooltip = "Train a small network (logistic regression or an MLP) on a generated dataset"
    fields = ("net_dataset", "net_model", "layers", "activation", "net_loss", "noise",
              "samples", "test_fraction", "data_seed", "init_seed", "net_batch_size")
    defaults = {"net_dataset": "moons", "net_model": "mlp", "layers": "2-8-8-1",
                "activation": "tanh", "net_loss": "cross-entropy", "noise": None,
                "samples": 200, "test_fraction": 0.0, "data_seed": 0, "init_seed": 0,
                "net_batch_size": None}
    #: the decision function (2-D classification) or the fit (1-D regression), the loss
    #: landscape through the current point, train/test metrics and per-layer norms
    views = COMMON_VIEWS | {"fit", "decision", "landscape", "metrics"}
    cli_scope = "--dataset with --model mlp or logistic"
    cli_only = (("--layers", "layers"), ("--activation", "activation"), ("--noise", "noise"),
                ("--samples", "samples"), ("--test-fraction", "test_fraction"),
                ("--data-seed", "data_seed"), ("--init-seed", "init_seed"),
                ("--batch-size", "batch_size"))

    # ------------------------------------------------------------------ the problem
    def build(self, spec):
        g = spec.get
        return net_objective(g("net_dataset"), g("net_model"), g("layers"), g("activation"),
                             g("net_loss"), samples=g("samples"), noise=g("noise"),
                             data_seed=g("data_seed"), test_fraction=g("test_fraction"),
                             init_seed=g("init_seed"))

    def param_names(self, spec):
        return make_network(spec.get("net_model"), spec.get("layers"),
                            spec.get("activation")).names

    def batch_size(self, spec):
        return spec.get("net_batch_size")

    # ------------------------------------------------------------------ session files
    def read_fields(self, path, d, active):
        out = {
            "net_dataset": F.choice(F.join(path, "net_dataset"), d["net_dataset"], NET_DATASETS,
                                    "network dataset"),
            "net_model": F.choice(F.join(path, "net_model"), d["net_model"], NET_MODELS,
                                  "network model"),
            "activation": F.choice(F.join(path, "activation"), d["activation"], ACTIVATIONS,
                                   "activation"),
            "net_loss": F.choice(F.join(path, "net_loss"), d["net_loss"], NET_LOSSES, "loss"),
        }
        layers = F.text(F.join(path, "layers"), d["layers"], empty=False)
        try:
            parse_layers(layers)
            make_network("mlp", layers)  # the size limit
        except ValueError as exc:
            raise F.fail(F.join(path, "layers"), str(exc)) from None
        out["layers"] = layers
        noise = d["noise"]
        out["noise"] = None if noise is None else F.non_negative(F.join(path, "noise"), noise)
        out["samples"] = F.whole(F.join(path, "samples"), d["samples"], 2, MAX_NET_SAMPLES)
        fraction = F.non_negative(F.join(path, "test_fraction"), d["test_fraction"])
        if fraction >= 1:
            raise F.fail(F.join(path, "test_fraction"), f"must be below 1, got {fraction!r}")
        out["test_fraction"] = fraction
        for key in ("data_seed", "init_seed"):
            out[key] = F.whole(F.join(path, key), d[key], 0, 2**63 - 1)
        batch = d["net_batch_size"]
        out["net_batch_size"] = None if batch is None else F.whole(
            F.join(path, "net_batch_size"), batch, 1, MAX_COUNT)
        return out

    def write_fields(self, spec):
        out = {name: spec.get(name) for name in self.fields}
        for key in ("noise", "test_fraction"):
            out[key] = F.plain_float(out[key])
        for key in ("samples", "data_seed", "init_seed", "net_batch_size"):
            out[key] = F.plain_int(out[key])
        return out

    # ------------------------------------------------------------------ command line
    def claims_cli(self, args) -> bool:
        return (getattr(args, "dataset", None) in NET_DATASETS
                or getattr(args, "model", None) in NET_MODELS)

    def add_cli_flags(self, parser) -> None:
        parser.add_argument("--layers", metavar="SIZES",
                            help="network layers for --model mlp, e.g. 2-16-16-1 (default "
                                 "INPUTS-8-8-1)")
        parser.add_argument("--activation", help="hidden activation: "
                                                 f"{', '.join(ACTIVATIONS)} (default tanh)")
        parser.add_argument("--noise", type=float, help="noise of a network dataset")
        parser.add_argument("--samples", type=int, help="points of a network dataset "
                                                        "(default 200)")
        parser.add_argument("--test-fraction", type=float, metavar="F",
                            help="share of a network dataset held out for testing (default 0)")
        parser.add_argument("--data-seed", type=int, help="seed of a network dataset (default 0)")
        parser.add_argument("--init-seed", type=int,
                            help="seed of a network's initial weights (default 0)")

    def objective_from_cli(self, args):
        if args.samples is not None and not 2 <= args.samples <= MAX_NET_SAMPLES:
            raise ValueError(f"--samples must be between 2 and {MAX_NET_SAMPLES:,}, "
                             f"got {args.samples}")
        for flag, value in (("--data-seed", args.data_seed), ("--init-seed", args.init_seed)):
            if value is not None and value < 0:
                raise ValueError(f"{flag} must be a whole number >= 0, got {value}")
        if args.model == "logistic" and args.layers is not None:
            raise ValueError("--layers applies to --model mlp (logistic is 2-1)")
        return net_objective(args.dataset or "moons", args.model or "mlp", args.layers,
                             args.activation or "tanh", args.loss,
                             samples=200 if args.samples is None else args.samples,
                             noise=args.noise, data_seed=args.data_seed or 0,
                             test_fraction=args.test_fraction or 0.0,
                             init_seed=args.init_seed or 0)

    def cli_listing(self):
        lines = ["Network datasets (--dataset NAME --model mlp|logistic):"]
        for s in NET_DATASETS.values():
            lines.append(f"  {s.name:<16} {s.task:<15} noise {s.noise:g}  {s.description}")
        lines += ["", "Network models (--model, --layers, --activation):"]
        lines += [f"  {m.name:<16} {m.title}" for m in NET_MODELS.values()]
        lines += ["  activations: " + ", ".join(ACTIVATIONS), "", "Network losses (--loss):"]
        lines += [f"  {loss.name:<16} {loss.title}" for loss in NET_LOSSES.values()]
        return lines
