import { DeleteObjectCommand, DeleteObjectsCommand, type S3Client, type _Error as S3Error } from '@aws-sdk/client-s3';
import { facts, isNotFound, statusOf } from './s3-errors.ts';

/** The most keys S3 takes in one DeleteObjects. */
const MAX_KEYS_PER_REQUEST = 1000;
/** The longest a delete waits for the one under way before it is sent anyway (a request that hangs holds none back longer). */
const MAX_WAIT_MS = 25;
/** Statuses of a server that does not take DeleteObjects (or the checksum it requires) at all. */
const BATCH_NOT_TAKEN = new Set([400, 405, 411, 501]);

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Deletes, several to one request under load (a group commit: no wait when idle): a key asked for
 * while no delete is under way goes at once (DeleteObject); keys asked for meanwhile wait for it
 * (at most MAX_WAIT_MS) and then go together (DeleteObjects, up to 1,000 keys). Each caller's promise still
 * settles when its own key is gone, or rejects with its own key's error; a key already gone is no
 * error. Every direct upload's completion deletes its staged object: at 100 uploads a second that
 * is a request each, and one request for several of them costs a fraction of one each.
 *
 * A batch refused as a whole (4xx, 501) is sent again key by key, so that each caller gets its own
 * key's answer; a server that does not take DeleteObjects (400, 405, 411, 501: some S3-compatible
 * ones, or the checksum the SDK must send with it) gets one DeleteObject per key from then on.
 */
export class S3ObjectDeletes {
  readonly #client: S3Client;
  readonly #bucket: string;
  /** Keys waiting for a delete under way to end, each with the callers waiting for it. */
  readonly #queued = new Map<string, Waiter[]>();
  #underWay = 0;
  /** Sends what is queued even though a delete is still under way: a stuck request holds no key back longer than MAX_WAIT_MS. */
  #patience: NodeJS.Timeout | undefined;
  #batchesRefused = false;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  /** Resolves once nothing is at `key`; rejects with S3's error otherwise. */
  delete(key: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiters = this.#queued.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.#queued.set(key, [{ resolve, reject }]);
      if (this.#underWay === 0) this.#sendQueued();
      else this.#patience ??= setTimeout(() => this.#sendQueued(), MAX_WAIT_MS);
    });
  }

  #sendQueued(): void {
    clearTimeout(this.#patience);
    this.#patience = undefined;
    if (this.#queued.size === 0) return;
    const batch = new Map<string, Waiter[]>();
    for (const [key, waiters] of this.#queued) {
      if (batch.size === MAX_KEYS_PER_REQUEST) break;
      batch.set(key, waiters);
      this.#queued.delete(key);
    }
    this.#underWay++;
    void this.#send(batch).finally(() => {
      this.#underWay--;
      if (this.#queued.size > 0) this.#sendQueued();
    });
  }

  /** Settles every waiter of `batch`; never throws. */
  async #send(batch: Map<string, Waiter[]>): Promise<void> {
    if (batch.size === 1 || this.#batchesRefused) {
      await Promise.all([...batch].map(([key, waiters]) => settle(waiters, this.#deleteOne(key))));
      return;
    }
    const Objects = [...batch.keys()].map((Key) => ({ Key }));
    let errors: readonly S3Error[];
    try {
      ({ Errors: errors = [] } = await this.#client.send(new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects, Quiet: true } })));
    } catch (error) {
      const status = statusOf(error);
      // No answer, or the server failing: each key would fail alike.
      if (status === undefined || (status >= 500 && status !== 501)) {
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
        return;
      }
      // Refused as a whole: each key on its own, for its own answer; for good when the server does not
      // take the request itself (as R2 and B2 refuse the SDK's checksum headers on uploads, with 501 and
      // 400), not when it is only denied (403: a policy, a clock, fixed later).
      if (BATCH_NOT_TAKEN.has(status) || facts(error).name === 'NotImplemented') this.#batchesRefused = true;
      await Promise.all([...batch].map(([key, waiters]) => settle(waiters, this.#deleteOne(key))));
      return;
    }
    const failed = new Map(errors.map((e) => [e.Key, e]));
    for (const [key, waiters] of batch) {
      const error = failed.get(key);
      if (error === undefined || error.Code === 'NoSuchKey') for (const waiter of waiters) waiter.resolve();
      else for (const waiter of waiters) waiter.reject(Object.assign(new Error(error.Message ?? error.Code ?? 'delete failed'), { name: error.Code ?? 'Error' }));
    }
  }

  async #deleteOne(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
    } catch (error) {
      // S3 answers 204 for a missing key; some compatible servers answer 404.
      if (!isNotFound(error)) throw error;
    }
  }
}

async function settle(waiters: Waiter[], deleting: Promise<void>): Promise<void> {
  try {
    await deleting;
    for (const waiter of waiters) waiter.resolve();
  } catch (error) {
    for (const waiter of waiters) waiter.reject(error);
  }
}
