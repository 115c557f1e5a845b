import { ConfigError } from './config-error.ts';
import type { Environment } from './environment.ts';

/** Direct uploads, when on (DIRECT_UPLOADS). */
export interface DirectUploadConfig {
  /** The secret to sign with, then one still accepted; undefined: made up at start (development only). */
  readonly secrets: readonly string[] | undefined;
  readonly ttlSeconds: number;
}

const SECRETS = ['DIRECT_UPLOAD_SECRET', 'DIRECT_UPLOAD_PREVIOUS_SECRET'] as const;

/**
 * On by default outside production, off by default in it; a production service with them on needs
 * a secret every instance shares (a made-up one would fail every completion that lands on another
 * instance, and every one after a restart). Secrets given with direct uploads off are a mistake worth saying.
 */
export function directUploadConfig(e: Environment, production: boolean): DirectUploadConfig | undefined {
  const on = (e.DIRECT_UPLOADS ?? (production ? 'off' : 'on')) === 'on';
  if (!on) {
    const stray = SECRETS.find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError(stray, `applies only with DIRECT_UPLOADS=on, which is ${e.DIRECT_UPLOADS === 'off' ? 'set to off' : 'off by default with NODE_ENV=production'}`);
    return undefined;
  }
  if (e.DIRECT_UPLOAD_SECRET === undefined) {
    if (e.DIRECT_UPLOAD_PREVIOUS_SECRET !== undefined) throw new ConfigError('DIRECT_UPLOAD_PREVIOUS_SECRET', 'needs DIRECT_UPLOAD_SECRET, the new secret');
    if (production) throw new ConfigError('DIRECT_UPLOAD_SECRET', 'is required with DIRECT_UPLOADS=on when NODE_ENV=production');
    return { secrets: undefined, ttlSeconds: e.DIRECT_UPLOAD_TTL };
  }
  const secrets = [e.DIRECT_UPLOAD_SECRET, ...(e.DIRECT_UPLOAD_PREVIOUS_SECRET === undefined ? [] : [e.DIRECT_UPLOAD_PREVIOUS_SECRET])];
  return { secrets, ttlSeconds: e.DIRECT_UPLOAD_TTL };
}
