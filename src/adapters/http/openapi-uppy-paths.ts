/**
 * The OpenAPI description of the routes `@uppy/aws-s3` 5 calls (its `endpoint` is
 * `/v1/chat/upload/uppy`; DIRECT_UPLOADS=on), and docs/clients.md's `signRequest` for Uppy 6 calls
 * too, merged into OPENAPI_DOCUMENT. Companion's contract:
 * its names (`uploadId`, `PartNumber`, `ETag`) are Uppy's, not attache's. Refusals are the upload
 * endpoint's bodies with `message` beside them, which Uppy shows.
 */
import { jsonResponse, ref } from './openapi-parts.ts';

const refusal = (description: string) => jsonResponse(description, ref('UppyRefusal'));

const uploadIdParameter = {
  name: 'upload_id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The `uploadId` that `POST s3/multipart` gave (a signed direct-upload id).',
} as const;

const keyParameter = {
  name: 'key',
  in: 'query',
  required: false,
  schema: { type: 'string' },
  description: 'Sent by Uppy, ignored: the signed `uploadId` names the key.',
} as const;

const common = {
  '401': { ...refusal('Missing, malformed or unknown token.'), headers: { 'WWW-Authenticate': { schema: { const: 'Token' } } } },
  '404': refusal('Unknown, expired, tampered with, or another principal’s uploadId, or not a multipart one.'),
  '500': refusal('A bug; the cause is logged, not returned.'),
  '503': refusal('Storage, the token backend or the malware scanner cannot be reached, or the service is shutting down.'),
} as const;

export function uppyCompletionSchema(uploadResult: { readonly required: readonly string[]; readonly properties: object }) {
  return {
    type: 'object',
    required: [...uploadResult.required, 'location'],
    additionalProperties: false,
    description: 'The upload endpoint’s answer (UploadResult), and `location`, which Uppy takes as the file’s uploadURL.',
    properties: { ...uploadResult.properties, location: { type: 'string', format: 'uri', description: 'The same as `url`.' } },
  } as const;
}

export const UPPY_S3_SCHEMAS = {
  UppyRefusal: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: { type: 'string', description: 'The upload endpoint’s `error` for the same refusal (`Unsupported file type`, `Upload not found`, …).' },
      detail: { type: 'string', description: 'Human-readable explanation, when the upload endpoint gives one.' },
      message: { type: 'string', description: '`error`, and `detail` after a colon: what Uppy’s Companion client shows for a 4xx.' },
    },
  },
  UppyMultipartStarted: {
    type: 'object',
    required: ['uploadId', 'key'],
    additionalProperties: false,
    properties: {
      uploadId: { type: 'string', description: 'Signed and expiring (DIRECT_UPLOAD_TTL, then as long again to complete); names the upload in every later call.' },
      key: { type: 'string', description: 'Where the parts are joined in the bucket, under `staged/`: never the attachment’s key.' },
    },
  },
  UppyPartTarget: {
    type: 'object',
    required: ['url', 'method', 'headers'],
    additionalProperties: false,
    properties: {
      url: { type: 'string', format: 'uri', description: 'A presigned UploadPart URL of the bucket.' },
      method: { const: 'PUT' },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
} as const;

export const UPPY_S3_PATHS = {
  '/v1/chat/upload/uppy/s3/params': {
    get: {
      operationId: 'uppySinglePut',
      summary: 'Uppy’s single PUT: refused, since Uppy calls nobody after it (set shouldUseMultipart: true)',
      security: [{ token: [] }],
      responses: { '400': refusal('Always: `Invalid upload`, saying to set `shouldUseMultipart: true`.'), '401': common['401'], '500': common['500'] },
    },
  },
  '/v1/chat/upload/uppy/s3/multipart': {
    post: {
      operationId: 'uppyStartMultipart',
      summary: 'Start a multipart upload straight to the bucket (STORAGE_DRIVER=s3): the name, type and session id are checked here',
      security: [{ token: [] }],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['filename'],
              properties: {
                filename: { type: 'string' },
                type: { type: 'string', description: 'Ignored: the extension and the content decide.' },
                metadata: { type: 'object', properties: { session_id: { type: 'string' } }, description: 'Uppy’s allowed meta fields; `session_id` is the upload’s.' },
              },
            },
          },
        },
      },
      responses: {
        '200': jsonResponse('Started; sign its parts, then complete.', ref('UppyMultipartStarted')),
        '400': refusal('What the upload endpoint refuses before reading a byte, or a malformed body.'),
        '413': refusal('`Request body too large`: the JSON body is over 1 MiB.'),
        '429': refusal('UPLOAD_RATE_LIMIT: this principal started too many uploads.'),
        '501': refusal('`Not implemented`: a driver other than s3 (no presigned parts).'),
        ...common,
      },
    },
  },
  '/v1/chat/upload/uppy/s3/multipart/{upload_id}/{part_number}': {
    get: {
      operationId: 'uppySignPart',
      summary: 'Where to PUT one part (1 to 10000) straight to the bucket',
      security: [{ token: [] }],
      parameters: [uploadIdParameter, { name: 'part_number', in: 'path', required: true, schema: { type: 'integer', minimum: 1, maximum: 10000 } }, keyParameter],
      responses: { '200': jsonResponse('Send the part there, with `headers`.', ref('UppyPartTarget')), '400': refusal('Not a part number from 1 to 10000.'), ...common },
    },
  },
  '/v1/chat/upload/uppy/s3/multipart/{upload_id}': {
    get: {
      operationId: 'uppyListParts',
      summary: 'The parts the bucket holds so far (Uppy resuming)',
      security: [{ token: [] }],
      parameters: [uploadIdParameter, keyParameter],
      responses: {
        '200': jsonResponse('By part number.', {
          type: 'array',
          items: {
            type: 'object',
            required: ['PartNumber', 'Size', 'ETag'],
            additionalProperties: false,
            properties: { PartNumber: { type: 'integer' }, Size: { type: 'integer' }, ETag: { type: 'string' } },
          },
        }),
        ...common,
      },
    },
    delete: {
      operationId: 'uppyAbortMultipart',
      summary: 'Drop the parts sent and anything staged (a completed attachment stays)',
      security: [{ token: [] }],
      parameters: [uploadIdParameter, keyParameter],
      responses: { '200': jsonResponse('Dropped, or nothing was there: `{}` (Uppy reads a JSON body).', { type: 'object', maxProperties: 0 }), ...common },
    },
  },
  '/v1/chat/upload/uppy/s3/multipart/{upload_id}/complete': {
    post: {
      operationId: 'uppyCompleteMultipart',
      summary: 'Join the parts and make them an attachment: the upload endpoint’s answer for the same file',
      security: [{ token: [] }],
      parameters: [uploadIdParameter, keyParameter],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['parts'],
              properties: {
                parts: {
                  type: 'array',
                  minItems: 1,
                  items: { type: 'object', required: ['PartNumber', 'ETag'], properties: { PartNumber: { type: 'integer' }, ETag: { type: 'string' } } },
                },
              },
            },
          },
        },
      },
      responses: {
        '200': jsonResponse('Stored; the same answer again for a completed upload.', ref('UppyCompletion')),
        '400': refusal('Parts the bucket does not hold as listed (the parts stay, for the right list or a DELETE), or the file refused as the upload endpoint refuses it (nothing is kept).'),
        '409': refusal('Nothing was joined yet after an abort (`Upload incomplete`), another completion of the upload is still finishing (`Upload in progress`: ask again), or the generated key was taken.'),
        '413': refusal('The parts add up to more than MAX_FILE_SIZE, or more than the malware scanner reads (nothing is kept); or the JSON body is over 1 MiB (`Request body too large`: the parts stay).'),
        '422': refusal('MALWARE_SCAN=clamd found malware; nothing is kept.'),
        '429': refusal('UPLOAD_QUOTA: the parts add up to more than is left of this principal’s quota (`Quota exceeded`, charged here: the start announced no size); the parts are dropped.'),
        ...common,
      },
    },
  },
} as const;
