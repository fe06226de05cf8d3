"""Checkpoints for managed spot training: SageMaker mirrors the checkpoint folder to
CheckpointConfig.S3Uri and restores it when a reclaimed job restarts. Each checkpoint is one
file named by its epoch and step, written to a temp file and renamed (a reader never sees half a
file, and SageMaker never uploads one under the final name); the newest two are kept.

A checkpoint is read with torch.load(weights_only=True), which runs no pickled code; torch
1.13's restricted unpickler knows tensors, strings, ints and containers but not floats, so the
state is stored as a JSON skeleton (floats exact, infinity as Infinity) plus a list of tensors."""

import inspect
import json
import os
import re

import torch

NAME_PATTERN = re.compile(r'checkpoint-epoch-(\d+)-step-(\d+)\.pt')
KEEP = 2
FORMAT = 1


def checkpoint_name(epoch, step):
    return 'checkpoint-epoch-%06d-step-%06d.pt' % (epoch, step)


def list_checkpoints(directory):
    """(epoch, step, path) of every checkpoint in the folder, newest first."""
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        match = NAME_PATTERN.fullmatch(name)
        if match:
            found.append((int(match[1]), int(match[2]), os.path.join(directory, name)))
    return sorted(found, reverse=True)


def save_checkpoint(directory, state):
    """Writes atomically (temp file, fsync, rename), then drops all but the newest KEEP files."""
    os.makedirs(directory, exist_ok=True)
    final = os.path.join(directory, checkpoint_name(state['epoch'], state['step']))
    temporary = os.path.join(directory, '.%s.tmp-%d' % (os.path.basename(final), os.getpid()))
    with open(temporary, 'wb') as handle:
        torch.save(_pack(state), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    _fsync_directory(directory)
    for _, _, path in list_checkpoints(directory)[KEEP:]:
        try:
            os.remove(path)
        except OSError:
            pass
    return final


def _fsync_directory(directory):
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load_checkpoint(path):
    options = {'map_location': 'cpu'}
    if 'weights_only' in inspect.signature(torch.load).parameters:
        options['weights_only'] = True
    stored = torch.load(path, **options)
    if not isinstance(stored, dict) or stored.get('format') != FORMAT:
        raise ValueError('not a checkpoint of this program')
    return _unpack(stored)


def _pack(state):
    tensors = []

    def skeleton(value):
        if isinstance(value, torch.Tensor):
            tensors.append(value)
            return {'__tensor__': len(tensors) - 1}
        if isinstance(value, dict):
            if all(isinstance(key, str) for key in value):
                return {key: skeleton(item) for key, item in value.items()}
            return {'__items__': [[key, skeleton(item)] for key, item in value.items()]}
        if isinstance(value, (list, tuple)):
            return [skeleton(item) for item in value]
        return value

    return {'format': FORMAT, 'state': json.dumps(skeleton(state)), 'tensors': tensors}


def _unpack(stored):
    tensors = stored['tensors']

    def restore(value):
        if isinstance(value, dict):
            if '__tensor__' in value:
                return tensors[value['__tensor__']]
            if '__items__' in value:
                return {key: restore(item) for key, item in value['__items__']}
            return {key: restore(item) for key, item in value.items()}
        if isinstance(value, list):
            return [restore(item) for item in value]
        return value

    return restore(json.loads(stored['state']))


def newest_checkpoint(directory, report):
    """The newest checkpoint that loads; an unreadable one (a torn copy) is reported and skipped."""
    for _, _, path in list_checkpoints(directory):
        try:
            return path, load_checkpoint(path)
        except Exception as error:  # torch.load raises many kinds for a damaged file
            report('skipping unreadable checkpoint %s: %s' % (path, error))
    return None, None
