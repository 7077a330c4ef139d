"""Evaluation protocols run outside mmengine's test loop."""
from .knn import global_features, knn_scores, recompute_bn_stats, topk_accuracy
from .linear_probe import LinearProbe, fit_linear_probe, linear_probe_scores, probe_objective
from .pretext_diagnostics import (attention_concentration, exemplar_specificity,
                                  masked_patch_errors, pairwise_soft_iou)

__all__ = ['attention_concentration', 'exemplar_specificity', 'global_features',
           'knn_scores', 'masked_patch_errors', 'pairwise_soft_iou', 'recompute_bn_stats',
           'topk_accuracy', 'LinearProbe', 'fit_linear_probe', 'linear_probe_scores',
           'probe_objective']
