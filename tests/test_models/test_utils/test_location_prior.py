"""location_prior_ce against a per-map loop over explicit frequencies."""
import math

import pytest
import torch

from mmssl_ext.models.utils import location_prior_ce


def _loop(maps, earlier):
    """Score each map against the Laplace-smoothed frequency of all other maps."""
    total, count = 0., 0
    for i in range(len(maps)):
        others = [m for j, m in enumerate(maps) if j != i] + earlier
        for y in range(maps.shape[1]):
            for x in range(maps.shape[2]):
                p = (sum(float(m[y, x]) for m in others) + 1) / (len(others) + 2)
                total -= math.log(p) if maps[i, y, x] else math.log(1 - p)
                count += 1
    return total / count


def test_equals_a_loop_with_and_without_earlier_maps():
    torch.manual_seed(0)
    maps = (torch.rand(5, 3, 4) > .6).long()
    earlier = list((torch.rand(4, 3, 4) > .3).long())
    assert location_prior_ce(maps).item() == pytest.approx(_loop(maps, []), rel=1e-5)
    counts = torch.stack(earlier).sum(0).float()
    assert location_prior_ce(maps, counts, 4).item() == pytest.approx(
        _loop(maps, earlier), rel=1e-5)


def test_a_fixed_location_is_cheap_and_a_random_one_costs_ln2():
    # every map the same: the prior learns it (cost only from the smoothing)
    same = torch.zeros(50, 2, 2, dtype=torch.long)
    same[:, 0, 0] = 1
    assert location_prior_ce(same).item() == pytest.approx(-math.log(50 / 51), rel=1e-6)
    # fair coins: nothing to learn, about ln 2 per pixel
    torch.manual_seed(0)
    coins = (torch.rand(4000, 2, 2) > .5).long()
    assert location_prior_ce(coins).item() == pytest.approx(math.log(2), abs=2e-3)
