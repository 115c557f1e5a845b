/**
 * Single tus requests, as raw as a test needs them: one helper for every method, a PATCH whose
 * connection is cut off after some of its bytes, and a HEAD polled until it says what is awaited.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Agent } from 'undici';

export interface TusAnswer {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
  readonly json: unknown;
}

export function tusRequest(base: string, agent: Agent) {
  async function tus(token: string | undefined, method: string, url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<TusAnswer> {
    const response = await request(url, {
      method: method as 'POST',
      dispatcher: agent,
      headers: { 'tus-resumable': '1.0.0', ...(token !== undefined && { authorization: `Token ${token}` }), ...headers },
      ...(body !== undefined && { body }),
    });
    const text = await response.body.text();
    const flat = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
    return { status: response.statusCode, headers: flat, json: text === '' ? undefined : JSON.parse(text) };
  }

  /** A PATCH announcing `announced` bytes from `offset`, whose connection is reset after `part`. */
  async function cutOff(token: string, url: string, offset: number, announced: number, part: Buffer): Promise<void> {
    const { hostname, port, pathname } = new URL(url, base);
    const socket = connect(Number(port), hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `PATCH ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nTus-Resumable: 1.0.0\r\nAuthorization: Token ${token}\r\n` +
        `Upload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${announced - offset}\r\n\r\n`,
    );
    await new Promise<void>((resolve) => socket.write(part, () => resolve()));
    await sleep(200);
    socket.resetAndDestroy();
  }

  /** HEADs `url` until `until` holds of its headers (the server sees a cut-off some time after it happened). */
  async function eventually(token: string, url: string, until: (headers: TusAnswer['headers']) => boolean, timeoutMs = 5000): Promise<TusAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await tus(token, 'HEAD', url);
      if (until(answer.headers) || Date.now() > deadline) return answer;
      await sleep(50);
    }
  }

  return Object.assign(tus, { cutOff, eventually });
}
