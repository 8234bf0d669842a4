"""Networks, losses and datasets of the nets kind: gradients, stability, reproducibility."""

import json
import pathlib
import pickle

import numpy as np
import pytest

from gd_explorer.core.problems.nets import (
    ACTIVATIONS,
    NET_DATASETS,
    NET_LOSSES,
    NetData,
    NetObjective,
    Network,
    make_net_data,
    make_network,
    net_objective,
    parse_layers,
    softplus,
)


def _fd_grad(obj, p, h=1e-6):
    g = np.empty_like(p)
    for i in range(p.shape[1]):
        e = np.zeros_like(p)
        e[:, i] = h
        g[:, i] = (obj.value_and_grad(p + e)[0] - obj.value_and_grad(p - e)[0]) / (2 * h)
    return g


CASES = [("moons", "mlp", "2-5-4-1", act, loss) for act in ACTIVATIONS
         for loss in ("cross-entropy", "mse")] + [
    ("blobs", "logistic", None, "tanh", "cross-entropy"),
    ("sine", "mlp", "1-6-1", "tanh", "mse"),
    ("step", "mlp", "1-3-3-3-1", "gelu", "mse"),
]


@pytest.mark.parametrize("dataset,model,layers,act,loss", CASES)
def test_gradient_matches_central_differences(dataset, model, layers, act, loss):
    obj = net_objective(dataset, model, layers, act, loss, samples=40, data_seed=3)
    rng = np.random.default_rng(0)
    # three runs batched, off the initial point (relu kinks away from the samples)
    p = np.asarray(obj.start) + 0.3 * rng.normal(size=(3, obj.dim))
    v, g = obj.value_and_grad(p)
    assert v.shape == (3,) and g.shape == (3, obj.dim)
    np.testing.assert_allclose(g, _fd_grad(obj, p), rtol=1e-5, atol=1e-7)
    # batched runs equal single runs
    for j in range(3):
        vj, gj = obj.value_and_grad(p[j:j + 1])
        np.testing.assert_allclose(vj[0], v[j], rtol=1e-13)
        np.testing.assert_allclose(gj[0], g[j], rtol=1e-12, atol=1e-15)


def test_minibatch_index_is_the_loss_on_those_samples():
    obj = net_objective("xor", "mlp", "2-4-1", "relu", samples=30)
    p = np.asarray(obj.start)[None, :]
    idx = np.array([0, 5, 7, 11])
    v, g = obj.value_and_grad(p, index=idx)
    sub = net_objective("xor", "mlp", "2-4-1", "relu", samples=30)
    object.__setattr__(sub, "data", type(obj.data)("xor", "classification", obj.data.x[idx],
                                                    obj.data.y[idx], obj.data.x_test,
                                                    obj.data.y_test))
    v2, g2 = sub.value_and_grad(p)
    np.testing.assert_allclose(v, v2, rtol=1e-14)
    np.testing.assert_allclose(g, g2, rtol=1e-14)
    assert obj.samples == 30


def test_bce_is_stable_at_large_logits():
    bce = NET_LOSSES["cross-entropy"]
    z = np.array([[1000.0, -1000.0, 1000.0, -1000.0]])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # e^-1000 underflows: fine
        v = bce.value(z, y)
        d = bce.derivative(z, y)
    np.testing.assert_array_equal(v, [[0.0, 0.0, 1000.0, 1000.0]])
    np.testing.assert_array_equal(d, [[0.0, 0.0, 1.0, -1.0]])
    assert softplus(np.array([0.0]))[0] == pytest.approx(np.log(2.0), rel=1e-15)


@pytest.mark.parametrize("name", list(NET_DATASETS))
def test_datasets_are_reproducible_by_seed(name):
    a = make_net_data(name, 50, seed=7, test_fraction=0.2)
    b = make_net_data(name, 50, seed=7, test_fraction=0.2)
    c = make_net_data(name, 50, seed=8, test_fraction=0.2)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x, c.x)
    assert a.x.shape[0] == 40 and a.x_test.shape[0] == 10
    if a.task == "classification":
        assert set(np.unique(np.r_[a.y, a.y_test])) == {0.0, 1.0}


def test_parameter_names_and_layout_follow_torch_linear():
    net = make_network("mlp", "2-3-1")
    assert net.dim == 2 * 3 + 3 + 3 + 1
    assert net.names[:3] == ("w1_0_0", "w1_0_1", "w1_1_0")
    assert net.names[6:9] == ("b1_0", "b1_1", "b1_2")
    assert net.names[-1] == "b2_0"
    assert make_network("logistic").names == ("w1", "w2", "b")
    big = make_network("mlp", "2-64-64-64-64-1")
    assert big.dim == len(set(big.names)) > 10_000


def test_init_is_seeded_and_scaled():
    net = make_network("mlp", "2-400-1", "relu")
    a, b = net.init(1), net.init(1)
    np.testing.assert_array_equal(a, b)
    w1 = a[net.slices[0][0]]
    assert np.std(w1) == pytest.approx(np.sqrt(2.0 / 2), rel=0.1)  # He: sqrt(2 / fan_in)
    assert np.all(a[net.slices[0][1]] == 0)


@pytest.mark.parametrize("text,msg", [("2-x-1", "sizes joined"), ("2-0-1", "at least one"),
                                      ("2-3-2", "one output"), ("2", "sizes joined")])
def test_bad_layers_are_refused(text, msg):
    with pytest.raises(ValueError, match=msg):
        parse_layers(text)


def test_wrong_inputs_and_losses_are_refused():
    with pytest.raises(ValueError, match="1-D inputs"):
        net_objective("sine", "mlp", "2-4-1")
    with pytest.raises(ValueError, match="regression dataset"):
        net_objective("sine", "mlp", "1-4-1", loss="cross-entropy")
    with pytest.raises(ValueError, match="unknown activation"):
        net_objective("moons", "mlp", "2-4-1", "swish")


def test_objective_pickles_for_the_engine_process():
    obj = net_objective("spiral", "mlp", "2-4-1", "gelu")
    back = pickle.loads(pickle.dumps(obj))
    p = np.asarray(obj.start)[None, :]
    np.testing.assert_array_equal(back.value_and_grad(p)[1], obj.value_and_grad(p)[1])


# ------------------------------------------------------------------ torch autograd golden
GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "nets_golden.json").read_text())


@pytest.mark.parametrize("case", GOLDEN["cases"],
                         ids=[f"{'-'.join(map(str, c['layers']))}-{c['activation']}-{c['loss']}"
                              for c in GOLDEN["cases"]])
def test_value_and_gradient_match_torch_autograd(case):
    """golden/nets_golden.json: torch 2.13 autograd in float64 (golden/generate_nets.py)."""
    x, y = np.array(case["x"]), np.array(case["y"])
    task = "classification" if case["loss"] == "cross-entropy" else "regression"
    data = NetData("golden", task, x, y, x[:0], y[:0])
    net = Network(tuple(case["layers"]), case["activation"])
    obj = NetObjective(data, net, case["loss"])
    v, g = obj.value_and_grad(np.array([case["params"]]))
    np.testing.assert_allclose(v[0], case["value"], rtol=1e-13)
    np.testing.assert_allclose(g[0], case["grad"], rtol=1e-11, atol=1e-14)


def test_many_points_are_evaluated_in_chunks_with_the_same_result():
    obj = net_objective("circles", "mlp", "2-8-1", "sigmoid", samples=50)
    rng = np.random.default_rng(4)
    p = np.asarray(obj.start) + 0.1 * rng.normal(size=(7000, obj.dim))  # > one chunk
    v, g = obj.value_and_grad(p)
    np.testing.assert_allclose(obj.values(p), v, rtol=1e-14)
    v5, g5 = obj.value_and_grad(p[-5:])
    np.testing.assert_allclose(v[-5:], v5, rtol=1e-14)
    np.testing.assert_allclose(g[-5:], g5, rtol=1e-13, atol=1e-16)


def test_layer_norms_are_the_norms_of_each_layers_weights_and_biases():
    net = make_network("mlp", "2-3-1")
    v = np.arange(net.dim, dtype=float)  # w1: 0..5, b1: 6..8, w2: 9..11, b2: 12
    expected = [np.sqrt(np.sum(np.arange(9.0) ** 2)), np.sqrt(np.sum(np.arange(9.0, 13) ** 2))]
    np.testing.assert_allclose(net.layer_norms(v), expected, rtol=1e-15)
    np.testing.assert_allclose(net.layer_norms(np.stack([v, 2 * v])), [expected,
                               2 * np.asarray(expected)], rtol=1e-15)
    assert net.layer_titles == ("layer 1 (2→3)", "layer 2 (3→1)")


def test_parameter_groups_are_each_layers_columns_by_name():
    """The objective's groups (what the step log and the CLI summarise by norm): every
    column once, in order, and each group's columns named after its layer."""
    obj = net_objective("moons", "mlp", "2-4-3-1", "tanh", samples=20)
    groups = obj.parameter_groups()
    assert [t for t, _ in groups] == ["layer 1 (2→4)", "layer 2 (4→3)", "layer 3 (3→1)"]
    cols = np.concatenate([idx for _, idx in groups])
    assert cols.tolist() == list(range(obj.dim))
    for layer, (_, idx) in enumerate(groups, 1):
        assert all(obj.names[i][1:].startswith(f"{layer}_") for i in idx)
    v = np.random.default_rng(0).normal(size=obj.dim)
    np.testing.assert_allclose([np.linalg.norm(v[idx]) for _, idx in groups],
                               obj.network.layer_norms(v), rtol=1e-14)
    assert obj.parameter_groups() is groups  # made once: asked at every display tick
    assert pickle.loads(pickle.dumps(obj)).parameter_groups()[2][0] == "layer 3 (3→1)"


def test_a_plain_function_has_no_parameter_groups():
    from gd_explorer.core.problems.functions import get_function

    assert get_function("rosenbrock").parameter_groups() is None
