"""Managed spot: periodic checkpoints, SIGTERM mid-training, and a restart that resumes from the
newest checkpoint and ends on exactly the weights of an uninterrupted run (CPU, same seed)."""

import contextlib
import io
import os
import re
import signal
import unittest

import torch

import support
from mlops_training.checkpoints import list_checkpoints, load_checkpoint

ARGUMENTS = ('--epochs', '30', '--batch_size', '8', '--checkpoint_every', '10', '--seed', '3')


def quietly(workspace, *arguments):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = workspace.run(*arguments)
    return code, out.getvalue()


def exported_weights(workspace):
    (_, _, path), *_ = list_checkpoints(workspace.path('checkpoints'))
    return load_checkpoint(path)['exported']


class CheckpointTest(unittest.TestCase):
    def setUp(self):
        self.workspaces = []

    def tearDown(self):
        for workspace in self.workspaces:
            workspace.close()

    def workspace(self):
        workspace = support.Workspace(support.model_document())
        workspace.write_train(support.churn_rows(1500))
        workspace.write_validation(support.churn_rows(200, seed=8))
        self.workspaces.append(workspace)
        return workspace

    def test_sigterm_writes_a_checkpoint_and_the_rerun_ends_on_the_uninterrupted_weights(self):
        interrupted = self.workspace()
        process = interrupted.spawn(*ARGUMENTS)
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith('epoch=3 '):
                process.send_signal(signal.SIGTERM)
                break
        out, err = process.communicate(timeout=60)
        output = ''.join(lines) + out
        self.assertEqual(process.returncode, 143, output + err)
        match = re.search(r'(?m)^received SIGTERM at epoch (\d+) step (\d+): checkpoint written to (\S+); '
                          r'exiting with code 143$', output)
        self.assertIsNotNone(match, output)
        epoch, step, path = int(match[1]), int(match[2]), match[3]
        self.assertTrue(os.path.isfile(path))
        self.assertEqual(list_checkpoints(interrupted.path('checkpoints'))[0][:2], (epoch, step))
        self.assertFalse(os.path.exists(interrupted.path('model', 'model.onnx')))

        code, resumed = quietly(interrupted, *ARGUMENTS)
        self.assertEqual(code, 0)
        self.assertIn('resuming from epoch %d%s (checkpoint %s)' % (epoch, ' step %d' % step if step else '', path), resumed)
        self.assertEqual(interrupted.metrics()['resumedFromEpoch'], epoch)
        self.assertNotIn('epoch=%d ' % epoch, resumed)

        uninterrupted = self.workspace()
        code, _ = quietly(uninterrupted, *ARGUMENTS)
        self.assertEqual(code, 0)
        expected, actual = exported_weights(uninterrupted), exported_weights(interrupted)
        self.assertEqual(set(expected), set(actual))
        for name in expected:
            self.assertTrue(torch.equal(expected[name], actual[name]), name)

    def test_checkpoints_are_written_every_n_epochs_and_the_newest_two_kept(self):
        workspace = self.workspace()
        code, _ = quietly(workspace, '--epochs', '7', '--checkpoint_every', '2')
        self.assertEqual(code, 0)
        names = sorted(os.listdir(workspace.path('checkpoints')))
        self.assertEqual(names, ['checkpoint-epoch-000006-step-000000.pt', 'checkpoint-epoch-000007-step-000000.pt'])
        state = load_checkpoint(workspace.path('checkpoints', names[0]))
        self.assertEqual(state['epoch'], 6)
        for key in ('model', 'optimizer', 'generator', 'torch_rng', 'fingerprint', 'config'):
            self.assertIn(key, state)
        self.assertIn('numeric_mean', state['model'])  # the preprocessing statistics travel with the weights

    def test_rerunning_a_finished_job_exports_again_without_training(self):
        workspace = self.workspace()
        self.assertEqual(quietly(workspace, '--epochs', '3')[0], 0)
        code, out = quietly(workspace, '--epochs', '3')
        self.assertEqual(code, 0)
        self.assertIn('resuming from epoch 3 ', out)
        self.assertNotRegex(out, r'(?m)^epoch=')

    def test_a_checkpoint_of_another_run_is_refused(self):
        workspace = self.workspace()
        self.assertEqual(quietly(workspace, '--epochs', '2')[0], 0)
        code, _ = quietly(workspace, '--epochs', '2', '--seed', '4')
        self.assertEqual(code, 1)
        self.assertRegex(workspace.failure(), r'^checkpoint .* belongs to another run \(hyperparameters differ\)')

    def test_a_torn_newest_checkpoint_is_skipped_for_the_one_before(self):
        workspace = self.workspace()
        self.assertEqual(quietly(workspace, '--epochs', '4', '--checkpoint_every', '2')[0], 0)
        newest = workspace.path('checkpoints', 'checkpoint-epoch-000004-step-000000.pt')
        with open(newest, 'r+b') as handle:
            handle.truncate(100)
        code, out = quietly(workspace, '--epochs', '4', '--checkpoint_every', '2')
        self.assertEqual(code, 0)
        self.assertIn('skipping unreadable checkpoint %s' % newest, out)
        self.assertIn('resuming from epoch 2 ', out)


if __name__ == '__main__':
    unittest.main()
