"""The whole job in this process: each problem type trains and writes model.onnx + metrics.json,
and every input problem ends in one clear line, the failure file and exit code 1."""

import contextlib
import io
import json
import os
import re
import shutil
import unittest

import support

try:
    import onnx
except ImportError:  # only for reading the exported graph here; the program never needs it
    onnx = None


class TrainingJobTest(unittest.TestCase):
    def setUp(self):
        self.workspace = support.Workspace(support.model_document())
        self.workspace.write_train(support.churn_rows(1500))
        self.workspace.write_validation(support.churn_rows(300, seed=8))

    def tearDown(self):
        self.workspace.close()

    def run_job(self, *arguments):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = self.workspace.run(*arguments)
        return code, out.getvalue(), err.getvalue()

    def assertModelGraph(self, features, outputs):
        path = self.workspace.path('model', 'model.onnx')
        self.assertGreater(os.path.getsize(path), 0)
        if onnx is None:
            return
        model = onnx.load(path)
        onnx.checker.check_model(model)
        self.assertLessEqual(max(opset.version for opset in model.opset_import), 17)
        (graph_input,), (graph_output,) = model.graph.input, model.graph.output
        shape = lambda value: [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]  # noqa: E731
        self.assertEqual((graph_input.name, graph_input.type.tensor_type.elem_type, shape(graph_input)),
                         ('features', onnx.TensorProto.FLOAT, ['rows', features]))
        self.assertEqual((graph_output.name, shape(graph_output)), ('scores', ['rows', outputs]))

    def test_a_binary_classifier_learns_and_writes_model_and_metrics(self):
        document = support.model_document()
        document['servingSchema']['trainingRanges'] = {'tenure_months': {'min': 0, 'max': 72}, 'contract': {'values': ['one-year']}}
        self.workspace.write_document(document)
        code, out, _ = self.run_job('--epochs', '8', '--sagemaker_program', 'train.py')
        self.assertEqual(code, 0)
        self.assertModelGraph(8, 1)
        metrics = self.workspace.metrics()
        self.assertEqual((metrics['trainingRows'], metrics['validationRows'], metrics['epochsCompleted'],
                          metrics['resumedFromEpoch'], metrics['device'], metrics['outputColumns']),
                         (1500, 300, 8, 0, 'cpu', 1))
        self.assertGreater(metrics['validation']['accuracy'], 0.8)
        self.assertEqual(set(metrics['train']), {'loss', 'accuracy'})
        self.assertTrue(metrics['torchVersion'])
        with open(self.workspace.path('model', 'serving-schema.json'), encoding='utf-8') as handle:
            self.assertEqual(json.load(handle), document['servingSchema'])
        lines = [line for line in out.splitlines() if line.startswith('epoch=')]
        self.assertEqual(len(lines), 8)
        self.assertRegex(lines[-1], r'^epoch=8 train_loss=\d+\.\d{6} validation_loss=\d+\.\d{6} validation_accuracy=\d+\.\d{6}$')
        self.assertRegex(out, r'(?m)^final epochs=8 train_loss=[\d.]+ train_accuracy=[\d.]+ validation_loss=[\d.]+ validation_accuracy=[\d.]+$')

    def test_a_multiclass_classifier_outputs_one_column_per_label(self):
        self.workspace.write_document(support.model_document('multiclass-classification', target='plan'))
        code, out, _ = self.run_job('--epochs', '10', '--hidden_units', '8', '--learning_rate', '0.05')
        self.assertEqual(code, 0, out)
        self.assertModelGraph(8, 3)
        metrics = self.workspace.metrics()
        self.assertEqual(metrics['outputColumns'], 3)
        self.assertGreater(metrics['validation']['accuracy'], 0.8)

    def test_a_regression_reports_rmse_and_mae_in_target_units(self):
        self.workspace.write_document(support.model_document('regression', target='lifetime_value'))
        code, out, _ = self.run_job('--epochs', '10', '--learning_rate', '0.05')
        self.assertEqual(code, 0, out)
        self.assertModelGraph(8, 1)
        metrics = self.workspace.metrics()
        self.assertEqual(set(metrics['validation']), {'loss', 'rmse', 'mae'})
        self.assertRegex(out, r'(?m)^epoch=10 train_loss=[\d.]+ validation_loss=[\d.]+ validation_rmse=[\d.]+ validation_mae=[\d.]+$')
        self.assertLess(metrics['validation']['mae'], 30)

    def test_without_a_validation_channel_only_training_metrics_are_reported(self):
        shutil.rmtree(self.workspace.path('input', 'data', 'validation'))
        code, out, _ = self.run_job('--epochs', '2')
        self.assertEqual(code, 0)
        self.assertIsNone(self.workspace.metrics()['validation'])
        self.assertRegex(out, r'(?m)^epoch=2 train_loss=[\d.]+$')

    def test_a_validation_channel_without_data_rows_trains_without_validation(self):
        self.workspace.write_validation([])
        code, out, _ = self.run_job('--epochs', '2')
        self.assertEqual(code, 0)
        self.assertIsNone(self.workspace.metrics()['validation'])
        self.assertIn('channel validation: no data rows; training without validation', out)

    def test_early_stopping_keeps_the_best_epoch(self):
        code, out, _ = self.run_job('--epochs', '200', '--patience', '2', '--learning_rate', '0.5', '--batch_size', '64')
        self.assertEqual(code, 0)
        metrics = self.workspace.metrics()
        self.assertTrue(metrics['stoppedEarly'])
        self.assertLess(metrics['epochsCompleted'], 200)
        self.assertEqual(metrics['bestEpoch'], metrics['epochsCompleted'] - 2)
        self.assertIn('early stopping at epoch %d' % metrics['epochsCompleted'], out)

    def test_latency_padding_adds_a_loop_of_square_matmuls(self):
        code, _, _ = self.run_job('--epochs', '1', '--latency_padding_layers', '300', '--latency_padding_width', '64')
        self.assertEqual(code, 0)
        if onnx is None:
            return
        graph = onnx.load(self.workspace.path('model', 'model.onnx')).graph
        loops = [node for node in graph.node if node.op_type == 'Loop']
        self.assertEqual(len(loops), 1)
        self.assertEqual([node.op_type for node in loops[0].attribute[0].g.node if node.op_type == 'MatMul'], ['MatMul'])

    def assertFails(self, pattern, *arguments):
        code, out, err = self.run_job(*arguments)
        self.assertEqual(code, 1, out + err)
        failure = self.workspace.failure()
        self.assertRegex(failure, pattern)
        self.assertEqual(failure.count('\n'), 1, 'one line')
        self.assertIn('training failed: ' + failure.strip(), err)
        self.assertFalse(os.path.exists(self.workspace.path('model', 'model.onnx')))

    def test_a_missing_train_channel_fails(self):
        shutil.rmtree(self.workspace.path('input', 'data', 'train'))
        self.assertFails(r'^missing channel "train": .*/input/data/train does not exist$')

    def test_a_missing_config_channel_fails(self):
        shutil.rmtree(self.workspace.path('input', 'data', 'config'))
        self.assertFails(r'^missing channel "config": .* \(it must hold model.json, the model document\)$')

    def test_an_unknown_feature_column_fails(self):
        document = support.model_document()
        document['features'] = document['features'] + ['favourite_colour']
        self.workspace.write_document(document)
        self.assertFails(r'unknown column: feature "favourite_colour" is not one of the columns')

    def test_a_serving_schema_that_disagrees_with_the_columns_fails(self):
        document = support.model_document()
        document['servingSchema']['features'][5]['allowedValues'] = ['one-year', 'month-to-month', 'two-year']
        self.workspace.write_document(document)
        self.assertFails(r'servingSchema.features\[5\].allowedValues is .* but the columns say')

    def test_data_without_the_target_fails(self):
        columns = [column['name'] for column in support.CHURN_COLUMNS if column['name'] != 'churned']
        self.workspace.write_train(support.churn_rows(50), columns=columns)
        self.assertFails(r'^part-0000.csv: header mismatch: missing column "churned"')

    def test_a_target_value_outside_the_class_labels_fails(self):
        rows = support.churn_rows(50)
        rows[10]['churned'] = 'yes'
        self.workspace.write_train(rows)
        self.assertFails(r'part-0000.csv row 11: target churned "yes" is not a valid integer value$')
        rows[10]['churned'] = '2'
        self.workspace.write_train(rows)
        self.assertFails(r'part-0000.csv row 11: target churned "2" is not one of the class labels \(0, 1\)$')

    def test_empty_data_fails(self):
        self.workspace.write_train([])
        self.assertFails(r'^channel "train" has no data rows \(part-0000.csv\)$')

    def test_bad_hyperparameters_fail(self):
        self.assertFails(r'^unknown hyperparameter "epoch"', '--epoch', '3')
        self.assertFails(r'^hyperparameter learning_rate must be in \(0, 10\], got "fast"$', '--learning_rate', 'fast')

    def test_patience_without_a_validation_channel_fails(self):
        shutil.rmtree(self.workspace.path('input', 'data', 'validation'))
        self.assertFails(r'^patience 3 needs a validation channel', '--patience', '3')

    def test_the_model_document_may_come_from_mlops_model_document(self):
        path = self.workspace.path('elsewhere.json')
        with open(path, 'w') as handle:
            json.dump(support.model_document(), handle)
        shutil.rmtree(self.workspace.path('input', 'data', 'config'))
        self.workspace.environ['MLOPS_MODEL_DOCUMENT'] = path
        code, _, _ = self.run_job('--epochs', '1')
        self.assertEqual(code, 0)

    def test_metric_lines_match_the_documented_metric_definitions(self):
        code, out, _ = self.run_job('--epochs', '2')
        self.assertEqual(code, 0)
        with open(os.path.join(support.TRAINING_DIR, 'README.md'), encoding='utf-8') as handle:
            readme = handle.read()
        definitions = re.findall(r'\| `([a-z_:]+)` \| `([^`]+)` \|', readme)
        self.assertGreaterEqual(len(definitions), 4)
        found = {name: re.findall(regex, out) for name, regex in definitions}
        self.assertEqual(len(found['train:loss']), 3)  # two epochs and the final line
        self.assertEqual(len(found['validation:accuracy']), 3)
        self.assertEqual(float(found['validation:loss'][-1]), round(self.workspace.metrics()['validation']['loss'], 6))


if __name__ == '__main__':
    unittest.main()
