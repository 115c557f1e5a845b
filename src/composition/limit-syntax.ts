import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * How limits are written in the environment: `120/1m` (so many per window), `5GB/1d` (so many
 * bytes per window), and lists of proxy addresses. Parsed once here, for environment.ts.
 */

const WINDOW_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

export interface ParsedLimit {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** `[N]s|m|h|d` → seconds; the count defaults to 1. */
function windowOf(count: string, unit: string): number | undefined {
  const seconds = (count === '' ? 1 : Number(count)) * WINDOW_SECONDS[unit.toLowerCase()]!;
  return seconds >= 1 && seconds <= 31 * 86_400 ? seconds : undefined;
}

/**
 * `AMOUNT/WINDOW`: `amount` reads the part before the slash (the regex's groups 1 and 2), the
 * window is `[N]s|m|h|d`; anything else, or an amount below 1, is `message`.
 */
function perWindow(amountPattern: string, amount: (count: string, unit: string | undefined) => number, message: string) {
  const pattern = new RegExp(`^${amountPattern}\\s*/\\s*(\\d*)\\s*([smhd])$`, 'i');
  return z
    .string()
    .trim()
    .transform((value, ctx): ParsedLimit => {
      const match = pattern.exec(value);
      const windowSeconds = match && windowOf(match[3]!, match[4]!);
      const limit = match ? amount(match[1]!, match[2]) : 0;
      if (!windowSeconds || !(limit >= 1 && Number.isSafeInteger(limit))) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return { limit, windowSeconds };
    });
}

/** `120/1m`, `20/m`, `1000/1h`: a whole number of events per window of seconds, minutes, hours or days (at most 31 days). */
export const rateLimit = perWindow('(\\d+)()', Number, 'must be COUNT/WINDOW such as 120/1m (window in s, m, h or d, at most 31d)');

/** `5GB/1d`, `500MiB/1h`: bytes (B, KB/MB/GB/TB by 1000, KiB/MiB/GiB/TiB by 1024) per window. */
export const byteQuota = perWindow(
  '(\\d+(?:\\.\\d+)?)\\s*([kmgt]i?b|b)?',
  (count, unit) => Math.floor(Number(count) * BYTE_UNITS[(unit ?? 'b').toLowerCase()]!),
  'must be SIZE/WINDOW such as 5GB/1d (B, KB, MB, GB, TB, KiB … TiB; window in s, m, h or d)',
);

/** Comma-separated addresses or CIDR ranges (`10.0.0.0/8, 127.0.0.1, ::1`). */
export const addressList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== ''),
  )
  .pipe(z.array(z.string().refine(isAddressOrRange, 'must list IP addresses or CIDR ranges such as 10.0.0.0/8')));

function isAddressOrRange(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}
