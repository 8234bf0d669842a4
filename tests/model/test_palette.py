"""The run colours: visible wherever a path is drawn on the viridis surface, told apart
with common colour-vision deficiencies."""

import itertools

import numpy as np

from gd_explorer.model.explorer import MAX_RUNS, PALETTE

#: viridis at 0, 0.1 (the dark low values where paths end) and 0.9, 1 (the bright high
#: values where they start, on the default log scale)
VIRIDIS_DARK = ("#440154", "#482576")
VIRIDIS_BRIGHT = ("#BCDF27", "#FDE725")

# Machado et al. (2009), severity 1, on linear RGB
DEUTAN = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                   [-0.011820, 0.042940, 0.968881]])
PROTAN = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]])


def rgb(h):
    return np.array([int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)])


def linear(c):
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(c, sim=None):
    c = linear(np.asarray(c, dtype=float))
    if sim is not None:
        c = np.clip(c @ sim.T, 0, 1)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                  [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_eight_distinct_colours():
    assert len(PALETTE) == MAX_RUNS == 8
    assert len({c.upper() for c in PALETTE}) == 8


def test_every_colour_stands_out_in_lightness_at_both_ends_of_viridis():
    # a thin line is seen by its lightness contrast: white (L* 100) and yellow (L* 89) on
    # viridis' bright yellow (L* 86-91) were invisible where paths start
    for color in PALETTE:
        lightness = lab(rgb(color))[0]
        for end in VIRIDIS_DARK + VIRIDIS_BRIGHT:
            assert abs(lightness - lab(rgb(end))[0]) >= 12, (color, end)


def test_colours_differ_also_with_deuteranopia_and_protanopia():
    for a, b in itertools.combinations(PALETTE, 2):
        ca, cb = rgb(a), rgb(b)
        assert np.linalg.norm(lab(ca) - lab(cb)) >= 20, (a, b)
        for sim in (DEUTAN, PROTAN):
            assert np.linalg.norm(lab(ca, sim) - lab(cb, sim)) >= 8, (a, b)
