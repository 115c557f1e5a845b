import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The settings of deploy/attache.service that the tests run or compare, as systemd reads them. */
export interface SystemdUnit {
  /** Every `Key=value` of the [Service] section, in order (a key may repeat). */
  readonly service: ReadonlyArray<readonly [string, string]>;
  /** The `Environment=` assignments, later ones winning, as systemd merges them. */
  readonly environment: Readonly<Record<string, string>>;
  /** ExecStart split into words (the unit uses no quoting, which this parser refuses). */
  readonly execStart: readonly string[];
  readonly workingDirectory: string;
  /** TimeoutStopSec in milliseconds. */
  readonly timeoutStopMs: number;
}

export const UNIT_FILE = 'deploy/attache.service';

/** Reads `checkoutDir`'s unit file. Only the syntax the unit uses is understood; anything else throws, so the test cannot read it wrong. */
export function readSystemdUnit(checkoutDir: string): SystemdUnit {
  const text = readFileSync(join(checkoutDir, UNIT_FILE), 'utf8');
  const service: [string, string][] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.endsWith('\\')) throw new Error(`${UNIT_FILE}: continuation lines are not understood by this test: ${line}`);
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`${UNIT_FILE}: not a Key=value line: ${line}`);
    if (section === 'Service') service.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  const all = (key: string) => service.filter(([k]) => k === key).map(([, v]) => v);
  const one = (key: string) => {
    const values = all(key);
    if (values.length !== 1) throw new Error(`${UNIT_FILE}: expected one ${key}=, found ${values.length}`);
    return values[0]!;
  };
  const environment: Record<string, string> = {};
  for (const value of all('Environment')) {
    if (/["'\\%$]/.test(value)) throw new Error(`${UNIT_FILE}: quoting, specifiers and variables in Environment= are not understood by this test: ${value}`);
    for (const pair of value.split(/\s+/)) {
      const at = pair.indexOf('=');
      environment[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  const execStart = one('ExecStart');
  if (/["'\\%$;]/.test(execStart)) throw new Error(`${UNIT_FILE}: quoting, specifiers and variables in ExecStart= are not understood by this test: ${execStart}`);
  return { service, environment, execStart: execStart.split(/\s+/), workingDirectory: one('WorkingDirectory'), timeoutStopMs: seconds(one('TimeoutStopSec')) * 1000 };
}

/** `35s`, `35` or `1min 5s`: the forms of systemd.time(7) a stop timeout is written in. */
function seconds(span: string): number {
  let total = 0;
  for (const part of span.trim().split(/\s+/)) {
    const match = /^(\d+)(s|sec|min|m)?$/.exec(part);
    if (!match) throw new Error(`${UNIT_FILE}: time span not understood by this test: ${span}`);
    total += Number(match[1]) * (match[2] === 'min' || match[2] === 'm' ? 60 : 1);
  }
  return total;
}
