/**
 * Which AWS SDK commands a Lambda function's code can send, derived from the source: the import
 * graph from `lambdas/<function>/handler.ts` (relative imports, into lambdas/shared, other folders
 * and lib/), then a name-level reachability pass over it, so a shared module's write path
 * (`DynamoDbRegistryStore.commit`) counts only for functions whose code reaches a method of that
 * name. Over-approximate by design: a name used anywhere reachable keeps every declaration of that
 * name, so a command can be reported that never runs, never the reverse. Dynamic dispatch goes
 * through dispatch tables (an object of functions held by a variable): reaching the variable
 * reaches every function in the table.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { type SdkService, sdkServiceOfPackage } from './sdk-calls';

export interface SdkCommandUse {
  readonly service: SdkService;
  /** The command class, e.g. `GetObjectCommand`, or a DocumentClient `TransactWriteCommand`. */
  readonly command: string;
  /** Where it is constructed, relative to the scan root, with the line. */
  readonly file: string;
  readonly line: number;
}

export interface FunctionCodeScan {
  /** Every source file the entry imports, transitively, relative to the root. */
  readonly files: readonly string[];
  /** The commands reachable from the entry, one per construction site. */
  readonly commands: readonly SdkCommandUse[];
}

interface Unit {
  readonly name: string | undefined;
  readonly references: Set<string>;
  readonly commands: SdkCommandUse[];
}

/** Scans the code reachable from `entry` (a path under `root`, e.g. `lambdas/registry/handler.ts`). */
export function scanFunctionCode(root: string, entry: string): FunctionCodeScan {
  const files = importClosure(root, path.resolve(root, entry));
  const units: Unit[] = [];
  const roots = new Set<string>();
  for (const file of files) {
    const parsed = parseUnits(root, file);
    units.push(...parsed.units);
    for (const name of parsed.topLevelReferences) roots.add(name);
    if (file === path.resolve(root, entry)) for (const unit of parsed.units) if (unit.name) roots.add(unit.name);
    units.push({ name: undefined, references: new Set(), commands: parsed.topLevelCommands });
  }
  const reached = new Set<string>(roots);
  const visited = new Set<Unit>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const unit of units) {
      if (visited.has(unit) || (unit.name !== undefined && !reached.has(unit.name))) continue;
      visited.add(unit);
      changed = true;
      for (const name of unit.references) reached.add(name);
    }
  }
  const commands = [...visited].flatMap((unit) => unit.commands);
  commands.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { files: files.map((file) => path.relative(root, file)), commands };
}

/** The distinct `service:command` pairs of a scan, sorted. */
export function commandsOf(scan: FunctionCodeScan): Array<{ service: SdkService; command: string }> {
  const seen = new Map<string, { service: SdkService; command: string }>();
  for (const use of scan.commands) seen.set(`${use.service}:${use.command}`, { service: use.service, command: use.command });
  return [...seen.values()].sort((a, b) => `${a.service}:${a.command}`.localeCompare(`${b.service}:${b.command}`));
}

function importClosure(root: string, entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    for (const statement of source.statements) {
      const specifier =
        (ts.isImportDeclaration(statement) && !statement.importClause?.isTypeOnly) ||
        (ts.isExportDeclaration(statement) && !statement.isTypeOnly)
          ? statement.moduleSpecifier
          : undefined;
      if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
      const resolved = resolveModule(path.dirname(file), specifier.text);
      if (!resolved) throw new Error(`${path.relative(root, file)}: cannot resolve import "${specifier.text}"`);
      queue.push(resolved);
    }
  }
  return [...seen].sort();
}

function resolveModule(directory: string, specifier: string): string | undefined {
  const base = path.resolve(directory, specifier.replace(/\.js$/, ''));
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find((candidate) => existsSync(candidate) && candidate.endsWith('.ts'));
}

function parseUnits(root: string, file: string) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const commandClasses = new Map<string, { service: SdkService; command: string }>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const service = sdkServiceOfPackage(statement.moduleSpecifier.text);
    const bindings = statement.importClause?.namedBindings;
    if (!service || !bindings || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) {
      const imported = (element.propertyName ?? element.name).text;
      if (!element.isTypeOnly && imported.endsWith('Command')) commandClasses.set(element.name.text, { service, command: imported });
    }
  }
  const units: Unit[] = [];
  const topLevelReferences = new Set<string>();
  const topLevelCommands: SdkCommandUse[] = [];
  const relative = path.relative(root, file);

  const walk = (node: ts.Node, unit: Unit | undefined) => {
    // Types and imports run nothing: an interface's `put(...)` signature must not reach every `put`.
    if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isTypeNode(node) || ts.isImportDeclaration(node)) return;
    // Top-level functions and class members are units of their own; a function nested in a unit
    // belongs to it (an inner `slice: () => ...` is reachable only through its enclosing method).
    const declared = unit === undefined ? unitName(node) : undefined;
    if (declared !== undefined) {
      const inner: Unit = { name: declared, references: new Set(), commands: [] };
      units.push(inner);
      const body = functionBody(node);
      if (body) ts.forEachChild(body, (child) => walk(child, inner));
      return;
    }
    const references = unit ? unit.references : topLevelReferences;
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) references.add(node.text);
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
      const command = commandClasses.get(node.expression.text);
      if (command) {
        const use = { ...command, file: relative, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 };
        (unit ? unit.commands : topLevelCommands).push(use);
      }
    }
    ts.forEachChild(node, (child) => walk(child, unit));
  };
  ts.forEachChild(source, (child) => walk(child, undefined));
  return { units, topLevelReferences, topLevelCommands };
}

/** The name a function-like declaration is called by: a method, a function, or a property or variable holding a function. */
function unitName(node: ts.Node): string | undefined {
  if ((ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isFunctionDeclaration(node)) && node.name && node.body) {
    return propertyNameText(node.name);
  }
  if (
    (ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node) || ts.isVariableDeclaration(node)) &&
    node.initializer &&
    node.name
  ) {
    const initializer = node.initializer;
    if (ts.isArrowFunction(initializer) || ts.isFunctionExpression(initializer)) return propertyNameText(node.name);
    // A dispatch table (`const OPERATIONS = { register: (...) => ..., ... }`, read as OPERATIONS[action]):
    // reaching the table reaches every function in it.
    if (ts.isVariableDeclaration(node) && ts.isObjectLiteralExpression(unwrapped(initializer))) return propertyNameText(node.name);
  }
  return undefined;
}

/** An expression without `as`, `satisfies` and parentheses around it. */
function unwrapped(expression: ts.Expression): ts.Expression {
  let current = expression;
  while (ts.isAsExpression(current) || ts.isSatisfiesExpression(current) || ts.isParenthesizedExpression(current))
    current = current.expression;
  return current;
}

function functionBody(node: ts.Node): ts.Node | undefined {
  if (ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isFunctionDeclaration(node)) return node;
  if (ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node) || ts.isVariableDeclaration(node)) return node.initializer;
  return undefined;
}

function propertyNameText(name: ts.Node): string | undefined {
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  return undefined;
}
