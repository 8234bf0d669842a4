"""Basins of attraction: classification on known surfaces, clustering, colours, files."""

import json
import struct
import zlib

import numpy as np
import pytest

from gd_explorer.core.lab.basins import (
    BASIN_COLOURS,
    DIVERGED_COLOUR,
    NOT_CONVERGED_COLOUR,
    STATUS_CONVERGED,
    STATUS_DIVERGED,
    STATUS_MAX_STEPS,
    BasinsCancelled,
    BasinSettings,
    basin_colours,
    cluster_points,
    cluster_radius,
    compute_basins,
    write_basins_csv,
    write_basins_png,
)
from gd_explorer.core.limits import MAX_BASIN_GRID
from gd_explorer.core.optim.optimizers import make_optimizer
from gd_explorer.core.problems.functions import get_function
from gd_explorer.core.problems.objectives import expression_objective
from gd_explorer.core.session.specs import Session, session_from_dict, session_json


def _basins(name, optimizer="sgd", grid=40, steps=500, tol=1e-8, **hyper):
    obj = get_function(name) if not name.startswith("=") else expression_objective(name[1:])
    opt = make_optimizer(optimizer, lr=hyper.pop("lr", obj.default_lr(optimizer)), **hyper)
    return obj, compute_basins(obj, opt, np.array(obj.start, dtype=float), (0, 1), obj.window,
                               grid=grid, steps=steps, tol=tol)


def _label_at(result, x, y):
    j = int(np.argmin(np.abs(result.xs - x)))
    i = int(np.argmin(np.abs(result.ys - y)))
    return int(result.label[i, j])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_himmelblau_has_four_basins_one_per_known_minimum(optimizer):
    obj, r = _basins("himmelblau", optimizer, steps=2000 if optimizer == "adam" else 500)
    assert len(r.minima) == 4 and all(r.known)
    np.testing.assert_allclose(r.minima, [o.point for o in obj.optima])
    assert (r.counts > 0.15 * r.label.size).all()  # four basins of similar size
    # the start next to each minimum descends to it
    for i, (x, y) in enumerate(r.minima):
        assert _label_at(r, x + 0.2, y - 0.1) == i
    assert r.fraction(STATUS_DIVERGED) == 0


def test_bowl_has_one_basin():
    obj, r = _basins("bowl")
    assert len(r.minima) == 1 and r.known == (True,)
    assert (r.label == 0).all() and (r.status == STATUS_CONVERGED).all()
    # steps to converge grow with the distance from the minimum (plain GD on x² + y²)
    centre = r.steps[len(r.ys) // 2, len(r.xs) // 2]
    assert r.steps[0, 0] > centre


def test_rosenbrock_one_basin_and_the_slow_valley():
    _, short = _basins("rosenbrock", steps=500)
    assert len(short.minima) == 1
    assert short.fraction(STATUS_MAX_STEPS) > 0.9  # 500 steps of lr 1e-3 are too few
    assert set(np.unique(short.label[short.status == STATUS_CONVERGED])) <= {0}
    _, long = _basins("rosenbrock", grid=12, steps=40000)
    assert long.fraction(STATUS_CONVERGED) > short.fraction(STATUS_CONVERGED)
    assert set(np.unique(long.label[long.status == STATUS_CONVERGED])) == {0}


def test_unknown_minima_are_found_by_clustering():
    # (x² − 1)² + y²: two minima at (±1, 0), a typed formula knows none of them
    _, r = _basins("=(x**2 - 1)**2 + y**2", lr=0.05, grid=30)
    assert r.known == (False, False)
    np.testing.assert_allclose(np.sort(r.minima[:, 0]), [-1, 1], atol=1e-6)
    np.testing.assert_allclose(r.minima[:, 1], 0, atol=1e-6)
    assert _label_at(r, -2, 1) != _label_at(r, 2, 1)
    assert _label_at(r, -2, 1) == _label_at(r, -0.5, -2)


def test_diverged_starts_are_their_own_status():
    # lr 1.1 on the bowl: every start but the minimum itself runs away
    _, r = _basins("bowl", lr=1.1, grid=11)
    off = np.ones_like(r.status, dtype=bool)
    off[5, 5] = False  # the grid point at (0, 0)
    assert (r.status[off] == STATUS_DIVERGED).all()
    assert (r.label[off] == -1).all()
    rgba = basin_colours(r)
    assert tuple(rgba[0, 0, :3]) == tuple(int(DIVERGED_COLOUR[i:i + 2], 16) for i in (1, 3, 5))


def test_colours_lightness_by_steps_and_not_converged_grey():
    _, r = _basins("bowl", grid=21)
    rgba = basin_colours(r).astype(int)
    fast = rgba[10, 10, :3]  # the minimum: 0 steps, the full colour
    assert tuple(fast) == tuple(int(BASIN_COLOURS[0][i:i + 2], 16) for i in (1, 3, 5))
    assert rgba[0, 0, :3].sum() > fast.sum()  # slower: paler
    _, late = _basins("bowl", grid=5, steps=1, lr=0.01)  # no start gets anywhere in 1 step
    grey = tuple(int(NOT_CONVERGED_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
    assert tuple(basin_colours(late)[0, 0, :3]) == grey


def test_cluster_radius_follows_the_tolerance_within_bounds():
    w = ((-5, 5), (-5, 5))
    assert cluster_radius(w, 1e-8) == pytest.approx(10 * 1e-8 ** (1 / 3))
    assert cluster_radius(w, 0) == pytest.approx(10 * 1e-3)
    assert cluster_radius(w, 1.0) == pytest.approx(10 * 0.02)


def test_cluster_points_merges_neighbouring_cells():
    rng = np.random.default_rng(0)
    a = rng.normal([0, 0], 1e-4, (500, 2))
    b = rng.normal([1, 0], 1e-4, (200, 2))
    centres, label = cluster_points(np.vstack([a, b]), 0.01)
    np.testing.assert_allclose(centres, [[0, 0], [1, 0]], atol=1e-4)
    assert (label[:500] == 0).all() and (label[500:] == 1).all()


def test_cancel_raises_and_returns_nothing():
    obj = get_function("himmelblau")
    calls = []

    def progress(f):
        calls.append(f)
        return len(calls) < 3

    with pytest.raises(BasinsCancelled):
        compute_basins(obj, make_optimizer("sgd", lr=0.001), np.array(obj.start), (0, 1),
                       obj.window, grid=50, steps=5000, tol=0, progress=progress)
    assert len(calls) == 3 and 0 < calls[-1] < 1


def test_chunks_give_the_same_map():
    obj = get_function("himmelblau")
    args = (obj, make_optimizer("adam", lr=0.05), np.array(obj.start), (0, 1), obj.window)
    whole = compute_basins(*args, grid=30, steps=300)
    parts = compute_basins(*args, grid=30, steps=300, chunk=77)
    for name in ("label", "steps", "status"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(parts, name))


def test_bad_settings_are_refused():
    obj = get_function("bowl")
    opt = make_optimizer("sgd", lr=0.1)
    with pytest.raises(ValueError, match="grid"):
        compute_basins(obj, opt, np.zeros(2), (0, 1), obj.window, grid=MAX_BASIN_GRID + 1)
    with pytest.raises(ValueError, match="steps"):
        BasinSettings(steps=0)
    with pytest.raises(ValueError, match="window"):
        compute_basins(obj, opt, np.zeros(2), (0, 1), ((1, 0), (0, 1)), grid=5)


def test_csv_one_row_per_start(tmp_path):
    _, r = _basins("himmelblau", grid=7)
    out = tmp_path / "b.csv"
    assert write_basins_csv(out, r) == 49
    lines = out.read_text().splitlines()
    assert lines[0] == "x,y,basin,steps,status"
    assert len(lines) == 50
    x, y, basin, steps, status = lines[1].split(",")
    assert (float(x), float(y)) == (r.xs[0], r.ys[0])
    assert int(basin) == r.label[0, 0] + 1 and int(steps) == r.steps[0, 0]
    assert status == "converged"
    row = lines[1 + 7 * 3 + 4].split(",")  # grid row 3, column 4
    assert (float(row[0]), float(row[1])) == (r.xs[4], r.ys[3])


def _read_png(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.setdefault(kind, b"")
        chunks[kind] += body
        pos += 12 + n
    w, h, depth, ctype = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, ctype) == (8, 6)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(h, 1 + 4 * w)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 4)


def test_png_has_the_app_colours_top_row_largest_y(tmp_path):
    _, r = _basins("himmelblau", grid=9)
    out = tmp_path / "b.png"
    write_basins_png(out, r, scale=3)
    img = _read_png(out.read_bytes())
    assert img.shape == (27, 27, 4)
    np.testing.assert_array_equal(img[::3, ::3], basin_colours(r)[::-1])


def test_sessions_remember_basin_settings_and_old_files_load():
    s = Session(lab={"basins": BasinSettings(grid=321, steps=77)})
    text = session_json(s)
    assert json.loads(text)["lab"] == {"basins": {"grid": 321, "steps": 77}}
    assert session_from_dict(json.loads(text)).lab["basins"] == BasinSettings(321, 77)
    old = json.loads(session_json(Session()))
    assert "lab" not in old  # nothing set: nothing written (older versions read it)
    assert session_from_dict(old).lab == {}
    old["lab"] = {"basins": {"grid": MAX_BASIN_GRID + 1}}
    with pytest.raises(ValueError, match=r"^lab\.basins\.grid: must be between 2 and 1,000"):
        session_from_dict(old)
    old["lab"] = {"basins": {"steps": 9}}
    assert session_from_dict(old).lab["basins"] == BasinSettings(steps=9)


def test_not_converged_starts_near_a_minimum_take_its_basin():
    # Adam circles the minima for a while: within 500 steps some starts are close to one
    # without their gradient below 1e-8; they belong to its basin (drawn at the palest)
    _, r = _basins("himmelblau", "adam", steps=500)
    late = r.status == STATUS_MAX_STEPS
    assert late.any() and (r.label[late] >= 0).any()
    rgba = basin_colours(r).astype(int)
    i, j = np.argwhere(late & (r.label >= 0))[0]
    same = (r.label == r.label[i, j]) & (r.status == STATUS_CONVERGED)
    assert rgba[i, j, :3].sum() >= rgba[same][:, :3].sum(axis=1).max()


@pytest.mark.parametrize("name", sorted(__import__(
    "gd_explorer.core.optim.optimizers", fromlist=["OPTIMIZERS"]).OPTIMIZERS))
def test_every_optimizer_of_the_registry_draws_a_map(name):
    # each entry's own default rate on the bowl: a map of valid labels, statuses and steps;
    # an entry the bowl cannot feed (Gauss–Newton needs a least-squares fit) is refused
    obj = get_function("bowl")
    opt = make_optimizer(name, lr=obj.default_lr(name))
    why = opt.unmet_needs(least_squares=False, full_batch=True)
    if why:
        with pytest.raises(ValueError, match="least-squares"):
            compute_basins(obj, opt, np.zeros(2), (0, 1), obj.window, grid=6, steps=60)
        return
    r = compute_basins(obj, opt, np.zeros(2), (0, 1), obj.window, grid=6, steps=60)
    assert r.label.shape == r.steps.shape == r.status.shape == (6, 6)
    assert set(np.unique(r.label)) <= {-1, 0}
    assert ((r.steps >= 0) & (r.steps <= 60)).all()
    assert basin_colours(r).shape == (6, 6, 4)


def test_known_optima_count_by_the_function_not_their_description():
    from gd_explorer.core.lab.basins import known_minima

    saddle = get_function("saddle")  # its known optimum is a saddle point: no basin
    assert known_minima(saddle, maximize=False).shape == (0, 2)
    fence = get_function("fence-area")  # a maximum: a basin only for ascent
    assert known_minima(fence, maximize=True).tolist() == [[50.0]]
    assert known_minima(fence, maximize=False).shape == (0, 1)
    himmelblau = get_function("himmelblau")
    assert len(known_minima(himmelblau, maximize=False)) == 4
    assert len(known_minima(himmelblau, maximize=True)) == 0
