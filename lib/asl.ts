/**
 * Amazon States Language files as the stack deploys them: `${Placeholder}` substitution with
 * the same values CloudFormation's DefinitionSubstitutions applies, for the offline runtime
 * and the tests that execute the real file.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from './constructs/mlops-function';

export const STATE_MACHINES_DIRECTORY = path.join(PROJECT_ROOT, 'statemachines');
export const TRAINING_DEFINITION_PATH = path.join(STATE_MACHINES_DIRECTORY, 'training.asl.json');

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** The placeholder names a definition uses. */
export function placeholdersOf(definition: string): string[] {
  return [...new Set([...definition.matchAll(PLACEHOLDER)].map((match) => match[1]!))].sort();
}

/**
 * Fills every placeholder; refuses a missing or an unused substitution, so a renamed
 * placeholder fails here rather than as a literal `${Name}` in a deployed pipeline.
 */
export function renderDefinition(definition: string, substitutions: Readonly<Record<string, string>>): string {
  const used = placeholdersOf(definition);
  const missing = used.filter((name) => !(name in substitutions));
  const unused = Object.keys(substitutions).filter((name) => !used.includes(name));
  if (missing.length > 0 || unused.length > 0) {
    throw new Error(
      `state machine substitutions do not match the definition: missing ${missing.join(', ') || 'none'}; unused ${unused.join(', ') || 'none'}`,
    );
  }
  return definition.replace(PLACEHOLDER, (_, name: string) => substitutions[name]!);
}

export function readTrainingDefinition(): string {
  return readFileSync(TRAINING_DEFINITION_PATH, 'utf8');
}
