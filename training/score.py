"""What the trained torch module computes, for checking the exported ONNX graph against it.

  python score.py scores --checkpoint-dir DIR --features rows.json
      rows.json: [[f0, f1, ...], ...] in the serving encoding (null for NaN). Prints
      {"scores": [[...], ...]}: the torch module's output for those rows, from the finished
      run's newest checkpoint (the weights model.onnx was exported from).
  python score.py encode --model-document model.json --data FILE_OR_FOLDER
      Prints {"features": [[...]], "targets": [...]}: the rows as this program encodes them
      for training (null for NaN), to compare with the serving encoding.
"""

import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _json_number(value):
    return None if math.isnan(value) else value


def scores(arguments):
    import torch

    from mlops_training.checkpoints import newest_checkpoint
    from mlops_training.network import ServingModel

    path, state = newest_checkpoint(arguments.checkpoint_dir, lambda line: print(line, file=sys.stderr))
    if state is None or 'exported' not in state:
        raise SystemExit('no finished run in %s (its last checkpoint holds the exported weights)' % arguments.checkpoint_dir)
    model = ServingModel(state['config'])
    model.load_state_dict(state['exported'])
    model.eval()
    with open(arguments.features, encoding='utf-8') as handle:
        rows = json.load(handle)
    features = torch.tensor([[math.nan if value is None else value for value in row] for row in rows],
                            dtype=torch.float32)
    with torch.no_grad():
        output = model(features)
    json.dump({'checkpoint': path, 'scores': output.tolist()}, sys.stdout)


def encode(arguments):
    from mlops_training.datasets import read_channel
    from mlops_training.model_document import load_model_document

    spec = load_model_document(arguments.model_document)
    directory = arguments.data
    if os.path.isfile(directory):
        raise SystemExit('--data must be a folder of data files, as a channel is')
    channel = read_channel('data', directory, spec, max_bad_row_fraction=1.0)
    json.dump({
        'features': [[_json_number(float(value)) for value in row] for row in channel.features],
        'targets': channel.targets.tolist(),
        'badRows': channel.bad_rows,
        'examples': channel.examples,
    }, sys.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    score_command = commands.add_parser('scores')
    score_command.add_argument('--checkpoint-dir', required=True)
    score_command.add_argument('--features', required=True)
    encode_command = commands.add_parser('encode')
    encode_command.add_argument('--model-document', required=True)
    encode_command.add_argument('--data', required=True)
    arguments = parser.parse_args()
    (scores if arguments.command == 'scores' else encode)(arguments)


if __name__ == '__main__':
    main()
