"""The serving encoding of cells and targets, on the rows that differ between naive parsers:
nulls, boolean spellings, unknown categories, timestamps, integers, JSON value types, labels.
Expected values are those lambdas/shared/serving/features.ts and the readers produce (epoch seconds
from Date.parse, booleans 0/1, category indexes)."""

import math
import unittest

import support  # noqa: F401
from mlops_training.encoding import TargetReader, parse_timestamp_millis, text_encoder, value_encoder
from mlops_training.model_document import Feature, ModelSpec, js_number_text

NUMBER = Feature('charges', 'number', True)
INTEGER = Feature('tenure', 'integer', False)
BOOLEAN = Feature('paperless', 'boolean', True)
CATEGORY = Feature('contract', 'category', True, ('month-to-month', 'one-year', 'two-year'))
TIMESTAMP = Feature('signup', 'timestamp', True)


def spec(problem_type, target_type, labels):
    return ModelSpec('m', problem_type, (NUMBER,), 'target', target_type, labels)


class CellEncodingTest(unittest.TestCase):
    def assertEncodes(self, encoder, cell, expected):
        value = encoder(cell)
        if isinstance(expected, float) and math.isnan(expected):
            self.assertTrue(isinstance(value, float) and math.isnan(value), '%r -> %r' % (cell, value))
        else:
            self.assertEqual(value, expected, '%r' % (cell,))

    def test_text_cells_of_every_type(self):
        cases = [
            (NUMBER, '65.5', 65.5), (NUMBER, '-1e3', -1000.0), (NUMBER, '.5', 0.5), (NUMBER, '', math.nan),
            (INTEGER, '12', 12.0), (INTEGER, '12.0', 12.0),
            (BOOLEAN, 'true', 1.0), (BOOLEAN, 'True', 1.0), (BOOLEAN, 'TRUE', 1.0), (BOOLEAN, '1', 1.0),
            (BOOLEAN, 'false', 0.0), (BOOLEAN, 'FALSE', 0.0), (BOOLEAN, '0', 0.0), (BOOLEAN, '', math.nan),
            (CATEGORY, 'month-to-month', 0.0), (CATEGORY, 'two-year', 2.0), (CATEGORY, '', math.nan),
            (TIMESTAMP, '2026-01-31', 1769817600.0),
            (TIMESTAMP, '2026-01-31T12:00:00Z', 1769860800.0),
            (TIMESTAMP, '2026-01-31 12:00:00Z', 1769860800.0),
            (TIMESTAMP, '2026-01-31T12:00:00.123456789Z', 1769860800.123),
            (TIMESTAMP, '2026-01-31T12:00:00+05:30', 1769841000.0),
            (TIMESTAMP, '2026-01-31T12:00:00+0530', 1769841000.0),
            (TIMESTAMP, '2026-01-31T12:00', 1769860800.0),
            (TIMESTAMP, '', math.nan),
        ]
        for feature, cell, expected in cases:
            with self.subTest(type=feature.type, cell=cell):
                self.assertEncodes(text_encoder(feature), cell, expected)

    def test_text_cells_the_contract_refuses(self):
        cases = [
            (NUMBER, 'NaN'), (NUMBER, 'Infinity'), (NUMBER, '0x10'), (NUMBER, '1,000'), (NUMBER, ' 1'),
            (NUMBER, '1e400'), (NUMBER, '١٢'),
            (INTEGER, '2.5'), (INTEGER, ''),
            (BOOLEAN, 'yes'), (BOOLEAN, 't'),
            (CATEGORY, 'weekly'), (CATEGORY, 'One-Year'),
            (TIMESTAMP, '2026-13-01'), (TIMESTAMP, '2026-01-00'), (TIMESTAMP, '2026-01-31T24:00:01Z'),
            (TIMESTAMP, '31/01/2026'), (TIMESTAMP, '2026-01-31T12:60:00Z'), (TIMESTAMP, '2026-01-31Z'),
        ]
        for feature, cell in cases:
            with self.subTest(type=feature.type, cell=cell):
                self.assertIsInstance(text_encoder(feature)(cell), str)

    def test_timestamps_follow_date_parse_where_it_is_lenient(self):
        # V8 accepts day 31 in any month and rolls over, and 24:00 as the next midnight.
        self.assertEqual(parse_timestamp_millis('2026-02-30'), 1772409600000)
        self.assertEqual(parse_timestamp_millis('2026-01-31T24:00:00Z'), 1769904000000)
        self.assertEqual(parse_timestamp_millis('1969-12-31T23:59:59.999Z'), -1)
        self.assertEqual(parse_timestamp_millis('0000-01-01'), -62167219200000)
        self.assertEqual(parse_timestamp_millis('2026-01-31T12:00:00+23:59'), 1769774460000)
        self.assertIsNone(parse_timestamp_millis('2026-01-31T12:00:00.5+25:00'))

    def test_json_values_follow_the_readers_type_rules(self):
        cases = [
            (NUMBER, 65.5, 65.5), (NUMBER, 3, 3.0), (NUMBER, None, math.nan),
            (INTEGER, 7, 7.0), (INTEGER, 7.0, 7.0),
            (BOOLEAN, True, 1.0), (BOOLEAN, False, 0.0), (BOOLEAN, None, math.nan),
            (CATEGORY, 'one-year', 1.0), (CATEGORY, None, math.nan),
            (TIMESTAMP, '2026-01-31T12:00:00Z', 1769860800.0),
            (TIMESTAMP, 1769860800123, 1769860800.123),  # a JSON number in a timestamp column is epoch ms
        ]
        for feature, value, expected in cases:
            with self.subTest(type=feature.type, value=value):
                self.assertEncodes(value_encoder(feature), value, expected)
        refused = [(NUMBER, '65.5'), (NUMBER, True), (INTEGER, 2.5), (INTEGER, None), (BOOLEAN, 'true'),
                   (BOOLEAN, 1), (CATEGORY, ''), (CATEGORY, 1), (TIMESTAMP, True), (TIMESTAMP, 'yesterday')]
        for feature, value in refused:
            with self.subTest(type=feature.type, value=value):
                self.assertIsInstance(value_encoder(feature)(value), str)


class TargetTest(unittest.TestCase):
    def test_integer_labels_match_as_javascript_prints_the_number(self):
        reader = TargetReader(spec('binary-classification', 'integer', (0, 1)))
        self.assertEqual([reader.from_text(text) for text in ('0', '1', '1.0', '1e0')], [0.0, 1.0, 1.0, 1.0])
        self.assertEqual([reader.from_value(value) for value in (0, 1, 1.0)], [0.0, 1.0, 1.0])
        self.assertIn('is not one of the class labels (0, 1)', reader.from_text('2'))
        self.assertIn('is empty', reader.from_text(''))

    def test_boolean_labels_accept_every_spelling_the_readers_do(self):
        reader = TargetReader(spec('binary-classification', 'boolean', (False, True)))
        self.assertEqual([reader.from_text(text) for text in ('true', 'TRUE', 'True', '1', 'false', '0')],
                         [1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
        self.assertEqual([reader.from_value(True), reader.from_value(False)], [1.0, 0.0])
        self.assertIsInstance(reader.from_value('true'), str)

    def test_category_labels_match_exactly(self):
        reader = TargetReader(spec('multiclass-classification', 'category', ('basic', 'plus', 'premium')))
        self.assertEqual(reader.from_text('premium'), 2.0)
        self.assertIn('"Premium" is not one of the class labels (basic, plus, premium)', reader.from_text('Premium'))

    def test_a_multiclass_target_without_labels_is_the_class_index(self):
        reader = TargetReader(spec('multiclass-classification', 'integer', None))
        self.assertEqual(reader.from_text('3'), 3.0)
        self.assertIsInstance(reader.from_text('-1'), str)
        self.assertIsInstance(reader.from_text('1.5'), str)

    def test_a_regression_target_is_the_value(self):
        reader = TargetReader(spec('regression', 'number', None))
        self.assertEqual((reader.from_text('12.25'), reader.from_value(3)), (12.25, 3.0))
        self.assertIsInstance(reader.from_text('n/a'), str)

    def test_js_number_text_matches_string_of_a_number(self):
        # Printed by node: String(v) for each.
        cases = {1.0: '1', -0.0: '0', 0.1: '0.1', 1e21: '1e+21', 1e-7: '1e-7', 1e20: '100000000000000000000',
                 0.000001234: '0.000001234', 1.5e300: '1.5e+300', -2.5: '-2.5', 5e-324: '5e-324'}
        for value, text in cases.items():
            with self.subTest(value=value):
                self.assertEqual(js_number_text(value), text)


if __name__ == '__main__':
    unittest.main()
