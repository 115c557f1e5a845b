import { z } from 'zod';

/** The shapes environment variables take, and how each is documented: the pieces every group of variables is written with. */

/** A variable's documentation; `default` is for defaults that are not one plain value. */
export type Doc = {
  readonly doc: string;
  readonly default?: string;
  /** Read only by the `attache` command, not by the service. */
  readonly cliOnly?: boolean;
};
export const documented = <T extends z.ZodType>(schema: T, doc: Doc): T => schema.meta(doc) as T;

export const text = z.string().trim().min(1, 'must not be empty');
export const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
export const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false'))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const onOff = z.string().trim().toLowerCase().pipe(z.enum(['on', 'off'], 'must be on or off'));
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).transform((v) => v.replace(/\/+$/, ''));
/** A dotted path of JSON field names, e.g. `user.role`. */
export const fieldPath = z
  .string()
  .trim()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a field name or a dotted path such as user.role');
const origin = z
  .url({ protocol: /^https?$/, error: 'must list origins such as https://app.example.com' })
  .transform((v) => new URL(v))
  .refine((u) => u.pathname === '/' && !u.search && !u.hash && !u.username, 'must list origins (scheme://host[:port]) without a path')
  .transform((u) => u.origin);
export const originList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
  )
  .pipe(z.array(origin));
export const urlMode = z.enum(['public', 'signed', 'redirect'], 'must be public, signed or redirect');
export const payloadSigning = z.enum(['auto', 'unsigned-over-https', 'always'], 'must be auto, unsigned-over-https or always');
/** SigV4 and GCS V4 signatures are valid for at most 7 days (and so, for the same links, Azure SAS here). */
export const SIGNED_URL_MAX_TTL = 604_800;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
