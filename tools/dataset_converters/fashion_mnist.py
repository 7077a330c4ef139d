"""Fashion-MNIST IDX files -> an ImageNet-style folder for pre-training and k-NN.

    python tools/dataset_converters/fashion_mnist.py [--source DIR] [--out data/fashion_mnist]
        [--num-pretrain N] [--num-bank N] [--num-query N] [--image-size 32] [--seed 0]

The source defaults to where Debian's / Ubuntu's ``dataset-fashion-mnist`` package puts
the files (``make fashion-mnist`` installs it). Writes ``pretrain/`` (unlabelled, from
the training set), ``train/<class>/`` (labelled k-NN bank) and ``val/<class>/`` (the
test set, held out) with ``meta/{pretrain,train,val,classes}.txt``; see
:mod:`mmssl_ext.datasets.fashion_mnist`.
"""
import argparse
import sys

from mmssl_ext.datasets.fashion_mnist import DEBIAN_SOURCE_DIR, build_fashion_mnist_folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--source', default=DEBIAN_SOURCE_DIR,
                        help='folder of the four IDX files (gzipped or not)')
    parser.add_argument('--out', default='data/fashion_mnist', help='output root')
    parser.add_argument('--num-pretrain', type=int, help='unlabelled images (default: all)')
    parser.add_argument('--num-bank', type=int,
                        help='labelled k-NN bank images, class-balanced (default: all)')
    parser.add_argument('--num-query', type=int,
                        help='held-out test images, class-balanced (default: all)')
    parser.add_argument('--image-size', type=int, default=32,
                        help='side of the written RGB images (28: unchanged)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the subsets')
    args = parser.parse_args()
    try:
        counts = build_fashion_mnist_folder(
            args.out, args.source, args.num_pretrain, args.num_bank, args.num_query,
            args.image_size, args.seed)
    except FileNotFoundError as error:
        sys.exit(f'error: {error}')
    for split, count in counts.items():
        print(f'{split:9s} {count:6d} images in {args.out}/{split}')


if __name__ == '__main__':
    main()
