import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { errorResponse, STATUS_BY_CODE } from '../../src/adapters/http/error-responses.ts';
import { loadConfig } from '../../src/composition/config.ts';
import { fileWithText } from '../support/file-heads.ts';
import { startAttache, type RunningAttache } from '../../src/composition/service.ts';
import { TEST_TOKENS } from '../support/attache-under-test.ts';

type Document = {
  components: { schemas: Record<string, object> };
  paths: Record<string, Record<'post' | 'delete', { responses: Record<string, { content: Record<string, { schema: object }> }> }>>;
};

const COMPLETE_PATH = '/v1/chat/upload/direct/{upload_id}/complete';
const UPLOAD_POINTER = '~1v1~1chat~1upload~1';
const COMPLETE_POINTER = COMPLETE_PATH.replaceAll('/', '~1');
const DIRECT_ONLY = new Set(['UPLOAD_NOT_FOUND', 'UPLOAD_INCOMPLETE', 'CHECKSUM_MISMATCH']);
const PATCH_PATH = '/v1/chat/upload/resumable/{upload_id}';
/** Resumable uploads' own errors, answered by their PATCH. */
const RESUMABLE_ONLY = new Set(['UPLOAD_OFFSET_MISMATCH', 'PROTOCOL_VERSION_UNSUPPORTED', 'WRONG_CONTENT_TYPE']);
const UPPY_START_PATH = '/v1/chat/upload/uppy/s3/multipart';
/**
 * Answered by Uppy's start of a multipart upload and not the upload endpoint: on a driver without
 * presigned parts, or to a JSON body over its bound (as the direct announcement and Uppy's completion).
 */
const UPPY_ONLY = new Set(['UPLOAD_METHOD_UNSUPPORTED', 'REQUEST_BODY_TOO_LARGE']);

describe('GET /openapi.json', () => {
  let running: RunningAttache;
  let document: Document;
  let ajv: InstanceType<typeof Ajv2020>;

  beforeAll(async () => {
    running = await startAttache(loadConfig({ PORT: '0', STORAGE_DRIVER: 'memory', MAX_FILE_SIZE: '1000' }), {
      logger: pino({ level: 'silent' }),
      auth: new StaticTokenAuth([{ token: TEST_TOKENS.store, role: 'store', id: '42' }]),
    });
    const response = await fetch(`${running.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    document = (await response.json()) as Document;
    // The document's schemas, under its own URL, so their #/components/... references resolve.
    ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema(document, 'openapi.json');
  });
  afterAll(async () => {
    await running?.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document).toMatchObject({ openapi: expect.stringMatching(/^3\.1\./) });
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes the body of every domain error exactly as the error table answers it', async () => {
    const errors = await import('../../src/domain/errors.ts');
    const samples = [
      new errors.Unauthorized('unknown token'),
      new errors.FileRequired('the file is empty'),
      new errors.UnsupportedFileType('.exe is not allowed'),
      new errors.InvalidSessionId('too long'),
      new errors.InvalidFileName('control characters'),
      new errors.InvalidUpload('two files'),
      new errors.FileTooLarge(1000),
      new errors.RequestBodyTooLarge(16384),
      new errors.ObjectAlreadyExists('chat/general/k-a.jpg'),
      new errors.StorageUnavailable('bucket missing'),
      new errors.AuthenticationUnavailable('backend down'),
      new errors.ShuttingDown(),
      new errors.MalwareFound('Eicar-Signature'),
      new errors.FileTooLargeToScan('INSTREAM size limit exceeded'),
      new errors.ScannerUnavailable('clamd is down'),
      new errors.UploadNotFound('expired'),
      new errors.UploadIncomplete('nothing sent'),
      new errors.ChecksumMismatch('another SHA-256'),
      new errors.TooManyRequests({ policy: 'uploads', limit: 120, windowSeconds: 60, remaining: 0, resetSeconds: 42 }),
      new errors.QuotaExceeded({ policy: 'quota', limit: 5e9, windowSeconds: 86_400, remaining: 1000, resetSeconds: 600 }),
      new errors.LimitsUnavailable('Valkey did not answer'),
      new errors.UploadOffsetMismatch("the upload's offset is 10"),
      new errors.ProtocolVersionUnsupported('the Tus-Resumable header is missing'),
      new errors.WrongContentType('send the bytes as application/offset+octet-stream'),
      new errors.Forbidden('a store token may delete only the attachments it uploaded'),
      new errors.AttachmentNotFound('no attachment at chat/a/b.jpg'),
      new errors.InvalidIdempotencyKey('the key is empty'),
      new errors.UploadInProgress(),
      new errors.IdempotencyKeyReused(),
      new errors.IdempotencyUnavailable('Valkey did not answer'),
      new errors.UploadMethodUnsupported('multipart direct uploads need STORAGE_DRIVER=s3'),
    ];
    // Every code the table knows is sampled, so a new error cannot go undocumented.
    expect(samples.map((e) => e.code).sort()).toEqual(Object.keys(STATUS_BY_CODE).sort());
    for (const error of samples) {
      const { status, body } = errorResponse(error);
      // Direct uploads' own errors are answered by their completion, resumable ones by PATCH, deletion's by DELETE, the rest by the upload endpoint too.
      const uploadAnswers = String(status) in document.paths['/v1/chat/upload/']!.post.responses;
      const [path, method] = UPPY_ONLY.has(error.code)
        ? [UPPY_START_PATH.replaceAll('/', '~1'), 'post']
        : RESUMABLE_ONLY.has(error.code)
        ? [PATCH_PATH.replaceAll('/', '~1'), 'patch']
        : DIRECT_ONLY.has(error.code)
          ? [COMPLETE_POINTER, 'post']
          : uploadAnswers
            ? [UPLOAD_POINTER, 'post']
            : ['~1v1~1chat~1files~1{key}', 'delete'];
      const validate = ajv.compile({ $ref: `openapi.json#/paths/${path}/${method}/responses/${status}/content/application~1json/schema` });
      expect(validate(body), `${error.code}: ${JSON.stringify(body)} ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('documents every status the error table can answer', () => {
    const documented = [
      ...Object.keys(document.paths['/v1/chat/upload/']!.post.responses),
      ...Object.keys(document.paths[COMPLETE_PATH]!.post.responses),
      ...Object.keys((document.paths[PATCH_PATH] as unknown as { patch: { responses: object } }).patch.responses),
      ...Object.keys(document.paths['/v1/chat/files/{key}']!.delete.responses),
      ...Object.keys(document.paths[UPPY_START_PATH]!.post.responses),
    ];
    for (const status of new Set(Object.values(STATUS_BY_CODE))) expect(documented).toContain(String(status));
    expect(documented).toContain('500');
  });

  const cases: Array<[string, number, () => FormData, string | undefined]> = [
    ['a stored file', 200, () => form([['session_id', '1'], ['file', fileWithText('photo.jpg', 'jpeg bytes'), 'photo.jpg']]), TEST_TOKENS.store],
    ['no file', 400, () => form([['session_id', '1']]), TEST_TOKENS.store],
    ['an unsupported type', 400, () => form([['file', 'MZ', 'tool.exe']]), TEST_TOKENS.store],
    ['a bad session_id', 400, () => form([['session_id', '../etc'], ['file', 'x', 'a.pdf']]), TEST_TOKENS.store],
    ['no token', 401, () => form([['file', 'x', 'a.pdf']]), undefined],
    ['an unknown token', 401, () => form([['file', 'x', 'a.pdf']]), 'unknown-token-1234567'],
    ['a file over MAX_FILE_SIZE', 413, () => form([['session_id', '1'], ['file', 'x'.repeat(5000), 'big.pdf']]), TEST_TOKENS.store],
  ];

  it.each(cases)('describes the answer to %s (%i) exactly', async (_, status, body, token) => {
    const response = await fetch(`${running.url}/v1/chat/upload/`, {
      method: 'POST',
      headers: token === undefined ? {} : { Authorization: `Token ${token}` },
      body: body(),
    });
    expect(response.status).toBe(status);
    const documented = document.paths['/v1/chat/upload/']!.post.responses[String(status)];
    expect(documented, `status ${status} is not in the document`).toBeDefined();
    const contentType = response.headers.get('content-type')!.split(';')[0]!;
    const media = documented!.content[contentType];
    expect(media, `${contentType} is not documented for ${status}`).toBeDefined();
    const validate = ajv.compile({ $ref: `openapi.json#/paths/~1v1~1chat~1upload~1/post/responses/${status}/content/application~1json/schema` });
    const json = await response.json();
    expect(validate(json), `${JSON.stringify(json)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  });

  it('describes the direct-upload routes’ answers exactly: issue, incomplete, complete, not found', async () => {
    const post = (url: string, body?: unknown) =>
      fetch(url, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const check = async (response: Response, pointer: string, status: number) => {
      expect(response.status).toBe(status);
      const validate = ajv.compile({ $ref: `openapi.json#/paths/${pointer}/post/responses/${status}/content/application~1json/schema` });
      const json = await response.json();
      expect(validate(json), `${JSON.stringify(json)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      return json as { upload_id: string; url: string };
    };
    const bytes = fileWithText('photo.jpg', 'jpeg bytes');
    const issued = await check(await post(`${running.url}/v1/chat/upload/direct/`, { filename: 'photo.jpg', size: bytes.length }), '~1v1~1chat~1upload~1direct~1', 200);
    const complete = `${running.url}/v1/chat/upload/direct/${issued.upload_id}/complete`;
    await check(await post(complete), COMPLETE_POINTER, 409);
    expect((await fetch(issued.url.replace('localhost', '127.0.0.1'), { method: 'PUT', body: bytes })).status).toBe(204);
    await check(await post(complete), COMPLETE_POINTER, 200);
    await check(await post(`${running.url}/v1/chat/upload/direct/nonsense/complete`), COMPLETE_POINTER, 404);
  });

  it('describes the resumable routes’ answers exactly: create, offset mismatch, incomplete, done, refusals', async () => {
    const base = `${running.url}/v1/chat/upload/resumable/`;
    const tus = (method: string, url: string, headers: Record<string, string> = {}, body?: Buffer) =>
      fetch(url, { method, headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Tus-Resumable': '1.0.0', ...headers }, ...(body && { body }) });
    const check = async (response: Response, path: string, method: string, status: number) => {
      expect(response.status).toBe(status);
      const documented = (document.paths[path] as unknown as Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>)[method]!.responses[String(status)];
      expect(documented, `${method} ${path} ${status} is not in the document`).toBeDefined();
      if (status < 300 && response.status !== 200) {
        // The result headers once the file is stored; an image's preview and size only for images with one.
        const optional = (h: string) => (h.startsWith('Attache-') && !response.headers.has('attache-url')) || /^Attache-(Preview-Url|Width|Height)$/.test(h);
        for (const name of Object.keys(documented!.headers ?? {}).filter((h) => !optional(h))) {
          expect(response.headers.has(name), `${name} on ${method} ${status}`).toBe(true);
        }
        return undefined;
      }
      const validate = ajv.compile({ $ref: `openapi.json#/paths/${path.replaceAll('/', '~1')}/${method}/responses/${status}/content/application~1json/schema` });
      const json = await response.json();
      expect(validate(json), `${JSON.stringify(json)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      return json;
    };
    const bytes = fileWithText('photo.jpg', 'jpeg bytes');
    const metadata = `filename ${Buffer.from('photo.jpg').toString('base64')}`;
    const created = await tus('POST', base, { 'Upload-Length': String(bytes.length), 'Upload-Metadata': metadata });
    await check(created, '/v1/chat/upload/resumable/', 'post', 201);
    const url = new URL(created.headers.get('location')!, base).href;
    const patch = (offset: number, part: Buffer, type = 'application/offset+octet-stream') => tus('PATCH', url, { 'Upload-Offset': String(offset), 'Content-Type': type }, part);
    await check(await patch(3, bytes), PATCH_PATH, 'patch', 409);
    await check(await patch(0, bytes, 'application/octet-stream'), PATCH_PATH, 'patch', 415);
    await check(await fetch(url, { headers: { Authorization: `Token ${TEST_TOKENS.store}` } }), PATCH_PATH, 'get', 409);
    await check(await patch(0, bytes), PATCH_PATH, 'patch', 204);
    await check(await fetch(url, { headers: { Authorization: `Token ${TEST_TOKENS.store}` } }), PATCH_PATH, 'get', 200);
    await check(await tus('POST', base, { 'Tus-Resumable': '0.2.2', 'Upload-Length': '10', 'Upload-Metadata': metadata }), '/v1/chat/upload/resumable/', 'post', 412);
    await check(await tus('POST', base, { 'Upload-Length': '5000', 'Upload-Metadata': metadata }), '/v1/chat/upload/resumable/', 'post', 413);
    await check(await tus('PATCH', `${base}00000000-0000-0000-0000-000000000000`, { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, bytes), PATCH_PATH, 'patch', 404);
  });

  it('describes the @uppy/aws-s3 routes’ answers exactly on a driver without presigned parts: 501, the single PUT refused, 401', async () => {
    const uppy = (method: string, path: string, token: string | undefined, body?: unknown) =>
      fetch(`${running.url}/v1/chat/upload/uppy/${path}`, {
        method,
        headers: { ...(token && { Authorization: `Token ${token}` }), ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const check = async (response: Response, path: string, method: string, status: number) => {
      expect(response.status).toBe(status);
      const validate = ajv.compile({ $ref: `openapi.json#/paths/${path.replaceAll('/', '~1')}/${method}/responses/${status}/content/application~1json/schema` });
      const json = await response.json();
      expect(validate(json), `${JSON.stringify(json)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      expect((json as { message?: unknown }).message).toEqual(expect.any(String));
    };
    await check(await uppy('POST', 's3/multipart', TEST_TOKENS.store, { filename: 'a.jpg', metadata: {} }), UPPY_START_PATH, 'post', 501);
    await check(await uppy('POST', 's3/multipart', undefined, { filename: 'a.jpg' }), UPPY_START_PATH, 'post', 401);
    await check(await uppy('GET', 's3/params?filename=a.jpg', TEST_TOKENS.store), '/v1/chat/upload/uppy/s3/params', 'get', 400);
  });

  it('would catch a drift: an undocumented field fails validation', () => {
    const validate = ajv.compile({ $ref: 'openapi.json#/components/schemas/Unauthorized' });
    expect(validate({ error: 'Unauthorized' })).toBe(true);
    expect(validate({ error: 'Unauthorized', detail: 'unknown token' })).toBe(false);
    expect(validate({ error: 'unauthorized' })).toBe(false);
  });
});

function form(parts: Array<[string, string] | [string, string | Buffer, string]>): FormData {
  const f = new FormData();
  for (const [name, value, fileName] of parts) {
    if (fileName === undefined) f.append(name, value as string);
    else f.append(name, new Blob([value]), fileName);
  }
  return f;
}
