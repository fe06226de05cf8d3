"""The job from start to end: read the environment, the hyperparameters and the model document,
encode the channels, train (resuming from a checkpoint when there is one), export model.onnx
and write metrics.json and serving-schema.json. A problem with the inputs ends the job with one line on stderr, the same
line in the failure file SageMaker reports as FailureReason, and exit code 1."""

import json
import os
import sys
import time
import traceback

EXIT_INVALID_INPUT = 1
EXIT_INTERNAL_ERROR = 2
# 128 + SIGTERM, what a shell reports for a process ended by the signal.
EXIT_INTERRUPTED = 143
# contracts/serving-schema.ts SERVING_SCHEMA_FILE: the serving schema (with the training ranges) in the model folder.
SERVING_SCHEMA_FILE = 'serving-schema.json'


def log(line):
    print(line, flush=True)


def main(arguments, environ=None):
    environ = os.environ if environ is None else environ
    # Imported here so that a missing torch is reported like any other failure.
    from .environment import TrainingError, paths_from_environment

    paths = paths_from_environment(environ)
    try:
        return _run(arguments, environ, paths)
    except TrainingError as error:
        return _fail(paths, str(error), EXIT_INVALID_INPUT)
    except Exception as error:  # anything else is this program's fault: keep the traceback
        traceback.print_exc()
        return _fail(paths, 'internal error: %s: %s' % (type(error).__name__, error), EXIT_INTERNAL_ERROR)


def _fail(paths, message, code):
    print('training failed: %s' % message, file=sys.stderr, flush=True)
    try:
        os.makedirs(paths.output_dir, exist_ok=True)
        with open(paths.failure_file, 'w', encoding='utf-8') as handle:
            handle.write(message + '\n')
    except OSError as error:
        print('could not write %s: %s' % (paths.failure_file, error), file=sys.stderr, flush=True)
    return code


def _run(arguments, environ, paths):
    from .fit import StopRequest

    started = time.monotonic()
    stop = StopRequest()
    stop.install()
    try:
        return _train(arguments, environ, paths, stop, started)
    finally:
        stop.uninstall()


def _train(arguments, environ, paths, stop, started):
    import torch

    from .datasets import read_channel
    from .environment import TrainingError, job_checkpoint_dir, parse_hyperparameters, raw_hyperparameters, use_cuda
    from .fit import Interrupted, Trainer
    from .model_document import document_path, load_model_document
    from .network import export_onnx

    raw = raw_hyperparameters(arguments, environ, paths.input_dir)
    hyperparameters = parse_hyperparameters(raw)
    spec = load_model_document(document_path(paths, environ))
    train = read_channel('train', paths.channel('train'), spec, hyperparameters.max_bad_row_fraction)
    validation_dir = paths.channel('validation')
    validation = None
    if os.path.isdir(validation_dir):
        # The pipeline always sends a validation channel; a split with validationFraction 0 holds a header only.
        validation = read_channel('validation', validation_dir, spec, hyperparameters.max_bad_row_fraction, allow_empty=True)
        if validation is None:
            log('channel validation: no data rows; training without validation')
    if hyperparameters.patience > 0 and validation is None:
        raise TrainingError('patience %d needs a validation channel (early stopping watches validation_loss)'
                            % hyperparameters.patience)
    for channel in filter(None, (train, validation)):
        log('channel %s: %d rows from %d file%s%s' % (
            channel.name, channel.rows, len(channel.files), '' if len(channel.files) == 1 else 's',
            ', %d skipped (first: %s)' % (channel.bad_rows, channel.examples[0]) if channel.bad_rows else ''))
    checkpoint_dir = _usable_checkpoint_dir(job_checkpoint_dir(paths.checkpoint_dir, raw, environ))
    device = torch.device('cuda' if use_cuda(torch, environ) else 'cpu')
    log('torch %s on %s%s; hyperparameters %s' % (
        torch.__version__, device.type, ' with mixed precision' if device.type == 'cuda' else '',
        json.dumps(hyperparameters.as_dict(), sort_keys=True)))
    trainer = Trainer(spec, train, validation, hyperparameters, checkpoint_dir, device, log, stop)
    trainer.resume()
    try:
        summary = trainer.fit()
    except Interrupted as interruption:
        log('received SIGTERM at epoch %d step %d: %s; exiting with code %d' % (
            interruption.epoch, interruption.step,
            'checkpoint written to %s' % interruption.path if interruption.path else 'no checkpoint written',
            EXIT_INTERRUPTED))
        return EXIT_INTERRUPTED
    os.makedirs(paths.model_dir, exist_ok=True)
    export_started = time.monotonic()
    export_onnx(trainer.model, os.path.join(paths.model_dir, 'model.onnx'))
    metrics = _metrics(spec, train, validation, hyperparameters, summary, torch, device)
    metrics['exportSeconds'] = round(time.monotonic() - export_started, 3)
    metrics['totalSeconds'] = round(time.monotonic() - started, 3)
    with open(os.path.join(paths.model_dir, 'metrics.json'), 'w', encoding='utf-8') as handle:
        json.dump(metrics, handle, indent=1, sort_keys=True)
        handle.write('\n')
    # Beside the model, so every server of this version knows its encoding and its training ranges.
    with open(os.path.join(paths.model_dir, SERVING_SCHEMA_FILE), 'w', encoding='utf-8') as handle:
        json.dump(spec.serving_schema, handle, indent=1, sort_keys=True)
        handle.write('\n')
    log('wrote %s, metrics.json and %s (%d epochs, %.2f s training)' % (
        os.path.join(paths.model_dir, 'model.onnx'), SERVING_SCHEMA_FILE, summary['epochsCompleted'], summary['seconds']))
    return 0


def _usable_checkpoint_dir(directory):
    """Checkpoints are for spot restarts; a job without a writable folder trains without them."""
    try:
        os.makedirs(directory, exist_ok=True)
        probe = os.path.join(directory, '.write-probe-%d' % os.getpid())
        with open(probe, 'w'):
            pass
        os.remove(probe)
        return directory
    except OSError as error:
        log('checkpoints off: %s is not writable (%s)' % (directory, error))
        return None


def _metrics(spec, train, validation, hyperparameters, summary, torch, device):
    final = summary['final']
    return {
        'model': spec.name,
        'problemType': spec.problem_type,
        'outputColumns': summary['outputs'],
        'trainingRows': train.rows,
        'skippedRows': train.bad_rows,
        'validationRows': validation.rows if validation else 0,
        'validationSkippedRows': validation.bad_rows if validation else 0,
        'finalLoss': final['train_loss'],
        'train': {key[len('train_'):]: value for key, value in final.items() if key.startswith('train_')},
        'validation': {key[len('validation_'):]: value for key, value in final.items()
                       if key.startswith('validation_')} or None,
        'lastEpoch': summary['lastEpoch'],
        'epochs': hyperparameters.epochs,
        'epochsCompleted': summary['epochsCompleted'],
        'stoppedEarly': summary['stoppedEarly'],
        'bestEpoch': summary['bestEpoch'],
        'resumedFromEpoch': summary['resumedFromEpoch'],
        'hyperparameters': hyperparameters.as_dict(),
        'torchVersion': torch.__version__,
        'device': device.type,
        'mixedPrecision': device.type == 'cuda',
        'trainingSeconds': round(summary['seconds'], 3),
    }
