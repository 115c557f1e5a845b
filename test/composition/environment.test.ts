/**
 * One source of truth per setting: src/composition/environment.ts names, validates, defaults and
 * documents every variable; nothing in src/ reads one it lacks.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_STORAGE_DIR, loadConfig } from '../../src/composition/config.ts';
import { ENVIRONMENT, ENVIRONMENT_VARIABLES } from '../../src/composition/environment.ts';

const src = fileURLToPath(new URL('../../src', import.meta.url));
/** `process.env.X`, `env.X`, `io.env.X`, `env['X']`: the ways src/ reads a variable. */
const READ = /\benv(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g;

async function variablesReadInSource(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const file of await readdir(src, { recursive: true })) {
    if (!file.endsWith('.ts')) continue;
    const text = await readFile(join(src, file), 'utf8');
    for (const match of text.matchAll(READ)) found.set(match[1] ?? match[2]!, file);
  }
  return found;
}

describe('the environment table', () => {
  it('has every variable src/ reads', async () => {
    const read = await variablesReadInSource();
    const missing = [...read].filter(([name]) => !(name in ENVIRONMENT.shape)).map(([name, file]) => `${name} (read in ${file})`);
    expect(missing).toEqual([]);
  });

  it('documents every variable it validates, with a default', () => {
    for (const [name, { default: byDefault, description }] of Object.entries(ENVIRONMENT_VARIABLES)) {
      expect({ name, description: description.length > 10, byDefault: byDefault.length > 0 }).toEqual({ name, description: true, byDefault: true });
    }
    expect(Object.keys(ENVIRONMENT_VARIABLES)).toEqual(Object.keys(ENVIRONMENT.shape));
  });

  it('shows a default that is one plain value as that value, the one loadConfig applies', () => {
    expect(ENVIRONMENT_VARIABLES['PORT']!.default).toBe('`8080`');
    expect(loadConfig({}).port).toBe(8080);
    expect(ENVIRONMENT_VARIABLES['MAX_FILE_SIZE']!.default).toBe('`26214400`');
    expect(loadConfig({}).maxFileSize).toBe(26_214_400);
  });

  it('refuses scanning settings that would do nothing, naming the variable', () => {
    expect(() => loadConfig({ CLAMD_PORT: '3310' })).toThrow(/^CLAMD_PORT: applies only with MALWARE_SCAN=clamd/);
    expect(() => loadConfig({ MALWARE_SCAN_ON_ERROR: 'accept' })).toThrow(/^MALWARE_SCAN_ON_ERROR:/);
    expect(loadConfig({ MALWARE_SCAN: 'clamd', CLAMD_SOCKET: '/run/clamd.sock' }).malwareScan).toMatchObject({ socket: '/run/clamd.sock', onError: 'reject' });
  });

  it('takes the S3 payload signing, auto by default, and refuses a value it does not know, naming the variable', () => {
    const s3 = { STORAGE_DRIVER: 's3', S3_BUCKET: 'b' };
    expect(loadConfig(s3).storage).toMatchObject({ payloadSigning: 'auto' });
    expect(loadConfig({ ...s3, S3_PAYLOAD_SIGNING: 'unsigned-over-https' }).storage).toMatchObject({ payloadSigning: 'unsigned-over-https' });
    expect(() => loadConfig({ ...s3, S3_PAYLOAD_SIGNING: 'never' })).toThrow(/^S3_PAYLOAD_SIGNING: must be auto, unsigned-over-https or always/);
  });

  it('takes Azure credentials from exactly one place, and refuses what would not work, naming the variable', () => {
    const azure = { STORAGE_DRIVER: 'azure', AZURE_STORAGE_CONTAINER: 'c' };
    expect(() => loadConfig({ STORAGE_DRIVER: 'azure' })).toThrow(/^AZURE_STORAGE_CONTAINER: is required when STORAGE_DRIVER=azure/);
    expect(() => loadConfig(azure)).toThrow(/^AZURE_STORAGE_ACCOUNT: or AZURE_STORAGE_CONNECTION_STRING is required/);
    expect(loadConfig({ ...azure, AZURE_STORAGE_ACCOUNT: 'a' }).storage).toMatchObject({ driver: 'azure', account: 'a', ambientIdentity: true, urlMode: 'public' });
    expect(loadConfig({ ...azure, AZURE_STORAGE_ACCOUNT: 'a', AZURE_STORAGE_KEY: 'k' }).storage).toMatchObject({ ambientIdentity: false, accountKey: 'k' });
    expect(() => loadConfig({ ...azure, AZURE_STORAGE_KEY: 'k', AZURE_STORAGE_ENDPOINT: 'http://127.0.0.1:10000/acct' })).toThrow(/^AZURE_STORAGE_KEY: needs AZURE_STORAGE_ACCOUNT/);
    const connectionString = 'UseDevelopmentStorage=true';
    expect(loadConfig({ ...azure, AZURE_STORAGE_CONNECTION_STRING: connectionString, AZURE_URL_MODE: 'signed' }).storage).toMatchObject({ ambientIdentity: false, urlMode: 'signed' });
    expect(() => loadConfig({ ...azure, AZURE_STORAGE_CONNECTION_STRING: connectionString, AZURE_STORAGE_ACCOUNT: 'a' })).toThrow(/^AZURE_STORAGE_ACCOUNT: cannot be combined/);
    expect(loadConfig({ ...azure, AZURE_STORAGE_ACCOUNT: 'a', AZURE_URL_MODE: 'signed' }).storage).toMatchObject({ ambientIdentity: true, urlMode: 'signed' });
    const sasConnection = 'BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2024-08-04&sig=x';
    expect(() => loadConfig({ ...azure, AZURE_STORAGE_CONNECTION_STRING: sasConnection, AZURE_URL_MODE: 'signed' })).toThrow(/^AZURE_URL_MODE: signed needs a connection string with AccountKey/);
    expect(() => loadConfig({ ...azure, AZURE_STORAGE_CONNECTION_STRING: sasConnection, AZURE_URL_MODE: 'redirect' })).toThrow(/^AZURE_URL_MODE: redirect needs a connection string with AccountKey/);
    // With redirect links, PUBLIC_BASE_URL is attache's own address, not the container's.
    expect(loadConfig({ ...azure, AZURE_STORAGE_ACCOUNT: 'a', AZURE_URL_MODE: 'redirect', PUBLIC_BASE_URL: 'https://chat.example' }).storage).toMatchObject({
      urlMode: 'redirect',
      publicBaseUrl: undefined,
      redirectBaseUrl: 'https://chat.example',
    });
    expect(() => loadConfig({ ...azure, AZURE_STORAGE_ACCOUNT: 'a', AZURE_BLOCK_SIZE_MB: '0' })).toThrow(/^AZURE_BLOCK_SIZE_MB: must be at least 1/);
    expect(loadConfig({ ...azure, AZURE_STORAGE_ACCOUNT: 'a', AZURE_BLOCK_SIZE_MB: '4' }).storage).toMatchObject({ blockSizeBytes: 4 * 1024 * 1024, queueSize: 2, maxRetries: 2, requestTimeoutMs: 30_000 });
  });

  it("keeps local files in attache's own data/uploads by default, wherever it is started from", () => {
    expect(DEFAULT_LOCAL_STORAGE_DIR).toBe(fileURLToPath(new URL('../../data/uploads', import.meta.url)));
    expect(loadConfig({}).storage).toMatchObject({ driver: 'local', dir: DEFAULT_LOCAL_STORAGE_DIR });
    expect(loadConfig({ LOCAL_STORAGE_DIR: 'elsewhere' }).storage).toMatchObject({ dir: join(process.cwd(), 'elsewhere') });
  });

  it('takes every relative path from one folder, the working directory unless told another (the CLI: where it was typed)', () => {
    const env = { LOCAL_STORAGE_DIR: 'files', AUTH_TOKENS_FILE: './tokens.json', MALWARE_SCAN: 'clamd', CLAMD_SOCKET: '../run/clamd.sock' };
    const config = loadConfig(env, { cwd: '/home/op/attache-work' });
    expect([config.storage, config.authTokensFile, config.malwareScan?.socket]).toEqual([
      expect.objectContaining({ dir: '/home/op/attache-work/files' }),
      '/home/op/attache-work/tokens.json',
      '/home/op/run/clamd.sock',
    ]);
    expect(loadConfig(env).authTokensFile).toBe(join(process.cwd(), 'tokens.json'));
    expect(loadConfig({ AUTH_TOKENS_FILE: '/etc/attache/tokens.json' }, { cwd: '/tmp' }).authTokensFile).toBe('/etc/attache/tokens.json');
  });
});
