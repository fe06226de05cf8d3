"""The model document from the `config` channel (model.json): the configured columns, target and
features, and the serving schema the platform derived from them (contracts/serving-schema.ts,
modelSchemaFor). The serving schema is what the model's input tensor and output columns must
match, so this module checks that it agrees with the columns before anything is trained."""

import decimal
import json
import os
from dataclasses import dataclass, field

from .environment import TrainingError

PROBLEM_TYPES = ('binary-classification', 'multiclass-classification', 'regression')
COLUMN_TYPES = ('number', 'integer', 'boolean', 'string', 'category', 'timestamp')
INPUT_TYPES = ('number', 'integer', 'boolean', 'category', 'timestamp')


@dataclass(frozen=True)
class Feature:
    name: str
    type: str
    nullable: bool
    allowed_values: tuple = ()


@dataclass(frozen=True)
class ModelSpec:
    name: str
    problem_type: str
    features: tuple
    target: str
    target_type: str
    # Output-column order of a classifier; None for regression, or for a multiclass target whose
    # configuration names no labels (the target value is then the output column's index).
    class_labels: tuple
    # The document's servingSchema as given (with the training split's ranges): copied into the model
    # folder, so the artifact carries the contract it was trained for.
    serving_schema: dict = field(default=None, compare=False)

    @property
    def classification(self):
        return self.problem_type != 'regression'


def document_path(paths, environ=None):
    environ = os.environ if environ is None else environ
    explicit = environ.get('MLOPS_MODEL_DOCUMENT')
    if explicit:
        return explicit
    channel = paths.channel('config')
    if not os.path.isdir(channel):
        raise TrainingError(
            'missing channel "config": %s does not exist (it must hold model.json, the model document)' % channel
        )
    return os.path.join(channel, 'model.json')


def load_model_document(path):
    if not os.path.isfile(path):
        raise TrainingError('missing model document: %s does not exist' % path)
    try:
        with open(path, encoding='utf-8') as handle:
            document = json.load(handle)
    except (ValueError, UnicodeDecodeError) as error:
        raise TrainingError('model document %s is not JSON: %s' % (path, error)) from None
    return model_spec(document, path)


def model_spec(document, source='model document'):
    def fail(message):
        raise TrainingError('%s: %s' % (source, message))

    if not isinstance(document, dict):
        fail('must be a JSON object')
    name = document.get('name')
    if not isinstance(name, str) or not name:
        fail('"name" must be a non-empty string')
    problem_type = document.get('problemType')
    if problem_type not in PROBLEM_TYPES:
        fail('"problemType" must be one of %s, got %s' % (', '.join(PROBLEM_TYPES), json.dumps(problem_type)))
    columns = _columns(document.get('columns'), fail)
    features = document.get('features')
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        fail('"features" must be a non-empty list of column names')
    target = document.get('target')
    if not isinstance(target, str) or target not in columns:
        fail('target %s is not one of the columns (%s)' % (json.dumps(target), ', '.join(columns)))
    if problem_type == 'regression' and columns[target]['type'] not in ('number', 'integer'):
        fail('a regression target must be a number or integer column; "%s" is %s' % (target, columns[target]['type']))
    specs = []
    for feature in features:
        column = columns.get(feature)
        if column is None:
            fail('unknown column: feature "%s" is not one of the columns (%s)' % (feature, ', '.join(columns)))
        if column['type'] not in INPUT_TYPES:
            fail('feature "%s" is a free-text %s column; a model input must be numeric or a category' % (feature, column['type']))
        allowed = column.get('allowedValues')
        if column['type'] == 'category' and not allowed:
            fail('category feature "%s" needs allowedValues (it is encoded as the index in that list)' % feature)
        specs.append(Feature(feature, column['type'], column.get('nullable', False) is True,
                             tuple(allowed) if column['type'] == 'category' else ()))
    if len(set(features)) != len(features):
        fail('"features" names a column twice')
    serving = document.get('servingSchema')
    if not isinstance(serving, dict):
        fail('"servingSchema" is missing: it must hold the serving schema modelSchemaFor derives (features, classLabels)')
    _check_serving_features(serving.get('features'), specs, fail)
    if serving.get('problemType', problem_type) != problem_type:
        fail('servingSchema.problemType %s disagrees with problemType "%s"' % (json.dumps(serving.get('problemType')), problem_type))
    labels = _class_labels(problem_type, serving.get('classLabels'), fail)
    return ModelSpec(name, problem_type, tuple(specs), target, columns[target]['type'], labels, serving)


def _columns(columns, fail):
    if not isinstance(columns, list) or not columns:
        fail('"columns" must be a non-empty list')
    byname = {}
    for index, column in enumerate(columns):
        if not isinstance(column, dict) or not isinstance(column.get('name'), str):
            fail('columns[%d] must be an object with a "name"' % index)
        if column.get('type') not in COLUMN_TYPES:
            fail('column "%s" has type %s; expected one of %s'
                 % (column['name'], json.dumps(column.get('type')), ', '.join(COLUMN_TYPES)))
        allowed = column.get('allowedValues')
        if allowed is not None and (not isinstance(allowed, list) or not allowed or
                                    not all(isinstance(value, str) for value in allowed)):
            fail('column "%s": allowedValues must be a non-empty list of strings' % column['name'])
        if column['name'] in byname:
            fail('column "%s" is listed twice' % column['name'])
        byname[column['name']] = column
    return byname


def _check_serving_features(serving_features, specs, fail):
    """The input tensor's columns are the serving schema's features: same names, order, encoding."""
    if not isinstance(serving_features, list) or len(serving_features) != len(specs):
        fail('servingSchema.features must list the %d features in order (%s)'
             % (len(specs), ', '.join(spec.name for spec in specs)))
    for index, (served, spec) in enumerate(zip(serving_features, specs)):
        if not isinstance(served, dict):
            fail('servingSchema.features[%d] must be an object' % index)
        expected = {'name': spec.name, 'type': spec.type, 'nullable': spec.nullable,
                    'allowedValues': list(spec.allowed_values) or None}
        actual = {'name': served.get('name'), 'type': served.get('type'),
                  'nullable': served.get('nullable') is True, 'allowedValues': served.get('allowedValues')}
        for key, value in expected.items():
            if actual[key] != value and not (key == 'allowedValues' and spec.type != 'category'):
                fail('servingSchema.features[%d].%s is %s but the columns say %s'
                     % (index, key, json.dumps(actual[key]), json.dumps(value)))


def _class_labels(problem_type, labels, fail):
    if problem_type == 'regression':
        return None
    if labels is None:
        # As predictions.ts classLabelsOf: a binary model's labels default to [0, 1].
        return (0, 1) if problem_type == 'binary-classification' else None
    if not isinstance(labels, list) or not all(isinstance(label, (str, int, float, bool)) for label in labels):
        fail('servingSchema.classLabels must be a list of strings, numbers or booleans')
    if problem_type == 'binary-classification' and len(labels) != 2:
        fail('a binary model needs exactly 2 class labels, got %d' % len(labels))
    if len(labels) < 2:
        fail('a classifier needs at least 2 class labels, got %d' % len(labels))
    texts = [label_text(label) for label in labels]
    if len(set(texts)) != len(texts):
        fail('servingSchema.classLabels holds the same label twice: %s' % json.dumps(labels))
    return tuple(labels)


def label_text(value):
    """JavaScript's String(value): how the evaluation's holdout reader compares a target with a label."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return js_number_text(value)
    return value


def js_number_text(number):
    """Number.prototype.toString of a finite double (ECMAScript Number::toString): the shortest
    round-trip digits, which Python's repr also finds, laid out by JavaScript's rules."""
    number = float(number)
    if number == 0:
        return '0'
    sign, digits, exponent = decimal.Decimal(repr(abs(number))).normalize().as_tuple()
    text = ''.join(str(digit) for digit in digits)
    k = len(text)
    n = exponent + k  # the value is 0.<digits> x 10^n
    prefix = '-' if number < 0 else ''
    if k <= n <= 21:
        return prefix + text + '0' * (n - k)
    if 0 < n <= 21:
        return prefix + text[:n] + '.' + text[n:]
    if -6 < n <= 0:
        return prefix + '0.' + '0' * -n + text
    mantissa = text[0] + ('.' + text[1:] if k > 1 else '')
    return '%s%se%s%d' % (prefix, mantissa, '+' if n - 1 >= 0 else '-', abs(n - 1))
