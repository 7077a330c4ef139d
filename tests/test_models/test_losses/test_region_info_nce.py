"""RegionInfoNCELoss: the paper's Eq. 2 on valid regions, zero when there are none."""
import torch
import torch.nn.functional as F

from mmssl_ext.models.losses import RegionInfoNCELoss


def _unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_matches_a_direct_computation():
    query, key = _unit(2, 3, 8), _unit(2, 3, 8, seed=1)
    valid = torch.tensor([[True, False, True], [True, True, False]])
    loss, count = RegionInfoNCELoss(temperature=0.5)(query, key, valid)
    assert count == 4
    q, k, v = query.flatten(0, 1), key.flatten(0, 1), valid.flatten()
    terms = []
    for i in v.nonzero().flatten().tolist():
        logits = q[i] @ k[v].t() / 0.5
        positive = v[:i].sum()  # column of key i among the valid keys
        terms.append(-torch.log_softmax(logits, 0)[positive])
    assert torch.allclose(loss, torch.stack(terms).mean(), atol=1e-6)


def test_no_valid_region_gives_zero_loss_and_finite_gradients():
    query = _unit(2, 4, 8).requires_grad_()
    loss, count = RegionInfoNCELoss()(query, _unit(2, 4, 8, seed=1),
                                      torch.zeros(2, 4, dtype=torch.bool))
    assert loss.item() == 0 and count == 0
    loss.backward()
    assert torch.isfinite(query.grad).all() and (query.grad == 0).all()


def test_loss_weight_scales():
    query, key = _unit(1, 3, 4), _unit(1, 3, 4, seed=2)
    valid = torch.ones(1, 3, dtype=torch.bool)
    plain, _ = RegionInfoNCELoss()(query, key, valid)
    doubled, _ = RegionInfoNCELoss(loss_weight=2.)(query, key, valid)
    assert torch.allclose(doubled, 2 * plain)


def test_dense_negatives_variant():
    query, key = _unit(2, 3, 8), _unit(2, 3, 8, seed=1)
    dense = F.normalize(torch.randn(2, 8, 2, 2, generator=torch.Generator().manual_seed(3)),
                        dim=1)
    valid = torch.tensor([[True, False, True], [False, False, True]])
    loss, count = RegionInfoNCELoss()(query, key, valid, dense)
    assert count == 3
    negatives = dense.flatten(2).transpose(1, 2).flatten(0, 1)  # (8, D)
    q, k = query.flatten(0, 1)[valid.flatten()], key.flatten(0, 1)[valid.flatten()]
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ negatives.t()], 1) / 0.2
    assert torch.allclose(loss, -torch.log_softmax(logits, 1)[:, 0].mean(), atol=1e-6)
    zero, _ = RegionInfoNCELoss()(query, key, torch.zeros_like(valid), dense)
    assert zero.item() == 0
