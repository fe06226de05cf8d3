"""The training loop: mini-batch Adam (L2 on the weights, not the biases) on the preprocessed
inputs, mixed precision on a GPU, one metric line per epoch, early stopping on the validation
loss, and the spot contract: a checkpoint every `checkpoint_every` epochs and on SIGTERM, and a
restart from the newest one. Everything random — the initial weights and the order of the rows
— comes from the seed, and a checkpoint holds the state of the shuffling generator as of the
start of its epoch, so on CPU a resumed run takes the same steps as an uninterrupted one and
ends on the same weights."""

import copy
import hashlib
import math
import signal
import time

import numpy
import torch
from torch.nn import functional

from .checkpoints import newest_checkpoint, save_checkpoint
from .environment import TrainingError
from .network import ServingModel, feature_layout, numeric_statistics

EVALUATION_CHUNK_ROWS = 65_536
# The hyperparameters a checkpoint's trajectory depends on; the others may change on a restart.
TRAJECTORY_HYPERPARAMETERS = ('learning_rate', 'batch_size', 'l2', 'hidden_units', 'seed')


class Interrupted(Exception):
    """SIGTERM arrived; the checkpoint (if any) is written."""

    def __init__(self, epoch, step, path):
        super().__init__('interrupted at epoch %d step %d' % (epoch, step))
        self.epoch, self.step, self.path = epoch, step, path


class StopRequest:
    """SIGTERM (a spot reclaim or StopTrainingJob) only sets a flag: the step under way finishes,
    then the loop writes a checkpoint and leaves."""

    def __init__(self):
        self.signal = None

    def install(self):
        self.previous = signal.signal(signal.SIGTERM, self._handle)

    def uninstall(self):
        signal.signal(signal.SIGTERM, self.previous)

    def _handle(self, signum, frame):
        self.signal = signum


def _autocast(enabled):
    return torch.autocast(device_type='cuda', dtype=torch.float16, enabled=enabled)


def _grad_scaler(enabled):
    # torch.amp.GradScaler arrived in 2.3; torch.cuda.amp.GradScaler is deprecated from then on.
    if hasattr(torch, 'amp') and hasattr(torch.amp, 'GradScaler'):
        return torch.amp.GradScaler('cuda', enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def output_columns(spec, channels):
    if spec.problem_type != 'multiclass-classification':
        return 1
    if spec.class_labels is not None:
        return len(spec.class_labels)
    return max(2, int(max(channel.targets.max() for channel in channels)) + 1)


def fingerprint(spec, train, config, hyperparameters):
    digest = hashlib.sha256()
    digest.update(numpy.ascontiguousarray(train.features).tobytes())
    digest.update(numpy.ascontiguousarray(train.targets).tobytes())
    return {
        'model': spec.name,
        'problemType': spec.problem_type,
        'features': [feature.name for feature in spec.features],
        'outputs': config['outputs'],
        'trainRows': train.rows,
        'trainData': digest.hexdigest(),
        'hyperparameters': {name: getattr(hyperparameters, name) for name in TRAJECTORY_HYPERPARAMETERS},
    }


class Trainer:
    def __init__(self, spec, train, validation, hyperparameters, checkpoint_dir, device, log, stop):
        self.spec, self.train_data, self.validation_data = spec, train, validation
        self.hp, self.checkpoint_dir, self.device, self.log, self.stop = (
            hyperparameters, checkpoint_dir, device, log, stop)
        self.amp = device.type == 'cuda'
        channels = [train] + ([validation] if validation else [])
        padding = {'layers': hyperparameters.latency_padding_layers, 'width': hyperparameters.latency_padding_width}
        self.config = {'problem_type': spec.problem_type, 'outputs': output_columns(spec, channels),
                       'hidden_units': hyperparameters.hidden_units, 'layout': feature_layout(spec), 'padding': padding}
        self.fingerprint = fingerprint(spec, train, self.config, hyperparameters)
        torch.manual_seed(hyperparameters.seed)
        self.model = ServingModel(self.config)
        means, scales = numeric_statistics(train.features, self.config['layout']['numeric_index'])
        target_mean, target_scale = 0.0, 1.0
        if spec.problem_type == 'regression':
            target_mean = float(train.targets.mean())
            deviation = float(train.targets.std(ddof=1)) if train.rows > 1 else 0.0
            target_scale = deviation if deviation > 0 and math.isfinite(deviation) else 1.0
        self.model.set_statistics(means, scales, target_mean, target_scale)
        self.model.to(device)
        weights = [p for name, p in self.model.body.named_parameters() if name.endswith('weight')]
        biases = [p for name, p in self.model.body.named_parameters() if not name.endswith('weight')]
        self.optimizer = torch.optim.Adam([{'params': weights, 'weight_decay': hyperparameters.l2},
                                           {'params': biases, 'weight_decay': 0.0}], lr=hyperparameters.learning_rate)
        self.scaler = _grad_scaler(self.amp)
        self.generator = torch.Generator().manual_seed(hyperparameters.seed)
        self.epoch, self.step = 0, 0
        self.epoch_generator_state = None
        self.loss_sum, self.loss_rows = 0.0, 0
        self.best = {'loss': math.inf, 'epoch': 0, 'bad_epochs': 0, 'body': None}
        self.stopped_early = False
        self.last_epoch_metrics = {}
        self.resumed_from_epoch = 0

    # -- checkpoints -------------------------------------------------------------------------

    def resume(self):
        path, state = newest_checkpoint(self.checkpoint_dir, self.log)
        if state is None:
            return
        if state['fingerprint'] != self.fingerprint:
            differs = sorted(key for key in self.fingerprint if state['fingerprint'].get(key) != self.fingerprint[key])
            raise TrainingError(
                'checkpoint %s belongs to another run (%s differ); empty the checkpoint folder or use a new one'
                % (path, ', '.join(differs)))
        self.model.load_state_dict(state['model'])
        self.optimizer.load_state_dict(state['optimizer'])
        if state['scaler']:
            self.scaler.load_state_dict(state['scaler'])
        self.generator.set_state(state['generator'])
        torch.set_rng_state(state['torch_rng'])
        if self.device.type == 'cuda' and state.get('cuda_rng'):
            torch.cuda.set_rng_state_all(state['cuda_rng'])
        self.epoch, self.step = state['epoch'], state['step']
        self.epoch_generator_state = state['epoch_generator']
        self.loss_sum, self.loss_rows = state['loss_sum'], state['loss_rows']
        self.best = dict(state['best'])
        self.stopped_early = state['stopped_early']
        self.last_epoch_metrics = dict(state['last_epoch_metrics'])
        self.resumed_from_epoch = self.epoch
        self.log('resuming from epoch %d%s (checkpoint %s)'
                 % (self.epoch, ' step %d' % self.step if self.step else '', path))

    def checkpoint(self, finished=False):
        if self.checkpoint_dir is None:
            return None
        state = {
            'fingerprint': self.fingerprint, 'config': self.config, 'epoch': self.epoch, 'step': self.step,
            'finished': finished, 'model': _cpu(self.model.state_dict()),
            'optimizer': _cpu(self.optimizer.state_dict()), 'scaler': self.scaler.state_dict(),
            'generator': self.generator.get_state(), 'epoch_generator': self.epoch_generator_state,
            'torch_rng': torch.get_rng_state(),
            'cuda_rng': torch.cuda.get_rng_state_all() if self.device.type == 'cuda' else [],
            'loss_sum': self.loss_sum, 'loss_rows': self.loss_rows, 'best': self.best,
            'stopped_early': self.stopped_early, 'last_epoch_metrics': self.last_epoch_metrics,
            'hyperparameters': self.hp.as_dict(),
        }
        if finished:
            state['exported'] = _cpu(self.model.state_dict())
        return save_checkpoint(self.checkpoint_dir, state)

    def _interrupt(self):
        path = self.checkpoint()
        raise Interrupted(self.epoch, self.step, path)

    # -- training ----------------------------------------------------------------------------

    def _targets(self, channel):
        targets = torch.from_numpy(channel.targets)
        if self.spec.problem_type == 'multiclass-classification':
            return targets.long().to(self.device)
        if self.spec.problem_type == 'regression':
            targets = (targets - self.model.target_mean.item()) / self.model.target_scale.item()
        return targets.float().to(self.device)

    def _design(self, channel):
        with torch.no_grad():
            return self.model.preprocess(torch.from_numpy(channel.features).to(self.device))

    def _loss(self, logits, targets):
        if self.spec.problem_type == 'binary-classification':
            return functional.binary_cross_entropy_with_logits(logits[:, 0], targets)
        if self.spec.problem_type == 'multiclass-classification':
            return functional.cross_entropy(logits, targets)
        return functional.mse_loss(logits[:, 0], targets)

    def fit(self):
        started = time.monotonic()
        design, targets = self._design(self.train_data), self._targets(self.train_data)
        validation = None
        if self.validation_data is not None:
            validation = (self._design(self.validation_data), self._targets(self.validation_data))
        rows, batch = design.shape[0], self.hp.batch_size
        batches = (rows + batch - 1) // batch
        if self.stop.signal is not None:
            raise Interrupted(self.epoch, self.step, None)
        while self.epoch < self.hp.epochs and not self.stopped_early:
            if self.step == 0:
                self.epoch_generator_state = self.generator.get_state()
                self.loss_sum, self.loss_rows = 0.0, 0
            else:  # resumed mid-epoch: the same order of rows as the interrupted run drew
                self.generator.set_state(self.epoch_generator_state)
            order = torch.randperm(rows, generator=self.generator).to(self.device)
            self.model.train()
            while self.step < batches:
                index = order[self.step * batch:(self.step + 1) * batch]
                self.optimizer.zero_grad(set_to_none=True)
                with _autocast(self.amp):
                    loss = self._loss(self.model.body(design[index]), targets[index])
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
                self.loss_sum += loss.item() * len(index)
                self.loss_rows += len(index)
                self.step += 1
                if self.stop.signal is not None:
                    self._interrupt()
            self._end_epoch(validation)
            if self.epoch % self.hp.checkpoint_every == 0 and self.epoch < self.hp.epochs and not self.stopped_early:
                self.checkpoint()
            if self.stop.signal is not None:
                self._interrupt()
        if self.best['body'] is not None:
            self.model.body.load_state_dict(self.best['body'])
        self.checkpoint(finished=True)
        return self._summary(design, targets, validation, time.monotonic() - started)

    def _end_epoch(self, validation):
        self.epoch += 1
        self.step = 0
        metrics = {'train_loss': self.loss_sum / max(1, self.loss_rows)}
        if validation is not None:
            metrics.update(_prefixed('validation', self.evaluate(*validation)))
            if self.hp.patience > 0:
                self._early_stopping(metrics['validation_loss'])
        self.last_epoch_metrics = metrics
        self.log(metric_line('epoch=%d' % self.epoch, metrics))

    def _early_stopping(self, loss):
        if loss < self.best['loss']:
            self.best = {'loss': loss, 'epoch': self.epoch, 'bad_epochs': 0, 'body': _cpu(self.model.body.state_dict())}
            return
        self.best['bad_epochs'] += 1
        if self.best['bad_epochs'] >= self.hp.patience:
            self.stopped_early = True
            self.log('early stopping at epoch %d: validation_loss has not improved for %d epochs; keeping epoch %d'
                     % (self.epoch, self.hp.patience, self.best['epoch']))

    def evaluate(self, design, targets):
        """Loss and metrics of the current weights, in float32, without autocast."""
        self.model.eval()
        total, rows = 0.0, design.shape[0]
        correct, absolute, squared = 0.0, 0.0, 0.0
        scale = self.model.target_scale.item()
        with torch.no_grad():
            for start in range(0, rows, EVALUATION_CHUNK_ROWS):
                logits = self.model.body(design[start:start + EVALUATION_CHUNK_ROWS])
                expected = targets[start:start + EVALUATION_CHUNK_ROWS]
                total += self._loss(logits, expected).item() * len(expected)
                if self.spec.problem_type == 'binary-classification':
                    correct += ((logits[:, 0] > 0).float() == expected).sum().item()
                elif self.spec.problem_type == 'multiclass-classification':
                    correct += (logits.argmax(1) == expected).sum().item()
                else:
                    error = (logits[:, 0] - expected).double() * scale
                    absolute += error.abs().sum().item()
                    squared += (error * error).sum().item()
        self.model.train()
        metrics = {'loss': total / rows}
        if self.spec.classification:
            metrics['accuracy'] = correct / rows
        else:
            metrics['rmse'] = math.sqrt(squared / rows)
            metrics['mae'] = absolute / rows
        return metrics

    def _summary(self, design, targets, validation, seconds):
        final = _prefixed('train', self.evaluate(design, targets))
        if validation is not None:
            final.update(_prefixed('validation', self.evaluate(*validation)))
        self.log(metric_line('final epochs=%d' % self.epoch, final))
        return {
            'final': final,
            'lastEpoch': self.last_epoch_metrics,
            'epochsCompleted': self.epoch,
            'resumedFromEpoch': self.resumed_from_epoch,
            'stoppedEarly': self.stopped_early,
            'bestEpoch': self.best['epoch'] if self.best['body'] is not None else None,
            'outputs': self.config['outputs'],
            'seconds': seconds,
        }


def metric_line(prefix, metrics):
    """`epoch=3 train_loss=0.412300 validation_loss=0.398100 validation_accuracy=0.871200`."""
    return ' '.join([prefix] + ['%s=%.6f' % (name, value) for name, value in metrics.items()])


def _prefixed(prefix, metrics):
    return {'%s_%s' % (prefix, name): value for name, value in metrics.items()}


def _cpu(state):
    """A deep copy with every tensor on the CPU (a checkpoint must load without a GPU)."""
    if isinstance(state, torch.Tensor):
        return state.detach().to('cpu').clone()
    if isinstance(state, dict):
        return {key: _cpu(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu(value) for value in state)
    return copy.deepcopy(state)
