import { request, type Agent } from 'undici';

export interface DirectAnswer {
  readonly status: number;
  readonly json: Record<string, unknown> & { error?: string };
}

export interface IssuedTarget {
  readonly upload_id: string;
  readonly method: 'PUT' | 'POST';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly expires_at: string;
}

/** A client of the direct-upload routes through one undici pool, as a pooling client would use them. */
export function directClient(baseUrl: string, agent: Agent) {
  const direct = `${baseUrl}/v1/chat/upload/direct/`;
  async function call(method: 'POST' | 'DELETE' | 'PUT', url: string, token: string | undefined, body?: string | Buffer, headers: Record<string, string> = {}): Promise<DirectAnswer> {
    const response = await request(url, {
      method,
      dispatcher: agent,
      headers: { ...(token !== undefined && { authorization: `Token ${token}` }), ...headers },
      ...(body !== undefined && { body }),
    });
    const text = await response.body.text();
    // A bucket answers in XML: kept as text.
    const json = text === '' ? {} : String(response.headers['content-type']).startsWith('application/json') ? JSON.parse(text) : { text };
    return { status: response.statusCode, json: json as DirectAnswer['json'] };
  }
  return {
    issue: (token: string | undefined, announcement: unknown) =>
      call('POST', direct, token, JSON.stringify(announcement), { 'content-type': 'application/json' }),
    /** Sends the bytes to the target as told: its method, URL and headers. */
    send: (target: IssuedTarget, bytes: Buffer) => call('PUT', target.url, undefined, bytes, target.headers),
    complete: (token: string, uploadId: string) => call('POST', `${direct}${encodeURIComponent(uploadId)}/complete`, token),
    cancel: (token: string, uploadId: string) => call('DELETE', `${direct}${encodeURIComponent(uploadId)}`, token),
  };
}
