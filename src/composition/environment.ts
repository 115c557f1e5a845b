import { z } from 'zod';
import { SERVICE_VARIABLES } from './environment/service-variables.ts';
import { ACCESS_VARIABLES } from './environment/access-variables.ts';
import { OPERATIONS_VARIABLES } from './environment/operations-variables.ts';
import { LIMIT_VARIABLES } from './environment/limit-variables.ts';
import { STORAGE_VARIABLES } from './environment/storage-variables.ts';
import { PROCESSING_VARIABLES } from './environment/processing-variables.ts';
import { WAY_IN_VARIABLES } from './environment/way-in-variables.ts';
import { COMMAND_VARIABLES } from './environment/command-variables.ts';
import type { Doc } from './environment/variable-syntax.ts';

/**
 * Every environment variable attache reads: its name, how it is validated, its default and its
 * documentation, each written once, in the groups under environment/ (storage, limits, ways in,
 * operations...) that this file assembles. loadConfig (config.ts) parses with this schema; the
 * configuration table in docs/ is generated from it (`npm run docs`), and a test checks that
 * nothing in src/ reads a variable this table lacks.
 */

export { DEFAULT_PREVIEW_MAX_HELD_BYTES } from './environment/processing-variables.ts';

// Spread in this order, the groups keep the order docs/configuration.md lists the variables in.
export const ENVIRONMENT = z.object({
  ...SERVICE_VARIABLES,
  ...ACCESS_VARIABLES,
  ...OPERATIONS_VARIABLES,
  ...LIMIT_VARIABLES,
  ...STORAGE_VARIABLES,
  ...PROCESSING_VARIABLES,
  ...WAY_IN_VARIABLES,
  ...COMMAND_VARIABLES,
});

export type Environment = z.infer<typeof ENVIRONMENT>;

/** Every variable with its default and meaning, as the docs show them. */
export const ENVIRONMENT_VARIABLES: Readonly<Record<string, { readonly default: string; readonly description: string }>> = Object.fromEntries(
  Object.entries(ENVIRONMENT.shape).map(([name, schema]) => {
    const doc = schema.meta() as unknown as Doc;
    return [name, { default: doc.default ?? defaultOf(schema), description: doc.cliOnly ? `${doc.doc} (The \`attache\` command only.)` : doc.doc }];
  }),
);

/** The configuration table of docs/configuration.md, generated from ENVIRONMENT (`npm run docs` writes it). */
export function configurationTable(): string {
  const cell = (value: string) => value.replaceAll('|', '\\|');
  const rows = Object.entries(ENVIRONMENT_VARIABLES).map(([name, v]) => `| \`${name}\` | ${cell(v.default)} | ${cell(v.description)} |`);
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** A schema's own default, as docs show it: `value`, or (none). */
function defaultOf(schema: z.ZodType): string {
  const def = (schema as { def: { type: string; defaultValue?: unknown } }).def;
  if (def.type !== 'default') return '(none)';
  const value = def.defaultValue;
  return Array.isArray(value) && value.length === 0 ? '(none)' : `\`${String(value)}\``;
}
