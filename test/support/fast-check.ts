/**
 * Every test file's fast-check settings (vitest setupFiles). fast-check 4 draws arrays and strings
 * of at most about 10 elements unless an arbitrary also sets `size`, whatever its maxLength says:
 * a property over "up to 60 rows" then never sees more than 10. With this setting a maxLength is
 * drawn up to, as the tests' titles assume; an arbitrary that must stay small says so with a
 * smaller maxLength.
 */
import fc from 'fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });
