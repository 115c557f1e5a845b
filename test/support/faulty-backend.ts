import type { ObjectStore } from '../../src/application/ports/object-store.ts';

/** A storage server this file starts, kills, freezes and brings back. */
export interface FaultyBackend {
  readonly name: string;
  /** The store attache uses, with small timeouts. */
  readonly store: ObjectStore;
  /** The longest a failing upload may take to be answered, from the store's configured timeouts. */
  readonly answerBoundMs: number;
  /** Waits until `count` large uploads have reached the backend (a multipart upload / resumable session is open). */
  largeUploadsReachedBackend(count: number): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): void;
  /** Back on the same address with the same configuration. */
  restart(): Promise<void>;
  freeze(): void;
  thaw(): void;
  /** Everything the backend holds for attache: objects and anything half-written it can show. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}
