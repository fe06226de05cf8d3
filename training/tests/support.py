"""Test helpers: churn-like data (the shape of the demo's `churn` model in cdk.json), model
documents with the serving schema modelSchemaFor derives, and a temp folder laid out like
/opt/ml with the SM_* environment pointing into it."""

import csv
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TRAINING_DIR not in sys.path:
    sys.path.insert(0, TRAINING_DIR)

CHURN_COLUMNS = [
    {'name': 'customer_id', 'type': 'string', 'nullable': False},
    {'name': 'tenure_months', 'type': 'integer', 'nullable': False, 'min': 0, 'max': 120},
    {'name': 'monthly_charges', 'type': 'number', 'nullable': True, 'min': 0, 'max': 500},
    {'name': 'total_spend', 'type': 'number', 'nullable': False, 'min': 0},
    {'name': 'support_calls', 'type': 'integer', 'nullable': False, 'min': 0, 'max': 100},
    {'name': 'segment', 'type': 'category', 'nullable': False, 'allowedValues': ['consumer', 'small-business', 'enterprise']},
    {'name': 'contract', 'type': 'category', 'nullable': True, 'allowedValues': ['month-to-month', 'one-year', 'two-year']},
    {'name': 'paperless', 'type': 'boolean', 'nullable': True},
    {'name': 'signup_date', 'type': 'timestamp', 'nullable': True},
    {'name': 'gender', 'type': 'category', 'nullable': False, 'allowedValues': ['female', 'male', 'other']},
    {'name': 'churned', 'type': 'integer', 'nullable': False, 'min': 0, 'max': 1},
    {'name': 'plan', 'type': 'category', 'nullable': False, 'allowedValues': ['basic', 'plus', 'premium']},
    {'name': 'lifetime_value', 'type': 'number', 'nullable': False},
]
CHURN_FEATURES = ['tenure_months', 'monthly_charges', 'total_spend', 'support_calls', 'segment', 'contract',
                  'paperless', 'signup_date']


def model_document(problem_type='binary-classification', target='churned', features=None, class_labels=None):
    """The model document with its serving schema (what modelSchemaFor returns for it)."""
    features = list(features or CHURN_FEATURES)
    columns = {column['name']: column for column in CHURN_COLUMNS}
    serving_features = []
    for name in features:
        column = columns[name]
        serving = {'name': name, 'type': column['type'], 'nullable': column['nullable']}
        if 'allowedValues' in column:
            serving['allowedValues'] = column['allowedValues']
        serving_features.append(serving)
    if class_labels is None and problem_type == 'binary-classification':
        class_labels = [0, 1]
    if class_labels is None and problem_type == 'multiclass-classification':
        class_labels = columns[target].get('allowedValues')
    serving = {'modelName': 'churn', 'problemType': problem_type, 'features': serving_features,
               'ignoredColumns': [c['name'] for c in CHURN_COLUMNS if c['name'] not in features]}
    if class_labels is not None:
        serving['classLabels'] = class_labels
    return {'name': 'churn', 'problemType': problem_type, 'columns': CHURN_COLUMNS, 'target': target,
            'features': features, 'sensitiveAttribute': 'gender', 'servingSchema': serving}


def churn_rows(count, seed=7, nulls=True):
    """Rows as a CSV reader would see them (strings; '' is null), churn driven by the features."""
    generator = random.Random(seed)
    rows = []
    for number in range(count):
        contract = generator.choices(['month-to-month', 'one-year', 'two-year'], [0.45, 0.3, 0.25])[0]
        segment = generator.choices(['consumer', 'small-business', 'enterprise'], [0.6, 0.3, 0.1])[0]
        scale = {'two-year': 40, 'one-year': 25, 'month-to-month': 12}[contract]
        tenure = min(120, round(-math.log(max(generator.random(), 1e-9)) * scale))
        charges = min(500.0, max(5.0, 65 + 25 * generator.gauss(0, 1) + (60 if segment == 'enterprise' else 0)))
        calls = min(100, round(-math.log(max(generator.random(), 1e-9)) * 1.5))
        paperless = generator.random() < 0.5
        logit = (-0.6 - 0.09 * tenure + 0.03 * (charges - 70) + 0.7 * calls
                 + {'month-to-month': 2.2, 'one-year': 0.0, 'two-year': -2.5}[contract]
                 + (-1 if segment == 'enterprise' else 0) + (0.5 if paperless else 0))
        churned = 1 if generator.random() < 1 / (1 + math.exp(-2 * logit)) else 0
        plan = 'premium' if charges > 110 else 'plus' if charges > 70 else 'basic'
        row = {
            'customer_id': 'C%07d' % number,
            'tenure_months': str(tenure),
            'monthly_charges': '%.2f' % charges,
            'total_spend': '%.2f' % (tenure * charges),
            'support_calls': str(calls),
            'segment': segment,
            'contract': contract,
            'paperless': 'true' if paperless else 'false',
            'signup_date': '2024-%02d-%02dT08:30:00Z' % (1 + number % 12, 1 + number % 28),
            'gender': generator.choice(['female', 'male']),
            'churned': str(churned),
            'plan': plan,
            'lifetime_value': '%.3f' % (charges * (tenure + 1) / 100),
        }
        if nulls and number % 17 == 3:
            row['monthly_charges'] = ''
        if nulls and number % 23 == 5:
            row['contract'] = ''
        if nulls and number % 29 == 7:
            row['paperless'] = ''
        rows.append(row)
    return rows


def write_csv(path, rows, columns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    columns = columns or [column['name'] for column in CHURN_COLUMNS]
    with open(path, 'w', newline='', encoding='utf-8') as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction='ignore')
        writer.writeheader()
        writer.writerows(rows)


class Workspace:
    """/opt/ml under a temp folder: channels, model dir, output, checkpoints, and the SM_* variables."""

    def __init__(self, document=None):
        self.root = tempfile.mkdtemp(prefix='training-test-')
        self.environ = {
            'SM_MODEL_DIR': self.path('model'),
            'SM_OUTPUT_DIR': self.path('output'),
            'SM_OUTPUT_DATA_DIR': self.path('output', 'data'),
            'SM_INPUT_DIR': self.path('input'),
            'SM_CHANNEL_TRAIN': self.path('input', 'data', 'train'),
            'SM_CHANNEL_VALIDATION': self.path('input', 'data', 'validation'),
            'SM_CHANNEL_CONFIG': self.path('input', 'data', 'config'),
            'SM_CHECKPOINT_DIR': self.path('checkpoints'),
            'SM_NUM_GPUS': '0',
        }
        if document is not None:
            self.write_document(document)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write_document(self, document):
        os.makedirs(self.path('input', 'data', 'config'), exist_ok=True)
        with open(self.path('input', 'data', 'config', 'model.json'), 'w', encoding='utf-8') as handle:
            json.dump(document, handle)

    def write_train(self, rows, name='part-0000.csv', columns=None):
        write_csv(self.path('input', 'data', 'train', name), rows, columns)

    def write_validation(self, rows, name='part-0000.csv'):
        write_csv(self.path('input', 'data', 'validation', name), rows)

    def write_file(self, channel, name, content):
        directory = self.path('input', 'data', channel)
        os.makedirs(directory, exist_ok=True)
        mode = 'wb' if isinstance(content, bytes) else 'w'
        with open(os.path.join(directory, name), mode) as handle:
            handle.write(content)

    def run(self, *arguments):
        """In this process (fast): main() with the workspace's environment; returns the exit code."""
        from mlops_training.main import main
        return main(list(arguments), dict(os.environ, **self.environ))

    def spawn(self, *arguments, **options):
        """As SageMaker starts it: a child process running train.py."""
        return subprocess.Popen(
            [sys.executable, os.path.join(TRAINING_DIR, 'train.py'), *arguments],
            env=dict(os.environ, **self.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)

    def metrics(self):
        with open(self.path('model', 'metrics.json'), encoding='utf-8') as handle:
            return json.load(handle)

    def failure(self):
        with open(self.path('output', 'failure'), encoding='utf-8') as handle:
            return handle.read()

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)
