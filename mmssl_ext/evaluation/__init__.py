"""Evaluation protocols run outside mmengine's test loop."""
from .knn import global_features, knn_scores, recompute_bn_stats, topk_accuracy

__all__ = ['global_features', 'knn_scores', 'recompute_bn_stats', 'topk_accuracy']
