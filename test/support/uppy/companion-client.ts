import { expect } from 'vitest';

/** What attache answered one of Uppy's calls: its status and JSON body. */
export interface UppyAnswer {
  readonly status: number;
  readonly json: any;
}

/** Uppy's Companion client, as `@uppy/companion-client` 5 sends its requests to `endpoint` (attache's `/v1/chat/upload/uppy`). */
export function uppyClient(endpoint: string, token: string | undefined) {
  return async (method: string, path: string, body?: unknown): Promise<UppyAnswer> => {
    const response = await fetch(`${endpoint}/${path}`, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body !== undefined && { 'Content-Type': 'application/json' }),
        ...(token !== undefined && { Authorization: `Token ${token}` }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };
}

/** What `@uppy/aws-s3` sends a completion: each part's number and the ETag the storage answered. */
export interface SentUppyPart {
  readonly PartNumber: number;
  readonly ETag: string;
}

/**
 * Starts a multipart upload through `uppy`, signs each of `parts` and PUTs it straight to the
 * storage, as Uppy does (checking that each URL points at `storageEndpoint` when given); the
 * upload, the parts sent, and its completion and DELETE as Uppy calls them.
 */
export async function sendUppyParts(
  uppy: ReturnType<typeof uppyClient>,
  fileName: string,
  parts: readonly Buffer[],
  options: { type?: string; metadata?: Record<string, unknown>; storageEndpoint?: string } = {},
) {
  const started = await uppy('POST', 's3/multipart', { filename: fileName, type: options.type ?? 'application/pdf', metadata: options.metadata ?? { session_id: '9' } });
  expect(started.status, JSON.stringify(started.json)).toBe(200);
  const { uploadId, key } = started.json as { uploadId: string; key: string };
  const sent: SentUppyPart[] = [];
  for (const [index, part] of parts.entries()) {
    const signed = await uppy('GET', `s3/multipart/${encodeURIComponent(uploadId)}/${index + 1}?key=${encodeURIComponent(key)}`);
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    if (options.storageEndpoint !== undefined) expect(new URL(signed.json.url).origin).toBe(new URL(options.storageEndpoint).origin);
    const put = await fetch(signed.json.url, { method: 'PUT', headers: signed.json.headers, body: new Uint8Array(part) });
    expect(put.status).toBe(200);
    sent.push({ PartNumber: index + 1, ETag: put.headers.get('etag')! });
  }
  const path = `s3/multipart/${encodeURIComponent(uploadId)}`;
  return {
    uploadId,
    key,
    sent,
    path,
    complete: (listed: unknown = sent) => uppy('POST', `${path}/complete?key=${encodeURIComponent(key)}`, { parts: listed }),
    abort: () => uppy('DELETE', `${path}?key=${encodeURIComponent(key)}`),
  };
}
