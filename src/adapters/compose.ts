/**
 * Builds the adapters a configuration names, without a container. Both composition roots use
 * it: `main.ts` (the HTTP service, which registers the results in tsyringe) and
 * `create-upload-attachment.ts` (the library and the CLI, which must not load tsyringe or Koa).
 * It lives under adapters because it knows them all; domain and application never import it.
 */
import { HttpIntrospectionAuth } from './auth/http-introspection-auth.ts';
import { StaticTokenAuth } from './auth/static-token-auth.ts';
import { ContentMimeDetector } from './mime/content-mime-detector.ts';
import { ExtensionMimeDetector } from './mime/extension-mime-detector.ts';
import { InMemoryObjectStore } from './object-store/in-memory/in-memory-object-store.ts';
import { LocalDiskObjectStore } from './object-store/local-disk/local-disk-object-store.ts';
import type { AuthPort } from '../application/ports/auth-port.ts';
import type { MimeDetector } from '../application/ports/mime-detector.ts';
import type { ObjectStore } from '../application/ports/object-store.ts';
import { ConfigError, type Config, type StorageConfig } from '../config.ts';

/**
 * The ObjectStore the configuration names. SDKs are loaded only for the driver in use.
 * `selfUrl` is where the attache service that serves `local`/`memory` files listens; their URLs
 * default to its /files route.
 */
export async function createObjectStore(storage: StorageConfig, selfUrl: string): Promise<ObjectStore> {
  switch (storage.driver) {
    case 'local':
      return new LocalDiskObjectStore({ rootDir: storage.dir, publicBaseUrl: storage.publicBaseUrl ?? `${selfUrl}/files` });
    case 'memory':
      return new InMemoryObjectStore({ publicBaseUrl: storage.publicBaseUrl ?? `${selfUrl}/files` });
    case 's3': {
      // Loaded only when used: the AWS SDK is large, and local installs never need it.
      const { S3ObjectStore } = await import('./object-store/s3/s3-object-store.ts');
      const { driver: _driver, ...options } = storage;
      return new S3ObjectStore(options);
    }
    case 'gcs': {
      const { GcsObjectStore } = await import('./object-store/gcs/gcs-object-store.ts');
      const { driver: _driver, ...options } = storage;
      return new GcsObjectStore(options);
    }
  }
}

export interface AuthSetup {
  readonly auth: AuthPort;
  /** Set when development tokens were made up because none were configured. */
  readonly developmentTokens?: { readonly admin: string; readonly store: string };
}

/**
 * Tokens come from the platform's API (AUTH_INTROSPECTION_URL) or from a file
 * (AUTH_TOKENS_FILE); config.ts refuses both at once. Neither: development tokens, except in
 * production.
 */
export async function createAuth(config: Config): Promise<AuthSetup> {
  if (config.authIntrospection !== undefined) return { auth: new HttpIntrospectionAuth(config.authIntrospection) };
  if (config.authTokensFile !== undefined) {
    try {
      return { auth: await StaticTokenAuth.fromFile(config.authTokensFile) };
    } catch (error) {
      throw new ConfigError('AUTH_TOKENS_FILE', (error as Error).message);
    }
  }
  if (config.production) throw new ConfigError('AUTH_TOKENS_FILE', 'or AUTH_INTROSPECTION_URL is required when NODE_ENV=production');
  const { auth, tokens } = StaticTokenAuth.development();
  return { auth, developmentTokens: tokens };
}

/**
 * The spec's rule, the MIME type comes from the extension; with CONTENT_CHECK on (the default)
 * the file's first bytes must also agree with it.
 */
export function createMimeDetector(config: Pick<Config, 'contentCheck'>): MimeDetector {
  return config.contentCheck ? new ContentMimeDetector() : new ExtensionMimeDetector();
}

/**
 * Where the service would listen with this configuration, as clients reach it: the default
 * base of `local`/`memory` URLs when the store is used outside the service (library, CLI).
 */
export function defaultSelfUrl(config: Config): string {
  const loopback = ['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(config.host);
  const host = loopback ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}
