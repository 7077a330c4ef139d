"""Write the offline demo data (real images from installed packages, no download).

    python tools/dataset_converters/make_demo_data.py [--out data/demo]
"""
import argparse

from mmssl_ext.datasets.demo_data import build_demo_data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/demo', help='output root')
    parser.add_argument('--num-unlabeled', type=int, default=100,
                        help='images in the unlabeled folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random crops')
    args = parser.parse_args()
    roots = build_demo_data(args.out, args.num_unlabeled, args.seed)
    for name, root in roots.items():
        print(f'{name:9s} {root}')


if __name__ == '__main__':
    main()
