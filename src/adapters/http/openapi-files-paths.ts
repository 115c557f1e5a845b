/**
 * The OpenAPI description of /v1/chat/files/<key>, merged into OPENAPI_DOCUMENT (kept apart so
 * the upload's description stays readable). The error bodies are the components' schemas.
 */

export const FILES_SCHEMAS = {
  Forbidden: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: { error: { const: 'Forbidden' }, detail: { type: 'string', description: 'Human-readable explanation.' } },
  },
  NotFound: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: { error: { const: 'Not found' }, detail: { type: 'string', description: 'Human-readable explanation.' } },
  },
} as const;

const json = (description: string, ref: string) => ({ description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } }) as const;

const keyParameter = {
  name: 'key',
  in: 'path',
  required: true,
  description: 'The attachment’s key as in its URL (`chat/<folder>/<id>-<name>`, each segment percent-encoded); its slashes are part of the path.',
  schema: { type: 'string' },
} as const;

const openResponses = {
  '200': { description: 'Stores attache serves itself (`local`, `memory`): the bytes, with their Content-Type, `nosniff`, Content-Disposition and SHA-256 (`Repr-Digest`).' },
  '302': {
    description:
      'With `S3_URL_MODE`/`GCS_URL_MODE`/`AZURE_URL_MODE=redirect` (or another mode of a bucket store): to a URL of the bytes at the bucket, presigned for `REDIRECT_URL_TTL` seconds on a private bucket.',
    headers: {
      Location: { schema: { type: 'string', format: 'uri' } },
      'Cache-Control': { schema: { type: 'string' }, description: '`public, max-age=<half of REDIRECT_URL_TTL>`: reused for less than the URL lives.' },
    },
  },
  '404': json('No attachment at this key (never uploaded, or deleted).', 'NotFound'),
  '503': json('Storage cannot be reached, or the service is shutting down.', 'Unavailable'),
} as const;

export const FILES_PATHS = {
  '/v1/chat/files/{key}': {
    get: {
      operationId: 'openChatAttachment',
      summary: 'An attachment by its stable link (the `url`/`preview_url` answered in redirect mode); never expires',
      parameters: [keyParameter],
      responses: openResponses,
    },
    head: {
      operationId: 'headChatAttachment',
      summary: 'As GET, without the body',
      parameters: [keyParameter],
      responses: openResponses,
    },
    delete: {
      operationId: 'deleteChatAttachment',
      summary: 'Delete a chat attachment and its preview',
      description: 'An admin token may delete any attachment; a store token only those it uploaded (attache records the uploader with each object).',
      security: [{ token: [] }],
      parameters: [keyParameter],
      responses: {
        '204': { description: 'Deleted, with its preview; the key now answers 404 and its URL stops serving.' },
        '401': {
          ...json('Missing, malformed or unknown token, or a role other than admin and store.', 'Unauthorized'),
          headers: { 'WWW-Authenticate': { schema: { const: 'Token' } } },
        },
        '403': json('A store token deleting an attachment it did not upload (or a store token without an id).', 'Forbidden'),
        '404': json('No attachment at this key (never uploaded, or deleted).', 'NotFound'),
        '500': json('A bug; the cause is logged, not returned.', 'InternalError'),
        '503': json('Storage or the token backend cannot be reached, or the service is shutting down.', 'Unavailable'),
      },
    },
  },
} as const;
