import { finished, type Readable } from 'node:stream';
import type { Socket } from 'node:net';
import type { ScanVerdict } from '../../application/ports/malware-scanner.ts';
import { ScannerUnavailable } from '../../domain/errors.ts';
import { connectTo, describeAddress, ReplyReader, verdictFromReply, type ClamdAddress } from './clamd-protocol.ts';

const INSTREAM = Buffer.from('zINSTREAM\0');
/** A zero-length chunk ends the stream. */
const LAST_CHUNK = Buffer.alloc(4);

/** Tells what a reset connection without a reply meant (see ClamdScanner); always throws. */
export type ResetExplainer = (error: NodeJS.ErrnoException) => Promise<never>;

/**
 * One INSTREAM scan: `content`'s chunks go to clamd as they come (a 4-byte big-endian length,
 * then the chunk itself, written together and never copied), and the reply decides the outcome.
 * Memory stays bounded: `content` is paused while the socket holds more than its buffer.
 * `timeoutMs` bounds each wait on clamd (connecting, taking more bytes, answering after the last
 * byte); waits on `content` are the uploader's pace, not clamd's, and are not bounded here.
 * `signal` must not be aborted yet (ClamdScanner.scan answers that case itself).
 */
export class InstreamScan {
  readonly #address: ClamdAddress;
  readonly #content: Readable;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onReset: ResetExplainer;
  readonly #socket: Socket;
  readonly #reader = new ReplyReader();
  readonly #stopWatchingContent: () => void;
  #timer: NodeJS.Timeout | undefined;
  #connected = false;
  #sentWholeFile = false;
  #socketGone = false;
  #settled = false;
  #resolve!: (verdict: ScanVerdict) => void;
  #reject!: (error: unknown) => void;
  readonly verdict: Promise<ScanVerdict>;

  constructor(address: ClamdAddress, content: Readable, timeoutMs: number, signal: AbortSignal | undefined, onReset: ResetExplainer) {
    this.#address = address;
    this.#content = content;
    this.#timeoutMs = timeoutMs;
    this.#signal = signal;
    this.#onReset = onReset;
    this.verdict = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Its error, or its destruction before the end, whenever it comes (even before we connect).
    this.#stopWatchingContent = finished(content, { writable: false }, (error) => {
      if (error) this.#fail(error);
    });
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#waitOnClamd('accept the connection');
    this.#socket = connectTo(address);
    this.#socket.once('connect', this.#onConnect);
    this.#socket.on('data', this.#onReplyData);
    this.#socket.on('error', this.#onSocketGone);
    this.#socket.once('close', () => this.#onSocketGone(undefined));
  }

  readonly #onConnect = () => {
    this.#connected = true;
    this.#clamdAnswered();
    this.#socket.write(INSTREAM);
    this.#content.on('data', this.#onChunk);
    this.#content.once('end', this.#onEnd);
    this.#content.resume();
  };

  readonly #onChunk = (data: Uint8Array | string) => {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    // A zero-length chunk would tell clamd the file ended here.
    if (chunk.length === 0 || this.#socketGone) return;
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(chunk.length);
    this.#socket.cork();
    this.#socket.write(length);
    const roomForMore = this.#socket.write(chunk);
    this.#socket.uncork();
    if (roomForMore) return;
    this.#content.pause();
    this.#waitOnClamd('take more bytes');
    this.#socket.once('drain', () => {
      // The content may have ended meanwhile (a paused stream still ends): the wait is then for the answer.
      if (this.#settled || this.#sentWholeFile) return;
      this.#clamdAnswered();
      this.#content.resume();
    });
  };

  readonly #onEnd = () => {
    if (this.#socketGone) return;
    this.#socket.write(LAST_CHUNK);
    this.#sentWholeFile = true;
    this.#waitOnClamd('answer');
  };

  readonly #onReplyData = (data: Buffer) => {
    try {
      const reply = this.#reader.push(data);
      if (reply !== undefined) this.#succeed(verdictFromReply(reply, this.#sentWholeFile));
    } catch (error) {
      this.#fail(error);
    }
  };

  /** The connection ended or failed before a complete reply. */
  readonly #onSocketGone = (error: NodeJS.ErrnoException | undefined) => {
    // 'close' follows 'error': one of them speaks.
    if (this.#settled || this.#socketGone) return;
    this.#socketGone = true;
    const unterminated = this.#reader.unterminated();
    if (unterminated !== undefined) return this.#onReplyData(Buffer.from(`${unterminated}\0`, 'latin1'));
    const where = describeAddress(this.#address);
    const how = error?.code ?? error?.message ?? 'closed';
    if (!this.#connected) return this.#fail(new ScannerUnavailable(`cannot connect to ${where}: ${how}`, { cause: error }));
    if (error?.code !== 'EPIPE' && error?.code !== 'ECONNRESET') {
      return this.#fail(new ScannerUnavailable(`${where} closed the connection without a verdict (${how})`, { cause: error }));
    }
    // Reset: clamd closed with bytes of ours unread, as it does at the size limit, whose reply the
    // reset may have cost us. Stop reading the file; what the reset meant takes one more round trip.
    this.#content.pause();
    this.#clamdAnswered();
    this.#onReset(error).catch((failure: unknown) => this.#fail(failure));
  };

  readonly #onAbort = () => this.#fail(this.#signal!.reason);

  /** Bounds the wait for clamd to do `what`. */
  #waitOnClamd(what: string): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => this.#fail(new ScannerUnavailable(`${describeAddress(this.#address)} did not ${what} within ${this.#timeoutMs} ms`)),
      this.#timeoutMs,
    );
  }

  #clamdAnswered(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #succeed(verdict: ScanVerdict): void {
    if (this.#finish()) this.#resolve(verdict);
  }

  #fail(error: unknown): void {
    if (this.#finish()) this.#reject(error);
  }

  /** Releases everything once; false when already done. */
  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#clamdAnswered();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#stopWatchingContent();
    this.#content.off('data', this.#onChunk);
    this.#content.off('end', this.#onEnd);
    this.#socket.destroy();
    // A file read to its end is consumed; any other is destroyed, so its source stops too.
    if (!this.#content.readableEnded) this.#content.destroy();
    return true;
  }
}
