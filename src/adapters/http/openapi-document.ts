/**
 * The OpenAPI 3.1 description of the upload endpoint (and of direct uploads, openapi-direct-paths.ts), served at GET /openapi.json.
 * test/http/openapi.test.ts validates real responses against these schemas, and the document
 * against the OpenAPI 3.1 schema, so it cannot drift from what the service answers.
 */
import { FILES_PATHS, FILES_SCHEMAS } from './openapi-files-paths.ts';
import { DIRECT_UPLOAD_PATHS, DIRECT_UPLOAD_SCHEMAS } from './openapi-direct-paths.ts';
import { RESUMABLE_UPLOAD_PATHS, RESUMABLE_UPLOAD_SCHEMAS } from './openapi-resumable-paths.ts';
import { UPPY_S3_PATHS, UPPY_S3_SCHEMAS, uppyCompletionSchema } from './openapi-uppy-paths.ts';
import { jsonResponse } from './openapi-parts.ts';

/** An error body with one exact `error` string; `detail` only where the service gives one. */
function errorBody(error: string, detail: 'optional' | 'never') {
  return {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: { const: error },
      ...(detail === 'optional' ? { detail: { type: 'string', description: 'Human-readable explanation.' } } : {}),
    },
  } as const;
}

/** Retry-After and the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers), on 429 and, with limits set, on 200. */
const RATE_LIMIT_HEADERS = {
  'Retry-After': { description: 'Seconds until the limit’s window ends.', schema: { type: 'string', pattern: '^[0-9]+$' } },
  'RateLimit-Policy': { description: 'The limits that apply, e.g. `"uploads";q=120;w=60`.', schema: { type: 'string' } },
  RateLimit: { description: 'What is left of them, e.g. `"uploads";r=0;t=42`.', schema: { type: 'string' } },
} as const;

/** What the upload endpoint answers for a stored file. */
const UPLOAD_RESULT = {
  type: 'object',
  required: ['url', 'type'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', format: 'uri', description: 'Public URL of the uploaded file.' },
    type: {
      enum: [
        'image/jpeg',
        'image/png',
        'image/gif',
        'image/heic',
        'image/heif',
        'application/pdf',
        'application/msword',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/vnd.ms-excel',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      ],
      description: 'MIME type of the file, from its extension.',
    },
    size: { type: 'integer', minimum: 1, description: 'Bytes stored (after STRIP_METADATA, when on).' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the bytes stored, in hex; downloads can be checked against it.' },
    preview_url: {
      type: 'string',
      format: 'uri',
      description: 'Images only, with PREVIEWS=on: a WebP preview every browser shows (longest side PREVIEW_MAX_PX, upright, no metadata). Absent when none could be made.',
    },
    width: { type: 'integer', minimum: 1, description: 'Images only, with PREVIEWS=on: the original’s width as shown (after its EXIF orientation).' },
    height: { type: 'integer', minimum: 1, description: 'Images only, with PREVIEWS=on: the original’s height as shown.' },
  },
} as const;

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'attache',
    version: '1.0.0',
    description: 'Upload a file attachment for use in chat messages; answers with a public URL.',
  },
  components: {
    securitySchemes: {
      token: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description: 'An admin or store token, sent as `Authorization: Token <token>` (`Bearer <token>` is accepted too).',
      },
    },
    parameters: {
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'draft-ietf-httpapi-idempotency-key-header: a key of your choosing (a UUID), as a quoted string (`"8e03978e-…"`) or a bare token, at most 255 characters. The same key from the same caller within IDEMPOTENCY_TTL answers the first upload’s answer, storing nothing again; while the first is running, 409 `Upload in progress`; with another file (size or SHA-256 as sent), 422 `Idempotency key reused`. A failed first upload frees the key.',
        schema: { type: 'string', minLength: 1 },
      },
    },
    schemas: {
      UploadResult: UPLOAD_RESULT,
      UppyCompletion: uppyCompletionSchema(UPLOAD_RESULT),
      FileRequired: errorBody('file is required', 'optional'),
      UnsupportedFileType: errorBody('Unsupported file type', 'optional'),
      InvalidSessionId: errorBody('Invalid session_id', 'optional'),
      InvalidFileName: errorBody('Invalid file name', 'optional'),
      InvalidUpload: errorBody('Invalid upload', 'optional'),
      Unauthorized: errorBody('Unauthorized', 'never'),
      FileTooLarge: errorBody('File too large', 'optional'),
      FileTooLargeToScan: errorBody('File too large to scan', 'optional'),
      RequestBodyTooLarge: errorBody('Request body too large', 'optional'),
      FileRejected: {
        ...errorBody('File rejected', 'optional'),
        required: ['error', 'detail'],
        description: 'The malware scanner found something; `detail` names the signature (e.g. `Heuristics.OLE2.ContainsMacros`).',
      },
      UploadConflict: errorBody('Upload conflict', 'optional'),
      InvalidIdempotencyKey: errorBody('Invalid Idempotency-Key', 'optional'),
      UploadInProgress: errorBody('Upload in progress', 'optional'),
      IdempotencyKeyReused: errorBody('Idempotency key reused', 'optional'),
      InternalError: errorBody('Internal server error', 'never'),
      Unavailable: {
        oneOf: [
          errorBody('Storage unavailable', 'never'),
          errorBody('Authentication unavailable', 'never'),
          errorBody('Scanner unavailable', 'never'),
          errorBody('Shutting down', 'never'),
          errorBody('Limits unavailable', 'never'),
          errorBody('Idempotency unavailable', 'never'),
        ],
      },
      ...DIRECT_UPLOAD_SCHEMAS,
      TooManyRequests: errorBody('Too many requests', 'optional'),
      QuotaExceeded: errorBody('Quota exceeded', 'optional'),
      ...RESUMABLE_UPLOAD_SCHEMAS,
      ...UPPY_S3_SCHEMAS,
      ...FILES_SCHEMAS,
    },
  },
  paths: {
    '/v1/chat/upload/': {
      post: {
        operationId: 'uploadChatAttachment',
        summary: 'Upload a chat attachment',
        security: [{ token: [] }],
        parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['file'],
                properties: {
                  file: {
                    type: 'string',
                    contentMediaType: 'application/octet-stream',
                    description: 'JPG, JPEG, PNG, GIF, HEIC, HEIF, PDF, DOC, DOCX, XLS or XLSX; at most MAX_FILE_SIZE bytes.',
                  },
                  session_id: {
                    type: 'string',
                    pattern: '^[A-Za-z0-9_-]{1,128}$',
                    description: 'Files go to chat/session-{session_id}/; without it, to the uploader’s own folder.',
                  },
                },
              },
            },
          },
        },
        responses: {
          '200': {
            ...jsonResponse('Stored.', { $ref: '#/components/schemas/UploadResult' }),
            headers: { 'RateLimit-Policy': RATE_LIMIT_HEADERS['RateLimit-Policy'], RateLimit: RATE_LIMIT_HEADERS.RateLimit },
          },
          '400': jsonResponse('No file, an unsupported type, a bad session_id or file name, or a malformed form.', {
            oneOf: [
              { $ref: '#/components/schemas/FileRequired' },
              { $ref: '#/components/schemas/UnsupportedFileType' },
              { $ref: '#/components/schemas/InvalidSessionId' },
              { $ref: '#/components/schemas/InvalidFileName' },
              { $ref: '#/components/schemas/InvalidUpload' },
              { $ref: '#/components/schemas/InvalidIdempotencyKey' },
            ],
          }),
          '401': {
            ...jsonResponse('Missing, malformed or unknown token, or a role other than admin and store.', {
              $ref: '#/components/schemas/Unauthorized',
            }),
            headers: { 'WWW-Authenticate': { schema: { const: 'Token' } } },
          },
          '409': jsonResponse('The generated key was taken (practically never; retry), or a request with the same Idempotency-Key is still running (retry once it has finished).', {
            oneOf: [{ $ref: '#/components/schemas/UploadConflict' }, { $ref: '#/components/schemas/UploadInProgress' }],
          }),
          '413': jsonResponse('Larger than MAX_FILE_SIZE, or than the malware scanner reads; nothing is kept.', {
            oneOf: [{ $ref: '#/components/schemas/FileTooLarge' }, { $ref: '#/components/schemas/FileTooLargeToScan' }],
          }),
          '422': jsonResponse('MALWARE_SCAN=clamd found malware (or, with AlertOLE2Macros, an Office macro), or the Idempotency-Key was used for another file (size or SHA-256); nothing is kept.', {
            oneOf: [{ $ref: '#/components/schemas/FileRejected' }, { $ref: '#/components/schemas/IdempotencyKeyReused' }],
          }),
          '429': {
            ...jsonResponse(
              'Over UPLOAD_RATE_LIMIT (uploads per principal) or AUTH_FAILURE_LIMIT (refused tokens from this address): Too many requests; over UPLOAD_QUOTA (bytes per principal, the declared Content-Length reserved): Quota exceeded. Answered before the body is read.',
              { oneOf: [{ $ref: '#/components/schemas/TooManyRequests' }, { $ref: '#/components/schemas/QuotaExceeded' }] },
            ),
            headers: RATE_LIMIT_HEADERS,
          },
          '500': jsonResponse('A bug; the cause is logged, not returned.', { $ref: '#/components/schemas/InternalError' }),
          '503': jsonResponse('Storage, the token backend, the malware scanner, (RATE_LIMIT_ON_ERROR=reject) the limits’ Valkey or, for a request with an Idempotency-Key, the Valkey keeping them cannot be reached, or the service is shutting down.', {
            $ref: '#/components/schemas/Unavailable',
          }),
        },
      },
    },
    ...DIRECT_UPLOAD_PATHS,
    ...RESUMABLE_UPLOAD_PATHS,
    ...UPPY_S3_PATHS,
    ...FILES_PATHS,
  },
} as const;
