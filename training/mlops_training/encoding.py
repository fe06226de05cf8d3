"""The serving encoding of one cell, exactly as lambdas/shared/serving/features.ts encodes a request
and the platform's readers (lambdas/shared/readers/columns.ts) parse a dataset cell: numbers
and integers as they are, booleans 0/1 ('true', 'TRUE', 'True', '1' and their false forms in
text files), a category as its index in allowedValues, a timestamp as epoch seconds, a null in a
nullable feature as NaN. And the target: a class index (the label matched as JavaScript's
String(value), as the evaluation's holdout reader does) or, for regression, the value.

Each encoder returns a float, or a string saying why the cell cannot be encoded."""

import datetime
import math
import re

from .model_document import label_text

# columns.ts DECIMAL_PATTERN: plain decimal and scientific notation; no hex, Infinity, NaN, blanks.
DECIMAL_PATTERN = re.compile(r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?', re.ASCII)
# columns.ts TIMESTAMP_PATTERN: ISO 8601 dates and date-times.
TIMESTAMP_PATTERN = re.compile(
    r'(\d{4})-(\d{2})-(\d{2})'
    r'(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?)?',
    re.ASCII,
)
TRUE_TEXTS = frozenset(('true', 'TRUE', 'True', '1'))
FALSE_TEXTS = frozenset(('false', 'FALSE', 'False', '0'))
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
NAN = float('nan')


def parse_number_text(text):
    """columns.ts parseNumberText: the float, or None. Python's float() and JavaScript's Number()
    both round a decimal text correctly, so the double is the same."""
    if not DECIMAL_PATTERN.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_timestamp_millis(text):
    """columns.ts parseTimestampText: epoch milliseconds, or None. Follows V8's Date.parse for
    the forms the pattern admits: day 1-31 rolls over into the next month (2026-02-30 is
    2026-03-02), 24:00:00 is the next midnight, fractions are cut to milliseconds. A date-time
    without an offset is read as UTC, as in the Lambda runtime (TZ=UTC)."""
    match = TIMESTAMP_PATTERN.fullmatch(text)
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    hour = int(match[4] or 0)
    minute = int(match[5] or 0)
    second = int(match[6] or 0)
    millis = int((match[7] or '0')[:3].ljust(3, '0'))
    if not (1 <= month <= 12 and 1 <= day <= 31 and minute <= 59 and second <= 59):
        return None
    if hour > 24 or (hour == 24 and (minute or second or millis)):
        return None
    offset = 0
    if match[9]:
        offset_hours, offset_minutes = int(match[10]), int(match[11])
        if offset_hours > 23 or offset_minutes > 59:
            return None
        offset = (offset_hours * 60 + offset_minutes) * (1 if match[9] == '+' else -1)
    days = _days_from_civil(year, month) + day - 1
    return ((days * 24 + hour) * 60 + minute - offset) * 60_000 + second * 1000 + millis


def _days_from_civil(year, month):
    """Days from 1970-01-01 to the first of the month (proleptic Gregorian, any year)."""
    year -= month <= 2
    era = (year if year >= 0 else year - 399) // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def datetime_millis(value):
    """A Parquet timestamp or date (pyarrow gives datetime/date) as epoch milliseconds; naive as UTC."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - EPOCH
        return (delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds) / 1000
    return (value - datetime.date(1970, 1, 1)).days * 86_400_000


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def text_encoder(feature):
    """Encodes a CSV cell (text; '' is null) of one feature."""
    kind = feature.type
    if kind in ('number', 'integer'):
        def parse(text):
            value = parse_number_text(text)
            if value is None:
                return 'is not a number: %s' % _quote(text)
            if kind == 'integer' and not value.is_integer():
                return 'must be an integer, got %s' % text
            return value
    elif kind == 'boolean':
        def parse(text):
            if text in TRUE_TEXTS:
                return 1.0
            if text in FALSE_TEXTS:
                return 0.0
            return 'must be true or false, got %s' % _quote(text)
    elif kind == 'category':
        index = {value: float(position) for position, value in enumerate(feature.allowed_values)}

        def parse(text):
            found = index.get(text)
            return found if found is not None else 'must be one of %s, got %s' % (
                ', '.join(feature.allowed_values), _quote(text))
    else:
        def parse(text):
            millis = parse_timestamp_millis(text)
            return millis / 1000 if millis is not None else 'must be an ISO-8601 timestamp, got %s' % _quote(text)
    return _with_nulls(feature, parse, lambda text: text == '')


def value_encoder(feature):
    """Encodes a JSON Lines or Parquet value (None is null) of one feature, with columns.ts
    storeValue's rules: a number column takes numbers only, a boolean column booleans only."""
    kind = feature.type
    if kind in ('number', 'integer'):
        def parse(value):
            if not _is_number(value) or not math.isfinite(value):
                return 'must be a finite number, got %s' % _describe(value)
            if kind == 'integer' and not float(value).is_integer():
                return 'must be an integer, got %s' % _describe(value)
            return float(value)
    elif kind == 'boolean':
        def parse(value):
            return float(value) if isinstance(value, bool) else 'must be true or false, got %s' % _describe(value)
    elif kind == 'category':
        text_parse = text_encoder(feature)

        def parse(value):
            return text_parse(value) if isinstance(value, str) and value != '' else 'must be one of %s, got %s' % (
                ', '.join(feature.allowed_values), _describe(value))
    else:
        def parse(value):
            millis = _millis_of_value(value)
            return millis / 1000 if millis is not None else 'must be an ISO-8601 timestamp, got %s' % _describe(value)
    return _with_nulls(feature, parse, lambda value: value is None)


def _millis_of_value(value):
    if isinstance(value, str):
        return parse_timestamp_millis(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return datetime_millis(value)
    if _is_number(value) and math.isfinite(value):
        return float(value)  # storeValue: a JSON number in a timestamp column is epoch milliseconds
    return None


def _with_nulls(feature, parse, is_null):
    def encode(cell):
        if is_null(cell):
            return NAN if feature.nullable else 'is required (%s), got null' % feature.type
        return parse(cell)
    return encode


class TargetReader:
    """The target of a row: class index (classification) or value (regression), or why not."""

    def __init__(self, spec):
        self.spec = spec
        numeric = spec.target_type in ('number', 'integer', 'timestamp')
        self.numeric = numeric
        if spec.class_labels is not None:
            self.index = {label_text(label): float(index) for index, label in enumerate(spec.class_labels)}
            self.labels = ', '.join(label_text(label) for label in spec.class_labels)
        else:
            self.index = None

    def from_text(self, text):
        if text == '':
            return 'target %s is empty' % self.spec.target
        kind = self.spec.target_type
        if kind == 'timestamp':
            millis = parse_timestamp_millis(text)
            value = None if millis is None else float(millis)
        elif self.numeric:
            value = parse_number_text(text)
        elif kind == 'boolean':
            value = True if text in TRUE_TEXTS else False if text in FALSE_TEXTS else None
        else:
            value = text
        return self._target(value, text)

    def from_value(self, value):
        if value is None:
            return 'target %s is empty' % self.spec.target
        kind = self.spec.target_type
        if kind == 'timestamp':
            millis = _millis_of_value(value)
            typed = None if millis is None else float(millis)
        elif self.numeric:
            typed = float(value) if _is_number(value) and math.isfinite(value) else None
        elif kind == 'boolean':
            typed = value if isinstance(value, bool) else None
        else:
            typed = value if isinstance(value, str) else None
        return self._target(typed, value if isinstance(value, str) else _describe(value))

    def _target(self, value, shown):
        name = self.spec.target
        if value is None:
            return 'target %s %s is not a valid %s value' % (name, _quote(str(shown)), self.spec.target_type)
        if not self.spec.classification:
            return value
        text = label_text(value)
        if self.index is not None:
            found = self.index.get(text)
            if found is None:
                return 'target %s %s is not one of the class labels (%s)' % (name, _quote(text), self.labels)
            return found
        # Multiclass without configured labels: the target is the output column's index.
        index = parse_number_text(text)
        if index is None or not index.is_integer() or index < 0:
            return 'target %s %s is not a class index (a whole number >= 0)' % (name, _quote(text))
        return index


def _quote(text):
    text = str(text)
    return '"%s"' % (text if len(text) <= 40 else text[:40] + '…')


def _describe(value):
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return 'null'
    if isinstance(value, (int, float)):
        return label_text(value) if math.isfinite(value) else str(value)
    return type(value).__name__
