"""Write the backbone of a pre-training checkpoint, ready for transfer.

    python tools/model_converters/extract_backbone.py PRETRAIN_CKPT OUT [--encoder online|target]

OUT holds ``{'state_dict': ...}`` in mmpretrain backbone key names without prefix, for
``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` on the backbone of an mmpretrain,
mmdet or mmseg config. The default encoder is the one each paper transfers (CIM: the
online encoder). Besides mmssl_ext's algorithms (CIM, CAE, PQCL, ReSim and its MoCo v2
setting) it reads mmpretrain's own MAE, MoCoV3 and MoCo checkpoints (query encoder by
default; ``--encoder key`` for the momentum encoder). Alternatively, point
``init_cfg=dict(type='Pretrained', checkpoint=PRETRAIN_CKPT, prefix='backbone.')`` at
the raw checkpoint.
"""
import argparse

import torch

from mmssl_ext.converters import extract_backbone, load_state_dict


def main():
    parser = argparse.ArgumentParser(description='Extract a backbone for transfer')
    parser.add_argument('checkpoint', help='pre-training checkpoint (mmssl_ext or mmpretrain MAE / MoCoV3 / MoCo)')
    parser.add_argument('out', help='output file')
    parser.add_argument('--encoder', help='which encoder (default: the paper\'s choice)')
    args = parser.parse_args()
    backbone, algorithm, encoder = extract_backbone(load_state_dict(args.checkpoint),
                                                    args.encoder)
    torch.save({'meta': {'algorithm': algorithm, 'encoder': encoder},
                'state_dict': backbone}, args.out)
    print(f'{algorithm}: {encoder} encoder, {len(backbone)} tensors -> {args.out}')


if __name__ == '__main__':
    main()
