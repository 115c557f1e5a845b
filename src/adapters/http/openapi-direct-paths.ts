/**
 * The OpenAPI description of the direct-upload routes (DIRECT_UPLOADS=on), merged into
 * OPENAPI_DOCUMENT. Their error bodies are the upload endpoint's, plus three of their own.
 */
import { jsonResponse, ref, refusedBeforeBytes } from './openapi-parts.ts';

const uploadIdParameter = {
  name: 'upload_id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The `upload_id` that `POST /v1/chat/upload/direct/` gave.',
} as const;

const common = {
  '401': {
    ...jsonResponse('Missing, malformed or unknown token, or a role other than admin and store.', ref('Unauthorized')),
    headers: { 'WWW-Authenticate': { schema: { const: 'Token' } } },
  },
  '500': jsonResponse('A bug; the cause is logged, not returned.', ref('InternalError')),
  '503': jsonResponse('Storage, the token backend or the malware scanner cannot be reached, or the service is shutting down.', ref('Unavailable')),
} as const;

const notFound = jsonResponse('Unknown, expired, tampered with, or another principal’s upload_id.', ref('UploadNotFound'));

export const DIRECT_UPLOAD_SCHEMAS = {
  DirectUploadRequest: {
    type: 'object',
    required: ['filename', 'size'],
    properties: {
      filename: { type: 'string', description: 'The file’s name; its extension decides the type, as for the upload endpoint.' },
      size: { type: 'integer', minimum: 1, description: 'Exactly how many bytes will be sent; at most MAX_FILE_SIZE.' },
      session_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$', description: 'As the upload endpoint’s `session_id`.' },
      sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: 'The bytes’ SHA-256: completion refuses others.' },
    },
  },
  DirectUploadTarget: {
    type: 'object',
    required: ['upload_id', 'method', 'url', 'headers', 'expires_at'],
    additionalProperties: false,
    properties: {
      upload_id: { type: 'string', description: 'Signed and expiring; completes on any instance sharing DIRECT_UPLOAD_SECRET.' },
      method: { enum: ['PUT', 'POST'], description: '`PUT`: the bytes are the body. `POST`: a form, `fields` first and the file last.' },
      url: { type: 'string', format: 'uri', description: 'Where to send exactly `size` bytes: the bucket (s3, gcs), the blob with a create-only SAS (azure: the size is checked at completion) or attache itself (local, memory).' },
      headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Headers to send exactly as given (signed, or required by the backend: `x-ms-blob-type` on azure).' },
      fields: { type: 'object', additionalProperties: { type: 'string' }, description: '`POST` only: the form’s fields.' },
      expires_at: { type: 'string', format: 'date-time', description: 'When `url` stops accepting bytes (DIRECT_UPLOAD_TTL).' },
    },
  },
  UploadNotFound: { type: 'object', required: ['error'], additionalProperties: false, properties: { error: { const: 'Upload not found' } } },
  UploadIncomplete: { type: 'object', required: ['error'], additionalProperties: false, properties: { error: { const: 'Upload incomplete' } } },
  ChecksumMismatch: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: { error: { const: 'Checksum mismatch' }, detail: { type: 'string', description: 'Human-readable explanation.' } },
  },
} as const;


export const DIRECT_UPLOAD_PATHS = {
  '/v1/chat/upload/direct/': {
    post: {
      operationId: 'startDirectUpload',
      summary: 'Get where to send a file’s bytes straight to storage (DIRECT_UPLOADS=on)',
      security: [{ token: [] }],
      parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }],
      requestBody: { required: true, content: { 'application/json': { schema: ref('DirectUploadRequest') } } },
      responses: {
        '200': jsonResponse('Send the bytes as told, then complete. With an Idempotency-Key, the same answer (the same upload_id) to a retry of the same announcement.', ref('DirectUploadTarget')),
        '400': jsonResponse('What the upload endpoint refuses before reading a byte, a malformed JSON body, or an invalid Idempotency-Key.', {
          oneOf: [...refusedBeforeBytes, ref('InvalidIdempotencyKey')],
        }),
        '409': jsonResponse('A request with the same Idempotency-Key is still being answered.', ref('UploadInProgress')),
        '413': jsonResponse('`size` is over MAX_FILE_SIZE, or the JSON body is over 16 KiB.', { oneOf: [ref('FileTooLarge'), ref('RequestBodyTooLarge')] }),
        '422': jsonResponse('The Idempotency-Key was used for another announcement (name, size, session_id or sha256).', ref('IdempotencyKeyReused')),
        ...common,
      },
    },
  },
  '/v1/chat/upload/direct/{upload_id}/complete': {
    post: {
      operationId: 'completeDirectUpload',
      summary: 'Check what was sent and make it an attachment: the upload endpoint’s answer for the same file',
      security: [{ token: [] }],
      parameters: [uploadIdParameter],
      responses: {
        '200': jsonResponse('Stored; the same answer again for a completed upload.', ref('UploadResult')),
        '400': jsonResponse('Refused as the upload endpoint would refuse it, or not the declared SHA-256; nothing is kept.', {
          oneOf: [...refusedBeforeBytes, ref('ChecksumMismatch')],
        }),
        '404': notFound,
        '409': jsonResponse('Nothing was sent yet (`Upload incomplete`), another completion of the upload is still finishing (`Upload in progress`: ask again), or the generated key was taken.', {
          oneOf: [ref('UploadIncomplete'), ref('UploadInProgress'), ref('UploadConflict')],
        }),
        '413': jsonResponse('Larger than the malware scanner reads; nothing is kept.', { oneOf: [ref('FileTooLarge'), ref('FileTooLargeToScan')] }),
        '422': jsonResponse('MALWARE_SCAN=clamd found malware; nothing is kept.', ref('FileRejected')),
        ...common,
      },
    },
  },
  '/v1/chat/upload/direct/{upload_id}': {
    delete: {
      operationId: 'cancelDirectUpload',
      summary: 'Remove whatever was sent for an upload not completed',
      security: [{ token: [] }],
      parameters: [uploadIdParameter],
      responses: { '204': { description: 'Removed (or nothing was there).' }, '404': notFound, ...common },
    },
    put: {
      operationId: 'sendDirectUploadBytes',
      summary: 'The target for STORAGE_DRIVER=local and memory: the bytes, exactly `size` of them; the upload_id is the credential',
      parameters: [uploadIdParameter],
      requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
      responses: {
        '204': { description: 'Stored, for completion.' },
        '400': jsonResponse('Fewer bytes than announced, or another Content-Length.', ref('InvalidUpload')),
        '404': jsonResponse('Unknown, expired or tampered with upload_id.', ref('UploadNotFound')),
        '409': jsonResponse('Bytes were already sent for this upload_id.', ref('UploadConflict')),
        '413': jsonResponse('More bytes than announced.', ref('FileTooLarge')),
        '500': common['500'],
        '503': common['503'],
      },
    },
  },
} as const;
