import torch
from mmengine.dist import broadcast_object_list, collect_results
from mmengine.hooks import Hook

from mmssl_ext.evaluation.knn import global_features, knn_scores, topk_accuracy
from mmssl_ext.registry import HOOKS, MODELS
from ..utils import bare_model


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """Weighted k-NN accuracy of the backbone on a labelled folder every ``interval`` epochs.

    The bank and query loaders (dataloader configs of any labelled dataset, e.g. a
    ``CustomDataset`` over class folders with ``PackInputs``) are run through the hook's
    own ``data_preprocessor`` (normalisation only: the algorithm's preprocessor may hold
    training augmentations or expect several views) and the model's ``extract_feat``
    (the backbone without masking); its last output becomes one vector per image
    (:func:`global_features`: (B, D) as is, (B, C, H, W) maps pooled, (B, 1 + L, C)
    tokens by their class token). BatchNorm layers use the run's running statistics
    (no precise BN). Each rank extracts its shard; the features are gathered in dataset
    order with ``mmengine.dist.collect_results`` and broadcast from rank 0, and
    every rank scores the same :func:`knn_scores`. ``knn/top1`` and ``knn/top5`` go to
    ``runner.message_hub`` (so ``LoggerHook`` prints them) and to the visualizer's
    backends at the current iteration.

    Args:
        bank_dataloader (dict): labelled k-NN bank (training split).
        query_dataloader (dict): labelled held-out query split.
        interval (int): epochs between evaluations (and after the last). Defaults to 1.
        k (int): neighbours. Defaults to 20.
        temperature (float): vote temperature. Defaults to 0.07.
        data_preprocessor (dict): built from mmpretrain's registry. Defaults to
            ``ClsDataPreprocessor`` with the ImageNet mean / std, BGR -> RGB.
    """

    priority = 'LOW'

    def __init__(self, bank_dataloader: dict, query_dataloader: dict, interval: int = 1,
                 k: int = 20, temperature: float = 0.07,
                 data_preprocessor: dict = dict(type='ClsDataPreprocessor',
                                                mean=[123.675, 116.28, 103.53],
                                                std=[58.395, 57.12, 57.375],
                                                to_rgb=True)) -> None:
        if interval < 1 or k < 1 or temperature <= 0:
            raise ValueError(f'KNNMonitorHook needs interval >= 1, k >= 1, temperature > 0; '
                             f'got {interval}, {k}, {temperature}')
        self.bank_cfg, self.query_cfg = bank_dataloader, query_dataloader
        self.interval, self.k, self.temperature = interval, k, temperature
        self.bank_loader = self.query_loader = None
        self.data_preprocessor = MODELS.build(data_preprocessor)

    def before_train(self, runner) -> None:
        self.bank_loader = runner.build_dataloader(self.bank_cfg, seed=runner.seed)
        self.query_loader = runner.build_dataloader(self.query_cfg, seed=runner.seed)

    @torch.no_grad()
    def extract(self, runner, loader) -> tuple:
        """(N, D) features and (N,) labels of a loader's whole dataset, on every rank."""
        model = bare_model(runner)
        was_training = model.training
        model.eval()
        preprocessor = self.data_preprocessor.to(next(model.parameters()).device)
        samples = []
        for data in loader:
            data = preprocessor(data, False)
            output = model.extract_feat(data['inputs'])
            output = output[-1] if isinstance(output, (list, tuple)) else output
            output = output[:, 0] if output.dim() == 3 else global_features(output)
            labels = [sample.gt_label for sample in data['data_samples']]
            samples += [(feat.cpu(), label.cpu()) for feat, label in zip(output, labels)]
        model.train(was_training)
        gathered = [collect_results(samples, len(loader.dataset), device='cpu')]
        broadcast_object_list(gathered)  # rank 0's ordered list to every rank
        samples = gathered[0]
        features = torch.stack([feat for feat, _ in samples])
        labels = torch.cat([label for _, label in samples])
        return features, labels

    def evaluate(self, runner) -> dict:
        """Score the query split against the bank; log and return the accuracies.

        Runs on a fork of the CPU random stream (a dataloader iterator draws its base
        seed from it), so switching the monitor on does not change the masks and crops
        of the training that follows."""
        with torch.random.fork_rng(devices=[]):
            bank, bank_labels = self.extract(runner, self.bank_loader)
            query, query_labels = self.extract(runner, self.query_loader)
        num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
        scores = knn_scores(bank, bank_labels, query, num_classes, min(self.k, len(bank)),
                            self.temperature)
        accuracy = topk_accuracy(scores, query_labels, (1, 5))
        for name, value in accuracy.items():
            runner.message_hub.update_scalar(f'train/knn/{name}', value)
        runner.visualizer.add_scalars({f'knn/{name}': v for name, v in accuracy.items()},
                                      step=runner.iter)
        return accuracy

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self.evaluate(runner)
