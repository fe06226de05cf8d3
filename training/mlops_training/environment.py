"""The SageMaker training toolkit's contract as this program reads it: where the channels, the
model directory, the output and the checkpoints are (every path overridable through the SM_*
environment, so an offline runner can lay /opt/ml out under a temp folder), and the
hyperparameters (CLI args, SM_HPS or hyperparameters.json), validated with errors that name the
hyperparameter, the value and the rule."""

import json
import os
import re
from dataclasses import asdict, dataclass


class TrainingError(Exception):
    """A problem with the job's inputs: reported as one line, in /opt/ml/output/failure, exit 1."""


# Names the SageMaker toolkit and automatic model tuning add to every job's hyperparameters.
RESERVED_PREFIXES = ('sagemaker_', '_tuning_')

DECIMAL_PATTERN = re.compile(r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?', re.ASCII)


@dataclass(frozen=True)
class Paths:
    model_dir: str
    output_dir: str
    output_data_dir: str
    input_dir: str
    checkpoint_dir: str
    environ: dict

    def channel(self, name):
        """SM_CHANNEL_<NAME>, else <input dir>/data/<name> as the toolkit lays it out."""
        return self.environ.get('SM_CHANNEL_' + name.upper(), os.path.join(self.input_dir, 'data', name))

    @property
    def failure_file(self):
        return os.path.join(self.output_dir, 'failure')


def paths_from_environment(environ=None):
    environ = os.environ if environ is None else environ
    base = '/opt/ml'
    output_dir = environ.get('SM_OUTPUT_DIR', os.path.join(base, 'output'))
    return Paths(
        model_dir=environ.get('SM_MODEL_DIR', os.path.join(base, 'model')),
        output_dir=output_dir,
        output_data_dir=environ.get('SM_OUTPUT_DATA_DIR', os.path.join(output_dir, 'data')),
        input_dir=environ.get('SM_INPUT_DIR', os.path.join(base, 'input')),
        # Not a toolkit variable: /opt/ml/checkpoints is SageMaker's fixed default local path.
        checkpoint_dir=environ.get('SM_CHECKPOINT_DIR', os.path.join(base, 'checkpoints')),
        environ=dict(environ),
    )


@dataclass(frozen=True)
class Hyperparameters:
    epochs: int = 30
    learning_rate: float = 0.01
    batch_size: int = 256
    l2: float = 1e-4
    hidden_units: int = 0
    seed: int = 42
    checkpoint_every: int = 5
    patience: int = 0
    latency_padding_layers: int = 0
    latency_padding_width: int = 512
    max_bad_row_fraction: float = 0.0

    def as_dict(self):
        return asdict(self)


# name: (kind, low, high, low inclusive, rule as printed)
RULES = {
    'epochs': (int, 1, 100_000, True, 'a whole number 1-100000'),
    'learning_rate': (float, 0, 10, False, 'in (0, 10]'),
    'batch_size': (int, 1, 1_000_000, True, 'a whole number 1-1000000'),
    'l2': (float, 0, 10, True, 'in [0, 10]'),
    'hidden_units': (int, 0, 4096, True, 'a whole number 0-4096 (0 = linear model)'),
    'seed': (int, 0, 2**32 - 1, True, 'a whole number 0-4294967295'),
    'checkpoint_every': (int, 1, 100_000, True, 'a whole number 1-100000 (epochs)'),
    'patience': (int, 0, 100_000, True, 'a whole number 0-100000 (0 = no early stopping)'),
    'latency_padding_layers': (int, 0, 50_000, True, 'a whole number 0-50000'),
    'latency_padding_width': (int, 1, 4096, True, 'a whole number 1-4096'),
    'max_bad_row_fraction': (float, 0, 1, True, 'in [0, 1]'),
}


def parse_hyperparameters(raw):
    """Validates {name: text} (SageMaker passes every value as a string) into Hyperparameters."""
    names = [name for name in raw if not name.startswith(RESERVED_PREFIXES)]
    unknown = [name for name in names if name not in RULES]
    if unknown:
        raise TrainingError(
            'unknown hyperparameter %s; known: %s'
            % (', '.join('"%s"' % name for name in unknown), ', '.join(RULES))
        )
    values = {}
    for name in names:
        kind, low, high, low_inclusive, rule = RULES[name]
        text = _text(raw[name]).strip()
        problem = 'hyperparameter %s must be %s, got "%s"' % (name, rule, _text(raw[name]))
        if not DECIMAL_PATTERN.fullmatch(text):
            raise TrainingError(problem)
        number = float(text)
        if kind is int and not number.is_integer():
            raise TrainingError(problem)
        if number > high or number < low or (number == low and not low_inclusive):
            raise TrainingError(problem)
        values[name] = int(number) if kind is int else number
    return Hyperparameters(**values)


def _text(value):
    # SM_HPS holds JSON values (the toolkit decodes "10" to 10); a JSON true reads as its JSON text.
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value if isinstance(value, str) else json.dumps(value)


def raw_hyperparameters(arguments, environ=None, input_dir=None):
    """Merges the toolkit's sources: hyperparameters.json (only when neither of the others is
    given: a bring-your-own-container entry point sees nothing else), then SM_HPS, then the CLI."""
    environ = os.environ if environ is None else environ
    cli = _parse_cli(arguments)
    merged = {}
    sm_hps = environ.get('SM_HPS')
    if sm_hps:
        try:
            decoded = json.loads(sm_hps)
        except ValueError as error:
            raise TrainingError('SM_HPS is not JSON: %s' % error) from None
        if not isinstance(decoded, dict):
            raise TrainingError('SM_HPS must be a JSON object, got %s' % type(decoded).__name__)
        merged.update(decoded)
    elif not cli:
        file = os.path.join(input_dir or '/opt/ml/input', 'config', 'hyperparameters.json')
        if os.path.isfile(file):
            with open(file, encoding='utf-8') as handle:
                merged.update(json.load(handle))
    merged.update(cli)
    return merged


def _parse_cli(arguments):
    """`--name value` or `--name=value` pairs, as the toolkit passes hyperparameters."""
    values = {}
    at = 0
    while at < len(arguments):
        argument = arguments[at]
        if not argument.startswith('--') or len(argument) == 2:
            raise TrainingError('expected --<hyperparameter> <value>, got "%s"' % argument)
        name = argument[2:]
        if '=' in name:
            name, value = name.split('=', 1)
            at += 1
        elif at + 1 < len(arguments):
            value = arguments[at + 1]
            at += 2
        else:
            raise TrainingError('hyperparameter --%s has no value' % name)
        values[name] = value
    return values


# Automatic model tuning adds this hyperparameter to every training job it starts.
TUNING_OBJECTIVE_HYPERPARAMETER = '_tuning_objective_metric'


def job_checkpoint_dir(checkpoint_dir, raw, environ=None):
    """The folder this job checkpoints to. A tuning job gives all its training jobs one
    CheckpointConfig.S3Uri; each writes under a folder named after itself, so none resumes
    from (or is refused for) another's checkpoint written with other hyperparameters. One job's
    restarts after a spot reclaim keep its name, so they resume as before."""
    environ = os.environ if environ is None else environ
    if TUNING_OBJECTIVE_HYPERPARAMETER not in raw:
        return checkpoint_dir
    name = environ.get('TRAINING_JOB_NAME', '').strip()
    if not name:
        try:
            name = str(json.loads(environ.get('SM_TRAINING_ENV') or '{}').get('job_name') or '').strip()
        except (ValueError, AttributeError):
            name = ''
    if not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9-]{0,62}', name):
        raise TrainingError('a tuning job\'s training job needs its name (TRAINING_JOB_NAME) to keep its checkpoints apart, got "%s"' % name)
    return os.path.join(checkpoint_dir, name)


def use_cuda(torch, environ=None):
    """The GPU when torch sees one, unless SM_NUM_GPUS says the instance has none."""
    environ = os.environ if environ is None else environ
    if environ.get('SM_NUM_GPUS', '').strip() == '0':
        return False
    return torch.cuda.is_available()
