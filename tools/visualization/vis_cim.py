"""Draw what a CIM checkpoint predicts (the paper's Figure 5), and measure it.

For one image: the context, each exemplar, its ground-truth correlation map and the
predicted map (probability of "exemplar here"), side by side, saved as a PNG.

Then it prints (and writes under the picture) how much the predicted maps follow
their own exemplar (:func:`mmssl_ext.evaluation.exemplar_specificity`), on
``--eval-images`` (files or folders; default: IMAGE) with ``--eval-draws`` draws of
exemplars each: the soft IoU of each exemplar's predicted map with its own ground
truth, the mean soft IoU of the other exemplars' predicted maps with that ground
truth, their gap (0 for a location prior: the same blob for every exemplar), and how
often the own prediction is the best match (chance 1 / N).

    python tools/visualization/vis_cim.py CONFIG CHECKPOINT IMAGE [--out cim.png]
        [--seed 0] [--augment] [--eval-images DIR_OR_FILE ...] [--eval-draws 8]
"""
import matplotlib
import numpy as np
import torch

import mmssl_ext  # noqa: F401
from mmssl_ext.evaluation import exemplar_specificity, pairwise_soft_iou
from mmssl_ext.utils.image import list_images, load_square_images
from vis_common import load_model, visualiser_parser

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def parse_args():
    parser = visualiser_parser('Visualise CIM correlation maps', 'CIM pre-training config',
                               'cim_correlation_maps.png', 'exemplars', 'exemplar specificity',
                               'exemplar draws per evaluation image')
    parser.add_argument('--augment', action='store_true',
                        help='apply the exemplar augmentation of the config')
    return parser.parse_args()


@torch.no_grad()
def predict(model, images: torch.Tensor, augment: bool = False):
    """Sample the pretext task on (B, 3, H, W) BGR base images and predict it.

    Returns:
        tuple[Tensor]: contexts (B, 3, Hc, Wc), exemplars (B, N, 3, He, We) (both BGR
        in [0, 255]), ground-truth maps (B, N, Hc, Wc) and predicted probabilities
        (B, N, Hc, Wc).
    """
    preprocessor = model.data_preprocessor
    contexts, exemplars, maps = preprocessor.sampler(images)
    if augment:  # the augmentation works on RGB
        exemplars = preprocessor.exemplar_augment(
            exemplars.flatten(0, 1).flip(1)).flip(1).view_as(exemplars)
    logits = model.correlation_logits(preprocessor.normalize(contexts),
                                      preprocessor.normalize(exemplars))
    return contexts, exemplars, maps, logits.softmax(2)[:, :, 1]


def measure(model, paths, draws: int, augment: bool, device, batch_size: int = 16) -> dict:
    """Exemplar specificity over ``draws`` exemplar draws on each image of ``paths``."""
    size = model.data_preprocessor.sampler.base_size
    bases = load_square_images(paths, size).float().repeat_interleave(draws, 0)
    probs, maps = [], []
    for chunk in bases.split(batch_size):
        *_, chunk_maps, chunk_probs = predict(model, chunk.to(device), augment)
        probs.append(chunk_probs.cpu())
        maps.append(chunk_maps.cpu())
    return exemplar_specificity(torch.cat(probs), torch.cat(maps))


def describe(result: dict, num_images: int, draws: int, num_exemplars: int) -> str:
    return (f'exemplar specificity on {num_images} image(s) x {draws} draws '
            f'({num_images * draws * num_exemplars} exemplars): soft IoU of each '
            f'predicted map with its own ground truth {result["own_iou"]:.3f}, with the '
            f'other exemplars\' maps {result["others_iou"]:.3f}, gap '
            f'{result["gap"]:+.3f} (location prior 0, perfect maps '
            f'{1 - result["gt_overlap"]:.3f}); own map best match for '
            f'{100 * result["top1"]:.0f}% of exemplars (chance {100 * result["chance"]:.0f}%); '
            f'cross-entropy {result["ce"]:.3f}, location-only predictor '
            f'{result["location_prior_ce"]:.3f}')


def main():
    args = parse_args()
    _, model = load_model(args)
    preprocessor = model.data_preprocessor
    if not getattr(preprocessor, 'sample_on_device', False):
        raise ValueError('the config must use CIMDataPreprocessor(sample_on_device=True)')

    torch.manual_seed(args.seed)
    base = load_square_images([args.image], preprocessor.sampler.base_size)
    base = base.float().to(args.device)
    contexts, exemplars, maps, predicted = predict(model, base, args.augment)
    scores = pairwise_soft_iou(predicted, maps)[0].cpu()  # (N_pred, N_truth)
    predicted = predicted[0].cpu().numpy()
    eval_paths = list_images(args.eval_images or [args.image])
    num = exemplars.shape[1]
    summary = describe(measure(model, eval_paths, args.eval_draws, args.augment, args.device),
                       len(eval_paths), args.eval_draws, num)

    def rgb(image: torch.Tensor) -> np.ndarray:
        return image.clamp(0, 255).byte().permute(1, 2, 0).flip(-1).cpu().numpy()

    context = rgb(contexts[0])
    figure, axes = plt.subplots(3, num + 1, figsize=(2.2 * (num + 1), 7.4), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    axes[0, 0].imshow(context)
    axes[0, 0].set_title('context')
    for n in range(num):
        others = (scores[:, n].sum() - scores[n, n]) / (num - 1)
        axes[0, n + 1].imshow(rgb(exemplars[0, n]))
        axes[0, n + 1].set_title(f'exemplar {n + 1}')
        axes[1, n + 1].imshow(context)
        axes[1, n + 1].imshow(maps[0, n].cpu().numpy(), alpha=0.55, cmap='viridis')
        axes[2, n + 1].imshow(context)
        axes[2, n + 1].imshow(predicted[n], alpha=0.55, cmap='viridis', vmin=0, vmax=1)
        axes[2, n + 1].text(0.5, -0.02, f'IoU own {scores[n, n]:.2f}, others {others:.2f}',
                            transform=axes[2, n + 1].transAxes, ha='center', va='top',
                            fontsize=8)
    axes[1, 0].text(0.5, 0.5, 'ground truth', ha='center', va='center', fontsize=12)
    axes[2, 0].text(0.5, 0.5, 'prediction', ha='center', va='center', fontsize=12)
    figure.text(0.5, 0.01, summary.replace('; ', ';\n'), ha='center', va='bottom',
                fontsize=7, wrap=True)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    figure.savefig(args.out, dpi=100)
    print(args.out)
    print(summary)


if __name__ == '__main__':
    main()
