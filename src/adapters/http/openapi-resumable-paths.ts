/**
 * The OpenAPI description of resumable uploads (tus 1.0 at /v1/chat/upload/resumable/), merged
 * into OPENAPI_DOCUMENT. Their refusals are the upload endpoint's bodies, plus tus's own three.
 */
import { RESULT_HEADERS } from './resumable/tus-headers.ts';
import { jsonResponse, ref, refusedBeforeBytes } from './openapi-parts.ts';

const errorOnly = (error: string) => ({ type: 'object', required: ['error'], additionalProperties: false, properties: { error: { const: error }, detail: { type: 'string' } } }) as const;
const header = (description: string, type: 'string' | 'integer' = 'string') => ({ description, schema: { type } }) as const;

const uploadId = { name: 'upload_id', in: 'path', required: true, schema: { type: 'string' }, description: 'The id at the end of the creation’s `Location`.' } as const;
const tusResumable = { name: 'Tus-Resumable', in: 'header', required: true, schema: { const: '1.0.0' } } as const;

const stateHeaders = {
  'Tus-Resumable': header('1.0.0'),
  'Upload-Offset': header('Bytes stored so far.', 'integer'),
  'Upload-Length': header('The file’s size, as created.', 'integer'),
  'Upload-Expires': header('When the upload stops taking requests (RESUMABLE_UPLOAD_TTL after its creation), an HTTP date.'),
} as const;
const resultHeaders = Object.fromEntries(
  Object.entries(RESULT_HEADERS).map(([field, name]) => [name, header(`Once the last byte is in and the file stored: the upload endpoint’s \`${field}\`.`)]),
);

const common = {
  '401': jsonResponse('Missing, malformed or unknown token, or a role other than admin and store.', ref('Unauthorized')),
  '412': jsonResponse('No `Tus-Resumable: 1.0.0`; the answer’s `Tus-Version` says what attache speaks.', ref('ProtocolVersionUnsupported')),
  '500': jsonResponse('A bug; the cause is logged, not returned.', ref('InternalError')),
  '503': jsonResponse('Storage, the token backend or the malware scanner cannot be reached, or the service is shutting down; tus clients retry.', ref('Unavailable')),
} as const;
const notFound = jsonResponse('Unknown, expired, terminated, refused, or another principal’s upload.', ref('UploadNotFound'));

export const RESUMABLE_UPLOAD_SCHEMAS = {
  UploadOffsetMismatch: errorOnly('Upload offset mismatch'),
  ProtocolVersionUnsupported: errorOnly('Unsupported protocol version'),
  UnsupportedMediaType: errorOnly('Unsupported media type'),
} as const;

const bytesBody = { content: { 'application/offset+octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } } as const;

const patchResponses = {
  '204': { description: 'Stored; with the last byte, the file went through every check of the upload endpoint and its answer is in the `Attache-*` headers.', headers: { ...stateHeaders, ...resultHeaders } },
  '400': jsonResponse('Refused as the upload endpoint refuses (a type the first bytes contradict, …), or more bytes than Upload-Length; nothing of the upload remains after a refusal of the file.', {
    oneOf: [...refusedBeforeBytes, ref('ChecksumMismatch')],
  }),
  '404': notFound,
  '409': jsonResponse('Upload-Offset is not the offset stored, or another request stored bytes there meanwhile: HEAD, then resume.', {
    oneOf: [ref('UploadOffsetMismatch'), ref('UploadConflict')],
  }),
  '413': jsonResponse('Larger than the malware scanner reads; nothing is kept.', { oneOf: [ref('FileTooLarge'), ref('FileTooLargeToScan')] }),
  '415': jsonResponse('The bytes are not sent as `application/offset+octet-stream`.', ref('UnsupportedMediaType')),
  '422': jsonResponse('MALWARE_SCAN=clamd found malware; nothing is kept.', ref('FileRejected')),
  ...common,
} as const;

export const RESUMABLE_UPLOAD_PATHS = {
  '/v1/chat/upload/resumable/': {
    options: { operationId: 'resumableUploadOptions', summary: 'tus discovery', responses: { '204': { description: 'Tus-Version, Tus-Extension, Tus-Max-Size (MAX_FILE_SIZE).' } } },
    post: {
      operationId: 'createResumableUpload',
      summary: 'Create a resumable upload (tus creation, creation-with-upload)',
      security: [{ token: [] }],
      parameters: [
        tusResumable,
        { name: 'Upload-Length', in: 'header', required: true, schema: { type: 'integer', minimum: 1 }, description: 'The file’s size; at most MAX_FILE_SIZE.' },
        { name: 'Upload-Metadata', in: 'header', required: true, schema: { type: 'string' }, description: '`filename` (required) and `session_id` (optional), base64; others are ignored.' },
      ],
      requestBody: { required: false, ...bytesBody },
      responses: {
        '201': { description: 'Created at `Location`; with a body, its bytes are stored (and, for the whole file, the `Attache-*` headers answer).', headers: { Location: header('The upload’s URL.'), ...stateHeaders, ...resultHeaders } },
        '400': jsonResponse('What the upload endpoint refuses before reading a byte, a missing Upload-Length or filename.', { oneOf: refusedBeforeBytes }),
        '413': jsonResponse('Upload-Length is over MAX_FILE_SIZE.', ref('FileTooLarge')),
        '415': patchResponses['415'],
        ...common,
      },
    },
  },
  '/v1/chat/upload/resumable/{upload_id}': {
    head: {
      operationId: 'resumableUploadOffset',
      summary: 'Where the upload stands (tus core)',
      security: [{ token: [] }],
      parameters: [uploadId, tusResumable],
      responses: { '200': { description: 'Upload-Offset is the length once every byte is in and the file stored.', headers: { ...stateHeaders, ...resultHeaders } }, '401': common['401'], '404': notFound },
    },
    patch: {
      operationId: 'sendResumableUploadBytes',
      summary: 'Send bytes from Upload-Offset on (tus core)',
      security: [{ token: [] }],
      parameters: [uploadId, tusResumable, { name: 'Upload-Offset', in: 'header', required: true, schema: { type: 'integer', minimum: 0 } }],
      requestBody: { required: true, ...bytesBody },
      responses: patchResponses,
    },
    delete: {
      operationId: 'terminateResumableUpload',
      summary: 'Remove what was sent (tus termination); an attachment already made stays',
      security: [{ token: [] }],
      parameters: [uploadId, tusResumable],
      responses: { '204': { description: 'Removed.' }, '401': common['401'], '404': notFound, '503': common['503'] },
    },
    get: {
      operationId: 'resumableUploadResult',
      summary: 'The attachment the upload made: the upload endpoint’s JSON, never the bytes',
      security: [{ token: [] }],
      parameters: [uploadId],
      responses: {
        '200': jsonResponse('Stored.', ref('UploadResult')),
        '401': common['401'],
        '404': notFound,
        '409': jsonResponse('Not every byte is in yet.', ref('UploadIncomplete')),
        '503': common['503'],
      },
    },
  },
} as const;
