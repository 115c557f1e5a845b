import type { Readable } from 'node:stream';
import type { StoredObject } from '../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../domain/errors.ts';
import type { ObjectKey } from '../../domain/object-key.ts';
import { ContentDigest } from './content-digest.ts';
import type { DeferredCleanup } from './deferred-cleanup.ts';

/** What a store's upload step is handed: where to count the bytes, and how to tell the put it failed. */
export interface PutInProgress {
  /** Every byte sent goes through it; the put answers its size and SHA-256. */
  readonly digest: ContentDigest;
  /**
   * Aborted once the put is lost anyway (the signal aborted, the body failed, the backend failed):
   * requests still in flight for it may stop, so that cleanup starts at once.
   */
  readonly lost: AbortSignal;
  /** The backend failed: the first such failure (unless the body failed before) is the put's cause. */
  backendFailed(error: unknown): void;
  /** The backend's failure noted by backendFailed, when it was the first thing to fail. */
  readonly backendError: unknown;
}

export interface PutSteps {
  /** Sends the body to the backend (`put.digest` fed every byte); throws what failed. */
  upload(put: PutInProgress): Promise<void>;
  /** The backend's failure in the port's terms: ObjectAlreadyExists or StorageUnavailable. */
  translate(error: unknown): ObjectAlreadyExists | StorageUnavailable;
  /**
   * Takes back what `upload` stored, when the signal aborted after the last byte had been sent
   * (a request that cannot be cancelled once sent is let finish, then undone). Throws when the
   * backend does not confirm it; the deferred cleanup then retries.
   */
  undoStored(): Promise<void>;
  /**
   * After a failure, removes what the backend may still hold for the put (e.g. open multipart
   * uploads); false when it could not confirm that, so that the deferred cleanup retries.
   */
  afterFailure?(error: unknown): Promise<boolean>;
}

/**
 * One put, from the body's first byte to the answer, written once for every store:
 * - an aborting `signal` destroys the body, and its reason is what the put throws;
 * - the body's own errors (a client gone, FileTooLarge from a size limit) are thrown unchanged,
 *   by identity; the backend's become ObjectAlreadyExists or StorageUnavailable (`translate`).
 *   Whichever failed first is the cause: once the put is lost, the body torn down or the
 *   requests cancelled fail too, and those failures are consequences;
 * - an abort that came after the last byte undoes what was stored, whether the put had its
 *   answer or not;
 * - what a backend could not confirm undone (any StorageUnavailable: a request it did not
 *   answer may still be carried out) is cleaned up again later by `cleanup`.
 * Answers the size and SHA-256 of the bytes that went through `put.digest`.
 */
export async function runPut(
  key: ObjectKey,
  body: Readable,
  signal: AbortSignal | undefined,
  cleanup: DeferredCleanup | undefined,
  steps: PutSteps,
): Promise<StoredObject> {
  if (signal?.aborted) {
    body.destroy();
    throw signal.reason;
  }
  // A body that failed before it was handed over may have emitted its error already.
  if (body.errored) throw body.errored;
  const put = new Put(body, signal);
  // Whether what the backend may have stored was taken back; unconfirmed, the deferred cleanup retries.
  const undo = () => steps.undoStored().then(() => true, () => false);
  try {
    try {
      await steps.upload(put);
    } catch (error) {
      throw put.failureFrom(error, steps.translate);
    } finally {
      put.detach();
    }
  } catch (error) {
    const settled = (await steps.afterFailure?.(error)) ?? true;
    // Aborted once the last byte had gone: the request carrying it cannot be recalled, and the
    // backend may store the object although the put gave up on the answer (a resumable upload's
    // final PUT, a CompleteMultipartUpload).
    const undone = signal?.aborted && body.readableEnded ? await undo() : true;
    if (error instanceof StorageUnavailable || !settled || !undone) cleanup?.schedule(key);
    throw error;
  } finally {
    if (!body.readableEnded) body.destroy();
  }
  if (signal?.aborted) {
    if (!(await undo())) cleanup?.schedule(key);
    throw signal.reason;
  }
  // The backend answers: undo earlier failed writes now rather than at their next turn.
  cleanup?.kick();
  return { key, size: put.digest.size, sha256: put.digest.sha256 };
}

type Cause = { readonly from: 'body' | 'backend'; readonly error: unknown };

class Put implements PutInProgress {
  readonly digest = new ContentDigest();
  /** Made when a store first asks for `lost` (the memory store never does): one controller less per put. */
  #lost: AbortController | undefined;
  #isLost = false;
  readonly #body: Readable;
  readonly #signal: AbortSignal | undefined;
  #cause: Cause | undefined;

  constructor(body: Readable, signal: AbortSignal | undefined) {
    this.#body = body;
    this.#signal = signal;
    body.on('error', this.#onBodyError);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get lost(): AbortSignal {
    if (this.#lost === undefined) {
      this.#lost = new AbortController();
      if (this.#isLost) this.#lost.abort();
    }
    return this.#lost.signal;
  }

  get backendError(): unknown {
    return this.#cause?.from === 'backend' ? this.#cause.error : undefined;
  }

  backendFailed(error: unknown): void {
    this.#fail({ from: 'backend', error });
  }

  /** What the put throws for `error`, the failure its upload step threw. */
  failureFrom(error: unknown, translate: PutSteps['translate']): unknown {
    if (this.#signal?.aborted) return this.#signal.reason;
    if (this.#cause?.from === 'body') return this.#cause.error;
    const cause = this.#cause?.error ?? error;
    if (cause instanceof ObjectAlreadyExists || cause instanceof StorageUnavailable) return cause;
    return translate(cause);
  }

  /**
   * Stops listening to the signal. The body keeps its error listener: an error it emits later
   * (its destruction by an abort, still on its way) must find one, or it would crash the process.
   */
  detach(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  #fail(cause: Cause): void {
    if (this.#isLost) return;
    this.#cause = cause;
    this.#markLost();
  }

  #markLost(): void {
    this.#isLost = true;
    this.#lost?.abort();
  }

  readonly #onBodyError = (error: unknown) => this.#fail({ from: 'body', error });

  readonly #onAbort = () => {
    this.#markLost();
    this.#body.destroy(this.#signal?.reason);
  };
}
