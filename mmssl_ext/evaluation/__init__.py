"""Evaluation protocols run outside mmengine's test loop."""
from .knn import knn_scores, topk_accuracy

__all__ = ['knn_scores', 'topk_accuracy']
