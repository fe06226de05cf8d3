/**
 * Generates docs/api-reference.md from the TypeScript of the package entry (lib/index.ts) with the
 * TypeScript compiler API: every exported construct, its description, and every prop of its props
 * interface with its type, default (`@default`) and description. The configuration fields that
 * MlopsPlatformProps inherits from the schema are listed by docs/configuration.md (generated from
 * the same schema), linked from here. Usage: npm run docs:api (writes the file); test/docs.test.ts
 * fails when the committed file is stale or an optional prop has no `@default`.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { PROJECT_ROOT } from '../contracts/project-root';

export const API_REFERENCE_PATH = path.join(PROJECT_ROOT, 'docs', 'api-reference.md');
const ENTRY = path.join(PROJECT_ROOT, 'lib', 'index.ts');

export interface PropDoc {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
  /** The `@default` tag's text; undefined when the prop has none. */
  readonly defaultValue: string | undefined;
  readonly description: string;
}

export interface ConstructDoc {
  readonly name: string;
  readonly description: string;
  readonly propsName: string | undefined;
  readonly props: readonly PropDoc[];
  /** Props inherited from the configuration schema (documented in docs/configuration.md). */
  readonly configurationFields: readonly string[];
  /** How many props come from a library's interface (e.g. aws-cdk-lib's StackProps), documented there. */
  readonly libraryProps: number;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
const cell = (text: string) => oneLine(text).replaceAll('|', '\\|');

/** A class without a doc comment is described by its module's header comment (one construct per file). */
function moduleHeader(sourceFile: ts.SourceFile): string {
  const text = sourceFile.getFullText();
  const first = ts.getLeadingCommentRanges(text, 0)?.find((range) => text.startsWith('/**', range.pos));
  if (!first) return '';
  return text
    .slice(first.pos + 3, first.end - 2)
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n');
}

function declaredIn(symbol: ts.Symbol, folder: string): boolean {
  return (symbol.declarations ?? []).some((declaration) =>
    declaration.getSourceFile().fileName.startsWith(path.join(PROJECT_ROOT, folder)),
  );
}

/** Every exported class of the entry whose constructor takes (scope, id, props), in name order. */
export function constructDocs(): ConstructDoc[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(PROJECT_ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  const program = ts.createProgram([ENTRY], config!.options);
  const checker = program.getTypeChecker();
  const entry = checker.getSymbolAtLocation(program.getSourceFile(ENTRY)!)!;
  const docs: ConstructDoc[] = [];
  for (const exported of checker.getExportsOfModule(entry)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    if (!declaration || !ts.isClassDeclaration(declaration)) continue;
    const construct = declaration.members.find(ts.isConstructorDeclaration);
    const propsParameter = construct?.parameters[2];
    if (construct?.parameters[1]?.name.getText() !== 'id' || !propsParameter?.type) continue;
    const propsType = checker.getTypeFromTypeNode(propsParameter.type);
    const props: PropDoc[] = [];
    const configurationFields: string[] = [];
    let libraryProps = 0;
    for (const property of checker.getPropertiesOfType(propsType)) {
      if (declaredIn(property, 'contracts')) {
        configurationFields.push(property.name);
        continue;
      }
      if (declaredIn(property, 'node_modules')) {
        libraryProps += 1;
        continue;
      }
      const propertyDeclaration = property.valueDeclaration as ts.PropertySignature | undefined;
      const defaultTag = property.getJsDocTags(checker).find((tag) => tag.name === 'default');
      props.push({
        name: property.name,
        type: propertyDeclaration?.type
          ? oneLine(propertyDeclaration.type.getText())
          : checker.typeToString(checker.getTypeOfSymbol(property)),
        optional: (property.flags & ts.SymbolFlags.Optional) !== 0,
        defaultValue: defaultTag ? ts.displayPartsToString(defaultTag.text) : undefined,
        description: ts.displayPartsToString(property.getDocumentationComment(checker)),
      });
    }
    docs.push({
      name: symbol.name,
      description: ts.displayPartsToString(symbol.getDocumentationComment(checker)) || moduleHeader(declaration.getSourceFile()),
      propsName: propsParameter.type.getText(),
      props,
      configurationFields,
      libraryProps,
    });
  }
  return docs.sort((a, b) => (a.name === 'MlopsPlatform' ? -1 : b.name === 'MlopsPlatform' ? 1 : a.name.localeCompare(b.name)));
}

function section(doc: ConstructDoc): string {
  const lines = [`## ${doc.name}`, ''];
  if (doc.description) lines.push(oneLine(doc.description), '');
  lines.push(`\`new ${doc.name}(scope, id, props: ${doc.propsName})\``, '');
  if (doc.configurationFields.length > 0) {
    lines.push(
      `The platform configuration's fields are props too (${doc.configurationFields.map((field) => `\`${field}\``).join(', ')}): each with its type, default and rule in [configuration.md](configuration.md). The props below are the resources a team brings.`,
      '',
    );
  }
  if (doc.libraryProps > 0) {
    const base = doc.propsName === 'MlopsStackProps' ? "aws-cdk-lib's `StackProps`" : 'the interface it extends';
    lines.push(`It also takes the ${doc.libraryProps} props of ${base}.`, '');
  }
  if (doc.props.length > 0) {
    lines.push('| prop | type | default | meaning |', '| --- | --- | --- | --- |');
    for (const prop of doc.props) {
      const defaultValue = prop.optional ? cell(prop.defaultValue ?? '') : '(required)';
      lines.push(`| \`${prop.name}\` | \`${cell(prop.type)}\` | ${defaultValue} | ${cell(prop.description)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The whole reference, as Markdown. */
export function apiReference(): string {
  const docs = constructDocs();
  return `<!-- Generated by \`npm run docs:api\` from lib/index.ts; do not edit by hand. -->

# API reference

The constructs the package exports (\`import { … } from 'cdk-mlops'\`): \`MlopsPlatform\`, the whole
platform, and the building blocks it composes, for teams that compose their own. Each takes
\`(scope, id, props)\`; an optional prop left out takes the default shown.

${docs.map((doc) => `- [${doc.name}](#${doc.name.toLowerCase()})`).join('\n')}

${docs.map(section).join('\n')}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(API_REFERENCE_PATH, apiReference());
  process.stdout.write(`wrote ${path.relative(process.cwd(), API_REFERENCE_PATH)}\n`);
}
