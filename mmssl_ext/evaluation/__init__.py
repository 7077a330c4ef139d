"""Evaluation protocols run outside mmengine's test loop."""
from .knn import global_features, knn_scores, recompute_bn_stats, topk_accuracy
from .linear_probe import LinearProbe, fit_linear_probe, linear_probe_scores, probe_objective

__all__ = ['global_features', 'knn_scores', 'recompute_bn_stats', 'topk_accuracy',
           'LinearProbe', 'fit_linear_probe', 'linear_probe_scores', 'probe_objective']
