import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** Parses the first HTTP/1.1 response in `raw` (Content-Length or chunked body). */
export function parseResponse(raw: Buffer): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let bodyBytes = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.includes('chunked')) {
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = bodyBytes.indexOf('\r\n', at);
      if (lineEnd < 0) break;
      const size = parseInt(bodyBytes.subarray(at, lineEnd).toString('latin1'), 16);
      if (!(size > 0)) break;
      chunks.push(bodyBytes.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    bodyBytes = Buffer.concat(chunks);
  } else if (headers['content-length'] !== undefined) {
    bodyBytes = bodyBytes.subarray(0, Number(headers['content-length']));
  }
  const body = bodyBytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status, headers, body, json };
}

/**
 * Writes `request` (head and body, byte for byte, as given) to a fresh TCP connection and
 * resolves with the response once the server has sent it all: the connection closed, or a
 * complete body arrived. Our side stays open after writing, as a client awaiting its answer
 * (or one that stopped mid-body) does; `endAfterWrite: true` half-closes it. A server that neither answers nor closes within `giveUpAfterMs` is a failure
 * (a guard against hanging, not a timing assertion).
 */
export function sendRaw(
  url: string,
  request: Buffer | string | ReadonlyArray<Buffer | string>,
  options: { endAfterWrite?: boolean; giveUpAfterMs?: number } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const parts = (Array.isArray(request) ? request : [request]) as Array<Buffer | string>;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${options.giveUpAfterMs ?? 10_000} ms; got: ${Buffer.concat(received).toString('latin1').slice(0, 300)}`));
    }, options.giveUpAfterMs ?? 10_000);
    const finish = () => {
      clearTimeout(timer);
      const response = parseResponse(Buffer.concat(received));
      if (response) resolve(response);
      else reject(new Error(`no HTTP response; got ${JSON.stringify(Buffer.concat(received).toString('latin1').slice(0, 300))}`));
    };
    const completeBody = () => {
      const raw = Buffer.concat(received);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const head = raw.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (length !== undefined) return raw.length - end - 4 >= Number(length);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) return raw.subarray(end).includes('\r\n0\r\n\r\n');
      return false;
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      if (completeBody()) {
        socket.destroy();
        finish();
      }
    });
    // A reset after the answer (the server closing while we still send) is not a failure.
    socket.on('error', () => {});
    socket.on('close', finish);
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
      if (options.endAfterWrite === true) socket.end();
    });
  });
}

/** A request head for `POST path` on `url`'s host; `headers` are written as given, in order. */
export function requestHead(url: string, path: string, headers: ReadonlyArray<readonly [string, string]>, method = 'POST'): string {
  const { host } = new URL(url);
  return `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
}

/**
 * Sends `head` at once, then `body` one byte per TCP segment (Nagle off, a turn of the event loop
 * between bytes), as a client on a very slow link would; resolves with the answer once the
 * server closes the connection (send `Connection: close` in `head`).
 */
export function dripFeed(url: string, head: string, body: Buffer): Promise<{ status: number; json: unknown }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), noDelay: true });
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      const response = parseResponse(Buffer.concat(received));
      if (response) resolve({ status: response.status, json: response.json });
      else reject(new Error('no response'));
    });
    socket.once('connect', async () => {
      socket.write(head);
      for (let at = 0; at < body.length; at++) {
        if (!socket.write(body.subarray(at, at + 1))) await new Promise((r) => socket.once('drain', r));
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}
