"""Reading channels: formats, gzip, several files, headers, bad rows and their tolerance."""

import gzip
import json
import math
import os
import shutil
import tempfile
import unittest

import support
from mlops_training.datasets import read_channel
from mlops_training.environment import TrainingError
from mlops_training.model_document import model_spec

HEADER = 'customer_id,tenure_months,monthly_charges,total_spend,support_calls,segment,contract,paperless,signup_date,churned\n'


class ChannelTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix='channel-test-')
        self.spec = model_spec(support.model_document())

    def tearDown(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def write(self, name, content):
        path = os.path.join(self.directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as handle:
            handle.write(content if isinstance(content, bytes) else content.encode('utf-8'))

    def read(self, fraction=0.0):
        return read_channel('train', self.directory, self.spec, fraction)

    def test_tricky_csv_rows_encode_as_the_serving_contract(self):
        self.write('part.csv', '\ufeff' + HEADER +
                   'C1,12,65.5,786,2,consumer,one-year,true,2026-01-31T12:00:00Z,1\r\n'
                   'C2,0,,0,0,enterprise,,False,,0\r\n'
                   '"C,3",120,"70",8400,1,small-business,two-year,1,2026-01-31,1\r\n')
        channel = self.read()
        nan = float('nan')
        expected = [[12, 65.5, 786, 2, 0, 1, 1, 1769860800.0],
                    [0, nan, 0, 0, 2, nan, 0, nan],
                    [120, 70, 8400, 1, 1, 2, 1, 1769817600.0]]
        self.assertEqual(channel.features.dtype.name, 'float32')
        for row, values in zip(channel.features.tolist(), expected):
            for actual, wanted in zip(row, values):
                if math.isnan(wanted):
                    self.assertTrue(math.isnan(actual))
                else:
                    self.assertEqual(actual, float(__import__('numpy').float32(wanted)))
        self.assertEqual(channel.targets.tolist(), [1.0, 0.0, 1.0])

    def test_gzip_tsv_and_json_lines_files_of_one_channel_are_read_in_name_order(self):
        self.write('a.csv.gz', gzip.compress((HEADER + 'C1,1,10,10,0,consumer,one-year,true,,0\n').encode()))
        self.write('b.tsv', HEADER.replace(',', '\t') + 'C2\t2\t20\t40\t0\tconsumer\tone-year\tfalse\t\t1\n')
        record = {'customer_id': 'C3', 'tenure_months': 3, 'monthly_charges': None, 'total_spend': 90.5,
                  'support_calls': 1, 'segment': 'enterprise', 'contract': 'two-year', 'paperless': True,
                  'signup_date': '2026-01-31', 'churned': 0}
        self.write('sub/c.jsonl', json.dumps(record) + '\n')
        self.write('.hidden.csv', 'not data')
        self.write('_SUCCESS', '')
        channel = self.read()
        self.assertEqual(channel.rows, 3)
        self.assertEqual(channel.features[:, 0].tolist(), [1, 2, 3])
        self.assertTrue(math.isnan(channel.features[2, 1]))
        self.assertEqual(channel.features[2, 6:].tolist(), [1.0, 1769817600.0])

    def test_a_missing_column_names_the_file_and_the_column(self):
        self.write('part.csv', HEADER.replace(',contract', ',contract_type') + 'C1,1,1,1,1,consumer,x,true,,0\n')
        with self.assertRaisesRegex(TrainingError, r'^part.csv: header mismatch: missing column "contract"; the header has'):
            self.read()

    def test_a_missing_target_column_is_named(self):
        self.write('part.csv', HEADER.replace(',churned', '') + 'C1,1,1,1,1,consumer,one-year,true,\n')
        with self.assertRaisesRegex(TrainingError, r'missing column "churned"'):
            self.read()

    def test_one_bad_row_fails_by_default_naming_file_row_and_reason(self):
        self.write('part.csv', HEADER + 'C1,1,1,1,1,consumer,one-year,true,,0\n'
                                        'C2,1,1,1,1,consumer,weekly,true,,0\n')
        with self.assertRaises(TrainingError) as caught:
            self.read()
        self.assertEqual(str(caught.exception),
                         'channel "train": 1 of 2 rows cannot be used (max_bad_row_fraction 0); first: part.csv row 2: '
                         'contract must be one of month-to-month, one-year, two-year, got "weekly"')

    def test_a_target_outside_the_class_labels_fails(self):
        self.write('part.csv', HEADER + 'C1,1,1,1,1,consumer,one-year,true,,2\n')
        with self.assertRaisesRegex(TrainingError, r'part.csv row 1: target churned "2" is not one of the class labels \(0, 1\)'):
            self.read()

    def test_bad_rows_within_max_bad_row_fraction_are_skipped_and_counted(self):
        good = ''.join('C%d,1,1,1,1,consumer,one-year,true,,0\n' % n for n in range(9))
        self.write('part.csv', HEADER + good + 'C9,1,1,1,1,consumer,one-year,true\n\n')
        channel = self.read(fraction=0.2)
        self.assertEqual((channel.rows, channel.bad_rows, channel.rows_read), (9, 2, 11))
        self.assertEqual(channel.examples, ['part.csv row 10: has 8 fields, the header has 10', 'part.csv row 11: is blank'])

    def test_an_empty_channel_and_a_header_only_file_fail(self):
        with self.assertRaisesRegex(TrainingError, r'^channel "train" is empty: .* holds no data files$'):
            self.read()
        self.write('part.csv', HEADER)
        with self.assertRaisesRegex(TrainingError, r'^channel "train" has no data rows \(part.csv\)$'):
            self.read()

    def test_unknown_formats_and_broken_files_are_named(self):
        self.write('part.xlsx', 'x')
        with self.assertRaisesRegex(TrainingError, r'cannot tell the format of "part.xlsx"'):
            self.read()
        os.remove(os.path.join(self.directory, 'part.xlsx'))
        self.write('part.csv', b'\xff\xfe' + HEADER.encode('utf-16-le'))
        with self.assertRaisesRegex(TrainingError, r'^part.csv is not UTF-8 text$'):
            self.read()
        os.remove(os.path.join(self.directory, 'part.csv'))
        self.write('part.csv.gz', gzip.compress(HEADER.encode())[:-8] + b'\x1f')
        with self.assertRaisesRegex(TrainingError, r'^part.csv.gz: the gzip stream is corrupt or truncated'):
            self.read()

    def test_parquet_without_pyarrow_says_what_to_do(self):
        try:
            import pyarrow  # noqa: F401
            self.skipTest('pyarrow is installed here')
        except ImportError:
            pass
        self.write('part.parquet', b'PAR1')
        with self.assertRaisesRegex(TrainingError, r'^part.parquet is Parquet, which needs pyarrow.*CSV or JSON Lines'):
            self.read()


if __name__ == '__main__':
    unittest.main()
