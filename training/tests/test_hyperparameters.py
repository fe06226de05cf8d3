"""Hyperparameters: the toolkit's three sources, validation, and SageMaker's own names ignored."""

import json
import os
import tempfile
import unittest

import support  # noqa: F401  (puts the training folder on sys.path)
from mlops_training.environment import (
    Hyperparameters,
    TrainingError,
    job_checkpoint_dir,
    parse_hyperparameters,
    paths_from_environment,
    raw_hyperparameters,
)


class HyperparameterTest(unittest.TestCase):
    def test_defaults_apply_when_nothing_is_given(self):
        self.assertEqual(parse_hyperparameters({}), Hyperparameters())

    def test_string_values_from_the_toolkit_become_numbers(self):
        parsed = parse_hyperparameters({'epochs': '12', 'learning_rate': '0.05', 'hidden_units': '16', 'l2': '0',
                                        'batch_size': '1e3', 'max_bad_row_fraction': '0.01'})
        self.assertEqual((parsed.epochs, parsed.learning_rate, parsed.hidden_units, parsed.l2, parsed.batch_size),
                         (12, 0.05, 16, 0.0, 1000))
        self.assertIsInstance(parsed.epochs, int)

    def test_sagemaker_and_tuning_names_are_ignored_not_unknown(self):
        parsed = parse_hyperparameters({
            'sagemaker_program': 'train.py', 'sagemaker_submit_directory': 's3://b/k/sourcedir.tar.gz',
            'sagemaker_region': 'eu-west-1', 'sagemaker_container_log_level': '20',
            '_tuning_objective_metric': 'validation:loss', 'epochs': '3'})
        self.assertEqual(parsed.epochs, 3)

    def test_an_unknown_name_is_refused_naming_it_and_the_known_ones(self):
        with self.assertRaises(TrainingError) as caught:
            parse_hyperparameters({'epoch': '3'})
        self.assertIn('unknown hyperparameter "epoch"', str(caught.exception))
        self.assertIn('learning_rate', str(caught.exception))

    def test_bad_values_are_refused_with_the_rule(self):
        cases = {
            'epochs': ['0', '1.5', 'ten', '', 'nan', '100001'],
            'learning_rate': ['0', '-0.1', '11', 'inf'],
            'batch_size': ['0', '2.5'],
            'l2': ['-1'],
            'hidden_units': ['-1', '4097'],
            'seed': ['-1', '4294967296'],
            'checkpoint_every': ['0'],
            'patience': ['-2'],
            'latency_padding_layers': ['50001'],
            'latency_padding_width': ['0'],
            'max_bad_row_fraction': ['1.5'],
        }
        for name, values in cases.items():
            for value in values:
                with self.subTest(name=name, value=value), self.assertRaises(TrainingError) as caught:
                    parse_hyperparameters({name: value})
                self.assertRegex(str(caught.exception), r'^hyperparameter %s must be .+, got "%s"$' % (name, value))

    def test_cli_arguments_override_sm_hps(self):
        raw = raw_hyperparameters(['--epochs', '7', '--learning_rate=0.2'],
                                  {'SM_HPS': json.dumps({'epochs': 3, 'seed': 9, 'sagemaker_program': 'train.py'})})
        self.assertEqual(raw, {'epochs': '7', 'seed': 9, 'learning_rate': '0.2', 'sagemaker_program': 'train.py'})
        parsed = parse_hyperparameters(raw)
        self.assertEqual((parsed.epochs, parsed.seed, parsed.learning_rate), (7, 9, 0.2))

    def test_hyperparameters_json_is_read_when_nothing_else_is_given(self):
        with tempfile.TemporaryDirectory() as directory:
            os.makedirs(os.path.join(directory, 'config'))
            with open(os.path.join(directory, 'config', 'hyperparameters.json'), 'w') as handle:
                json.dump({'epochs': '4'}, handle)
            self.assertEqual(raw_hyperparameters([], {}, directory), {'epochs': '4'})

    def test_a_malformed_command_line_is_refused(self):
        for arguments in (['epochs', '3'], ['--epochs'], ['--']):
            with self.subTest(arguments=arguments), self.assertRaises(TrainingError):
                raw_hyperparameters(arguments, {})

    def test_every_path_follows_the_sm_environment(self):
        paths = paths_from_environment({'SM_MODEL_DIR': '/t/model', 'SM_OUTPUT_DIR': '/t/output',
                                        'SM_INPUT_DIR': '/t/input', 'SM_CHECKPOINT_DIR': '/t/checkpoints',
                                        'SM_CHANNEL_TRAIN': '/t/train'})
        self.assertEqual((paths.model_dir, paths.failure_file, paths.checkpoint_dir, paths.output_data_dir),
                         ('/t/model', '/t/output/failure', '/t/checkpoints', '/t/output/data'))
        self.assertEqual(paths.channel('train'), '/t/train')
        self.assertEqual(paths.channel('validation'), '/t/input/data/validation')
        defaults = paths_from_environment({})
        self.assertEqual((defaults.model_dir, defaults.checkpoint_dir, defaults.channel('train')),
                         ('/opt/ml/model', '/opt/ml/checkpoints', '/opt/ml/input/data/train'))


class JobCheckpointDirTest(unittest.TestCase):
    def test_a_single_job_uses_the_checkpoint_folder_itself(self):
        self.assertEqual(job_checkpoint_dir('/opt/ml/checkpoints', {'epochs': '3'}, {'TRAINING_JOB_NAME': 'churn-1'}),
                         '/opt/ml/checkpoints')

    def test_a_tuning_job_s_training_job_checkpoints_under_its_own_name(self):
        raw = {'_tuning_objective_metric': 'validation:loss', 'learning_rate': '0.05'}
        self.assertEqual(job_checkpoint_dir('/opt/ml/checkpoints', raw, {'TRAINING_JOB_NAME': 'tune-abc-002-0a1b2c3d'}),
                         '/opt/ml/checkpoints/tune-abc-002-0a1b2c3d')
        toolkit = {'SM_TRAINING_ENV': json.dumps({'job_name': 'tune-abc-003-0a1b2c3e'})}
        self.assertEqual(job_checkpoint_dir('/c', raw, toolkit), '/c/tune-abc-003-0a1b2c3e')

    def test_a_tuning_job_s_training_job_without_a_usable_name_is_refused(self):
        raw = {'_tuning_objective_metric': 'validation:loss'}
        for environ in ({}, {'TRAINING_JOB_NAME': '../escape'}, {'SM_TRAINING_ENV': 'not json'}):
            with self.subTest(environ=environ), self.assertRaises(TrainingError):
                job_checkpoint_dir('/c', raw, environ)


if __name__ == '__main__':
    unittest.main()
