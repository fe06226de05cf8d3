"""Reads a channel folder (one or more CSV, JSON Lines or Parquet files, optionally gzipped) into
the serving encoding: a float32 matrix [rows, features] in the model's input order and the
targets. Formats and rules follow the platform's readers (lambdas/shared/readers): the format
from the file name, gzip from the magic bytes, a header naming every needed column, extra
columns ignored. A row that cannot be encoded is counted and named; more of them than
max_bad_row_fraction allows fails the job (by default any one does: nothing is guessed)."""

import contextlib
import csv
import gzip
import io
import json
import os
import zlib
from dataclasses import dataclass, field

import numpy

from .encoding import TargetReader, text_encoder, value_encoder
from .environment import TrainingError

GZIP_MAGIC = b'\x1f\x8b'
MAX_EXAMPLES = 20
CHUNK_ROWS = 65_536


@dataclass
class Channel:
    name: str
    files: list
    features: numpy.ndarray  # float32 [rows, features], the serving encoding
    targets: numpy.ndarray  # float64 [rows]: class index or value
    rows_read: int
    bad_rows: int
    examples: list = field(default_factory=list)

    @property
    def rows(self):
        return len(self.targets)


def format_of(path):
    """readers/index.ts formatOfKey."""
    name = path.lower()
    for suffix in ('.gz', '.gzip'):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    if name.endswith(('.parquet', '.pq')):
        return 'parquet'
    if name.endswith(('.jsonl', '.ndjson', '.json')):
        return 'jsonl'
    if name.endswith(('.csv', '.tsv', '.txt')):
        return 'csv'
    raise TrainingError(
        'cannot tell the format of "%s": name it .csv, .jsonl or .parquet (optionally with .gz)' % path
    )


def data_files(directory):
    """Every data file under the channel folder, sorted; hidden (.x) and marker (_x) files skipped."""
    found = []
    for root, folders, files in os.walk(directory):
        folders[:] = sorted(folder for folder in folders if not folder.startswith(('.', '_')))
        found.extend(os.path.join(root, name) for name in sorted(files) if not name.startswith(('.', '_')))
    return found


def read_channel(name, directory, spec, max_bad_row_fraction, allow_empty=False):
    """The channel's rows, encoded; with allow_empty, a channel without data rows is None."""
    if not os.path.isdir(directory):
        raise TrainingError('missing channel "%s": %s does not exist' % (name, directory))
    files = data_files(directory)
    if not files:
        raise TrainingError('channel "%s" is empty: %s holds no data files' % (name, directory))
    reader = _Encoder(spec)
    for path in files:
        shown = os.path.relpath(path, directory)
        kind = format_of(shown)
        if kind == 'parquet':
            _read_parquet(path, shown, reader)
        elif kind == 'jsonl':
            _read_json_lines(path, shown, reader)
        else:
            _read_csv(path, shown, reader, '\t' if _bare_name(path).endswith('.tsv') else ',')
    channel = reader.finish(name, files)
    if channel.bad_rows > max_bad_row_fraction * channel.rows_read:
        raise TrainingError(
            'channel "%s": %d of %d rows cannot be used (max_bad_row_fraction %g); first: %s'
            % (name, channel.bad_rows, channel.rows_read, max_bad_row_fraction, channel.examples[0])
        )
    if channel.rows == 0:
        if allow_empty:
            return None
        raise TrainingError('channel "%s" has no data rows (%s)' % (name, ', '.join(
            os.path.relpath(path, directory) for path in files)))
    return channel


def _bare_name(path):
    name = path.lower()
    return name[:-3] if name.endswith('.gz') else name[:-5] if name.endswith('.gzip') else name


class _Encoder:
    """Collects encoded rows; the columns are the model's features, then the target."""

    def __init__(self, spec):
        self.spec = spec
        self.columns = [feature.name for feature in spec.features] + [spec.target]
        self.target = TargetReader(spec)
        self.text_encoders = [text_encoder(feature) for feature in spec.features]
        self.value_encoders = [value_encoder(feature) for feature in spec.features]
        self.features = []
        self.targets = []
        self.feature_chunks = []
        self.target_chunks = []
        self.rows_read = 0
        self.bad_rows = 0
        self.examples = []

    def bad(self, file, row, why):
        self.bad_rows += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append('%s row %d: %s' % (file, row, why))

    def add(self, file, row, cells, encoders, read_target):
        """cells: the row's values in self.columns order."""
        self.rows_read += 1
        target = read_target(cells[-1])
        if isinstance(target, str):
            return self.bad(file, row, target)
        encoded = []
        for encode, cell, feature in zip(encoders, cells, self.spec.features):
            value = encode(cell)
            if isinstance(value, str):
                return self.bad(file, row, '%s %s' % (feature.name, value))
            encoded.append(value)
        self.features.append(encoded)
        self.targets.append(target)
        if len(self.targets) == CHUNK_ROWS:
            self._flush()

    def _flush(self):
        """Python lists of floats cost ~10x a float32 array: keep them short."""
        width = len(self.spec.features)
        self.feature_chunks.append(numpy.array(self.features, dtype=numpy.float32).reshape(len(self.features), width))
        self.target_chunks.append(numpy.array(self.targets, dtype=numpy.float64))
        self.features, self.targets = [], []

    def finish(self, name, files):
        self._flush()
        return Channel(name, files, numpy.concatenate(self.feature_chunks), numpy.concatenate(self.target_chunks),
                       self.rows_read, self.bad_rows, self.examples)


def _open_text(path):
    """The file as text, gzip (by its magic bytes) undone, a UTF-8 BOM dropped."""
    with open(path, 'rb') as handle:
        head = handle.read(2)
    binary = gzip.open(path, 'rb') if head == GZIP_MAGIC else open(path, 'rb')
    return io.TextIOWrapper(binary, encoding='utf-8-sig', newline='')


@contextlib.contextmanager
def _file_errors(shown):
    """Not UTF-8, or a broken gzip stream, is the file's fault: one line naming it."""
    try:
        yield
    except UnicodeDecodeError:
        raise TrainingError('%s is not UTF-8 text' % shown) from None
    except (OSError, EOFError, zlib.error) as error:
        raise TrainingError('%s: the gzip stream is corrupt or truncated (%s)' % (shown, error)) from None


def _plan(header, columns, shown):
    """readers/columns.ts planColumns: every needed column present, none twice."""
    missing = [name for name in columns if name not in header]
    if missing:
        raise TrainingError('%s: header mismatch: missing column%s %s; the header has %s' % (
            shown, 's' if len(missing) > 1 else '', ', '.join('"%s"' % name for name in missing),
            ', '.join('"%s"' % name for name in header[:50])))
    twice = [name for name in columns if header.count(name) > 1]
    if twice:
        raise TrainingError('%s: header mismatch: column "%s" appears more than once' % (shown, twice[0]))
    return [header.index(name) for name in columns]


def _read_csv(path, shown, encoder, delimiter):
    with _file_errors(shown), _open_text(path) as text:
        rows = csv.reader(text, delimiter=delimiter, strict=True)
        _read_csv_rows(rows, shown, encoder)


def _read_csv_rows(rows, shown, encoder):
    try:
        header = next(rows, None)
        if header is None:
            raise TrainingError('%s is empty: a CSV file needs a header row' % shown)
        positions = _plan(header, encoder.columns, shown)
        width = len(header)
        encoders = encoder.text_encoders
        read_target = encoder.target.from_text
        for number, row in enumerate(rows, 1):
            if len(row) != width:
                encoder.rows_read += 1
                encoder.bad(shown, number, 'is blank' if not row else 'has %d field%s, the header has %d' % (
                    len(row), '' if len(row) == 1 else 's', width))
                continue
            encoder.add(shown, number, [row[position] for position in positions], encoders, read_target)
    except csv.Error as error:
        raise TrainingError('%s line %d: %s' % (shown, rows.line_num, error)) from None


def _reject_constant(name):
    raise ValueError('%s is not JSON' % name)


def _read_json_lines(path, shown, encoder):
    with _file_errors(shown), _open_text(path) as text:
        _read_json_rows(text, shown, encoder)


def _read_json_rows(lines, shown, encoder):
    encoders = encoder.value_encoders
    read_target = encoder.target.from_value
    number = 0
    for number, line in enumerate(lines, 1):
        line = line.rstrip('\r\n')
        try:
            record = json.loads(line, parse_constant=_reject_constant)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            encoder.rows_read += 1
            encoder.bad(shown, number, 'is blank' if not line.strip() else 'is not a JSON object')
            continue
        encoder.add(shown, number, [record.get(name) for name in encoder.columns], encoders, read_target)
    if number == 0:
        raise TrainingError('%s is empty: the file has no rows' % shown)


def _read_parquet(path, shown, encoder):
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise TrainingError(
            '%s is Parquet, which needs pyarrow, and this image has none: install pyarrow or give the '
            'channel CSV or JSON Lines files' % shown
        ) from None
    try:
        schema_names = parquet.read_schema(path).names
        _plan(schema_names, encoder.columns, shown)
        table = parquet.read_table(path, columns=encoder.columns)
    except TrainingError:
        raise
    except Exception as error:  # pyarrow raises its own error classes for a broken file
        raise TrainingError('%s is not a readable Parquet file: %s' % (shown, error)) from None
    columns = [table.column(name).to_pylist() for name in encoder.columns]
    encoders = encoder.value_encoders
    read_target = encoder.target.from_value
    for number, cells in enumerate(zip(*columns), 1):
        encoder.add(shown, number, list(cells), encoders, read_target)
