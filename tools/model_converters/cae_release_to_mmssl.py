"""Convert a CAE release (reference code or mmpretrain) into mmssl_ext checkpoints.

    python tools/model_converters/cae_release_to_mmssl.py IN OUT
        [--source official|mmpretrain] [--backbone-only [--format beit|vit]]

Without --backbone-only, OUT is an mmengine checkpoint of the whole ContextAutoencoder
(encoder, regressor, decoder; mmpretrain's release also carries the DALL-E tokenizer):
``load_from=OUT`` with configs/cae/vit-b_300e_in1k.py continues pre-training from it.
With it, OUT holds the encoder only, without prefix: ``--format beit`` (default) in
mmpretrain ``BEiTViT`` names (q/v bias and LayerScale as they are; BEiT-protocol
fine-tuning), ``--format vit`` in mmpretrain ``VisionTransformer`` names with the q/v
bias folded into ``qkv.bias`` (build the ViT with ``layer_scale_init_value > 0``).
Read with ``weights_only=True``; the conversion report lists unused and recomputed keys,
and a key the model needs that the release lacks is an error naming it.
"""
import argparse

import torch

from mmssl_ext.converters import cae_release_to_mmssl, cae_to_backbone, load_state_dict


def main():
    parser = argparse.ArgumentParser(description='Convert a CAE release checkpoint')
    parser.add_argument('src', help='release checkpoint')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--source', choices=['official', 'mmpretrain'], default='official',
                        help='official: Atten4Vis/CAE {"model": ...}; mmpretrain: '
                        "mmpretrain's CAE checkpoint")
    parser.add_argument('--backbone-only', action='store_true', help='write the encoder only')
    parser.add_argument('--format', choices=['beit', 'vit'],
                        help='key names for --backbone-only (default: beit)')
    args = parser.parse_args()
    if args.format and not args.backbone_only:
        parser.error('--format needs --backbone-only')

    converted, report = cae_release_to_mmssl(load_state_dict(args.src), args.source)
    print(report)
    meta = {'converted_from': f'CAE {args.source} release'}
    if args.backbone_only:
        meta['format'] = args.format or 'beit'
        converted = cae_to_backbone(converted, 'encoder', meta['format'])
    torch.save({'meta': meta, 'state_dict': converted}, args.dst)
    print(f'wrote {len(converted)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
