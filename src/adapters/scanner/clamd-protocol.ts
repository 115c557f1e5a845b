/**
 * The parts of clamd's protocol (clamd(8), "COMMANDS") attache speaks: `z`-prefixed commands, whose
 * replies end in a NUL byte, over a TCP or Unix socket; one command per connection.
 */
import { createConnection, type Socket } from 'node:net';
import type { ScanVerdict } from '../../application/ports/malware-scanner.ts';
import { FileTooLargeToScan, ScannerUnavailable } from '../../domain/errors.ts';

/** Where clamd listens: its TCPSocket (and TCPAddr), or its LocalSocket. */
export type ClamdAddress = { readonly host: string; readonly port: number } | { readonly path: string };

export const describeAddress = (address: ClamdAddress): string =>
  'path' in address ? `clamd at ${address.path}` : `clamd at ${address.host}:${address.port}`;

export function connectTo(address: ClamdAddress): Socket {
  const socket = createConnection('path' in address ? { path: address.path } : { host: address.host, port: address.port });
  // The last chunk of a scan and the commands are a few bytes: Nagle would hold them back.
  if (!('path' in address)) socket.setNoDelay(true);
  return socket;
}

/** clamd's longest replies are a path-less error message or a signature name: far below this. */
const MAX_REPLY_BYTES = 4096;

/** Collects one NUL-terminated reply from the bytes clamd sends. */
export class ReplyReader {
  #chunks: Buffer[] = [];
  #bytes = 0;

  /** Adds bytes; returns the reply once its NUL has come. Throws ScannerUnavailable for an endless one. */
  push(chunk: Buffer): string | undefined {
    const end = chunk.indexOf(0);
    this.#chunks.push(end === -1 ? chunk : chunk.subarray(0, end));
    this.#bytes += end === -1 ? chunk.length : end;
    if (this.#bytes > MAX_REPLY_BYTES) throw new ScannerUnavailable(`clamd sent over ${MAX_REPLY_BYTES} bytes without ending its reply`);
    return end === -1 ? undefined : this.#text();
  }

  /** What came before the connection ended without a NUL; undefined when nothing came. */
  unterminated(): string | undefined {
    return this.#bytes === 0 ? undefined : this.#text();
  }

  #text(): string {
    return Buffer.concat(this.#chunks).toString('latin1').trim();
  }
}

/**
 * What clamd's reply to INSTREAM means. `readWholeFile`: whether the reply came after the last
 * chunk; an OK before it would be about part of the file. Never quotes a reply that is not one of
 * clamd's own: a stranger on the port might echo file bytes, which must stay out of logs.
 */
export function verdictFromReply(reply: string, readWholeFile: boolean): ScanVerdict {
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) return { infected: true, signature: found[1]! };
  if (reply === 'stream: OK') {
    if (readWholeFile) return { infected: false };
    throw new ScannerUnavailable('clamd answered OK before it was sent the whole file');
  }
  if (reply === 'INSTREAM size limit exceeded. ERROR') throw new FileTooLargeToScan(`clamd answered "${reply}" (its StreamMaxLength)`);
  // Sent, newline-terminated, when no byte came for ReadTimeout seconds: the uploader stalled.
  if (reply.startsWith('COMMAND READ TIMED OUT')) throw new ScannerUnavailable('clamd stopped waiting for the rest of the file (its ReadTimeout)');
  if (/^[\x20-\x7e]{1,200} ERROR$/.test(reply)) throw new ScannerUnavailable(`clamd answered "${reply}"`);
  throw new ScannerUnavailable(`the server answered ${Buffer.byteLength(reply, 'latin1')} bytes that are not a clamd reply to INSTREAM`);
}

/**
 * Sends one short command (e.g. `zPING\0`) and resolves with clamd's reply. Throws
 * ScannerUnavailable when clamd cannot be reached, closes without a reply, or takes longer than
 * `timeoutMs` for all of it.
 */
export function sendCommand(address: ClamdAddress, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTo(address);
    const reader = new ReplyReader();
    const done = (outcome: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const fail = (reason: string, cause?: unknown) =>
      done(() => reject(new ScannerUnavailable(`${describeAddress(address)}: ${reason}`, cause === undefined ? undefined : { cause })));
    const timer = setTimeout(() => fail(`no answer to ${command.slice(1)} within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => socket.write(`${command}\0`));
    socket.on('data', (chunk: Buffer) => {
      try {
        const reply = reader.push(chunk);
        if (reply !== undefined) done(() => resolve(reply));
      } catch (error) {
        done(() => reject(error));
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => fail(`${error.code ?? error.message}`, error));
    socket.once('close', () => {
      const partial = reader.unterminated();
      if (partial === undefined) fail(`closed the connection without answering ${command.slice(1)}`);
      else done(() => resolve(partial));
    });
  });
}
