import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Readable } from 'node:stream';

const BLOCK = randomBytes(1024 * 1024);
/** Leading bytes that pass attache's content check (on by default) for the names the bench uses. */
const HEADS: Record<string, Buffer> = {
  pdf: Buffer.from('%PDF-1.7\n', 'latin1'),
  jpg: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
};

export interface UploadSpec {
  /** The file's size; with `content`, its length. */
  readonly bytes: number;
  readonly fileName: string;
  /** The file's bytes (a real photo); without it the file is generated: a valid head, then random bytes. */
  readonly content?: Buffer;
  /** The spec's examples send the file first; `session-first` lets attache stream straight to storage. */
  readonly order: 'file-first' | 'session-first';
  readonly sessionId?: string;
  /** Send only this many bytes of the body, then destroy the socket: a client that goes away mid-upload. */
  readonly cutAfterBytes?: number;
}

/** A multipart body generated lazily: no upload, however large, is held in the client's memory. */
function multipart(spec: UploadSpec): { body: Readable; length: number; contentType: string } {
  const boundary = `----bench${randomBytes(6).toString('hex')}`;
  const session = spec.sessionId === undefined ? '' : `--${boundary}\r\nContent-Disposition: form-data; name="session_id"\r\n\r\n${spec.sessionId}\r\n`;
  const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${spec.fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const before = Buffer.from(spec.order === 'session-first' ? session + fileHead : fileHead);
  const after = Buffer.from(`\r\n${spec.order === 'file-first' ? session : ''}--${boundary}--\r\n`);
  const head = HEADS[spec.fileName.slice(spec.fileName.lastIndexOf('.') + 1)] ?? Buffer.alloc(0);
  const length = before.length + spec.bytes + after.length;
  async function* parts() {
    let budget = spec.cutAfterBytes ?? Infinity;
    for (const chunk of chunks()) {
      if (budget <= 0) return;
      yield chunk.length > budget ? chunk.subarray(0, budget) : chunk;
      budget -= chunk.length;
    }
  }
  function* chunks() {
    yield before;
    if (spec.content !== undefined) {
      yield spec.content;
      yield after;
      return;
    }
    yield head;
    let left = spec.bytes - head.length;
    while (left > 0) {
      const n = Math.min(left, BLOCK.length);
      yield BLOCK.subarray(0, n);
      left -= n;
    }
    yield after;
  }
  return { body: Readable.from(parts(), { objectMode: false }), length, contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface UploadResult {
  /** The answer's status; 0 when none came (cut by the client, or the connection failed first). */
  readonly status: number;
  readonly body: string;
  readonly ms: number;
  /** The client cut the upload short, as asked by `cutAfterBytes`. */
  readonly cut?: boolean;
  /** The connection failed (before or after an answer): the error's code or message. */
  readonly error?: string;
}

/**
 * One upload, on `agent`'s pooled connections or, with `agent: false`, on a connection of its own.
 * Never rejects: what happened is in the result.
 */
export function upload(url: string, token: string, spec: UploadSpec, agent?: Agent | false): Promise<UploadResult> {
  const { body, length, contentType } = multipart(spec);
  const started = performance.now();
  return new Promise((resolve) => {
    let status = 0;
    let text = '';
    let settled = false;
    const finish = (extra: { cut?: boolean; error?: string } = {}) => {
      if (settled) return;
      settled = true;
      body.destroy();
      resolve({ status, body: text, ms: performance.now() - started, ...extra });
    };
    const req = request(`${url}/v1/chat/upload/`, {
      method: 'POST',
      agent,
      headers: { Authorization: `Token ${token}`, 'Content-Type': contentType, 'Content-Length': length },
    });
    req.on('response', (res) => {
      status = res.statusCode!;
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => finish());
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
    req.on('close', () => finish(status === 0 ? { error: 'closed without an answer' } : {}));
    if (spec.cutAfterBytes === undefined) {
      body.pipe(req);
      return;
    }
    // Written by hand so the socket can be destroyed once the last bytes have left, not ended.
    let lastWrite = Promise.resolve();
    body.on('data', (chunk: Buffer) => {
      lastWrite = new Promise((written) => {
        if (!req.write(chunk, () => written())) body.pause();
      });
    });
    req.on('drain', () => body.resume());
    body.on('end', () => void lastWrite.then(() => {
      finish({ cut: true });
      req.destroy();
    }));
  });
}

/** Runs `count` uploads with at most `concurrency` in flight, on keep-alive connections; every one must answer 200. */
export async function uploadMany(url: string, token: string, spec: UploadSpec, count: number, concurrency: number): Promise<UploadResult[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const results: UploadResult[] = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      next++;
      const result = await upload(url, token, spec, agent);
      if (result.status !== 200) throw new Error(`upload answered ${result.status || result.error}: ${result.body}`);
      results.push(result);
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return results;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}
