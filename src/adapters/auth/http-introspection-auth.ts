import { createHash } from 'node:crypto';
import type { AuthPort } from '../../application/ports/auth-port.ts';
import { AuthenticationUnavailable } from '../../domain/errors.ts';
import type { Identity } from '../../domain/principal.ts';

export interface HttpIntrospectionAuthOptions {
  /** Endpoint that answers 2xx with a JSON description of the token's holder, or 401/403/404. */
  readonly url: string;
  /** Dotted path of the role in the answer, e.g. `role` or `user.role`. */
  readonly roleField: string;
  /** Dotted path of the admin or store id in the answer. */
  readonly idField: string;
  /** Seconds a known token's identity is reused; 0: ask every time. */
  readonly cacheTtlSeconds: number;
  /** Seconds an "unknown token" answer is reused. */
  readonly negativeCacheTtlSeconds: number;
  /** Most tokens cached at once; the least recently stored go first. */
  readonly cacheMaxEntries: number;
  /** Longest wait for the backend, per request. */
  readonly timeoutMs: number;
  /** Injected by tests; Date.now by default. */
  readonly now?: () => number;
}

interface CacheEntry {
  readonly identity: Identity | undefined;
  readonly expiresAt: number;
}

/** Statuses by which the backend says "no such token" (rather than "I cannot answer"). */
const UNKNOWN_TOKEN_STATUSES: ReadonlySet<number> = new Set([401, 403, 404]);

function valueAt(answer: unknown, path: string): unknown {
  let value = answer;
  for (const field of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, field)) return undefined;
    value = (value as Record<string, unknown>)[field];
  }
  return value;
}

/**
 * Asks the platform's existing API who holds a token, forwarding it as the caller sent it
 * (`Authorization: Token <t>`), so attache accepts exactly the tokens the platform does.
 *
 * Answers are cached by the token's SHA-256 (the cache never holds a token): known tokens for
 * `cacheTtlSeconds`, unknown ones for `negativeCacheTtlSeconds`, which is shorter because a
 * token just issued must start working soon. A revoked token keeps working for at most
 * `cacheTtlSeconds`. Failures to get an answer are never cached.
 */
/** What can follow `Token ` in an Authorization header: visible ASCII. */
const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;

export class HttpIntrospectionAuth implements AuthPort {
  readonly #options: HttpIntrospectionAuthOptions;
  readonly #now: () => number;
  // A Map iterates in insertion order: the first key is the oldest entry.
  readonly #cache = new Map<string, CacheEntry>();

  constructor(options: HttpIntrospectionAuthOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Throws AuthenticationUnavailable when the backend is unreachable, too slow, or answers 5xx or non-JSON. */
  async identify(token: string): Promise<Identity | undefined> {
    // A token that cannot go in an HTTP header (controls, spaces, letters outside ASCII: possible
    // from the library or the command line, never from a request) is no token the platform gave.
    if (!SENDABLE_TOKEN.test(token)) return undefined;
    const digest = createHash('sha256').update(token, 'utf8').digest('hex');
    const cached = this.#cache.get(digest);
    if (cached !== undefined) {
      if (cached.expiresAt > this.#now()) return cached.identity;
      this.#cache.delete(digest);
    }
    const identity = await this.#ask(token);
    const ttl = identity === undefined ? this.#options.negativeCacheTtlSeconds : this.#options.cacheTtlSeconds;
    if (ttl > 0) this.#remember(digest, { identity, expiresAt: this.#now() + ttl * 1000 });
    return identity;
  }

  async #ask(token: string): Promise<Identity | undefined> {
    const { url, timeoutMs } = this.#options;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'GET',
        headers: { Authorization: `Token ${token}`, Accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new AuthenticationUnavailable(timedOut ? `no answer from ${url} within ${timeoutMs} ms` : `cannot reach ${url}`, { cause: error });
    }
    if (UNKNOWN_TOKEN_STATUSES.has(response.status)) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new AuthenticationUnavailable(`${url} answered ${response.status}`);
    }
    let answer: unknown;
    try {
      answer = await response.json();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new AuthenticationUnavailable(timedOut ? `${url} did not finish its answer within ${timeoutMs} ms` : `${url} answered ${response.status} without valid JSON`, { cause: error });
    }
    const role = valueAt(answer, this.#options.roleField);
    const id = valueAt(answer, this.#options.idField);
    // A 2xx without a role is a backend that changed shape or a misconfigured field name:
    // refusing every caller with 401 would hide that, so it is "unavailable", loudly.
    if (typeof role !== 'string' || role === '') {
      throw new AuthenticationUnavailable(`${url} answered without a string at "${this.#options.roleField}"`);
    }
    if (id === undefined || id === null) return { role };
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw new AuthenticationUnavailable(`${url} answered a non-scalar at "${this.#options.idField}"`);
    }
    return { role, id };
  }

  #remember(digest: string, entry: CacheEntry): void {
    this.#cache.delete(digest);
    while (this.#cache.size >= this.#options.cacheMaxEntries) {
      const oldest = this.#cache.keys().next().value as string;
      this.#cache.delete(oldest);
    }
    this.#cache.set(digest, entry);
  }
}
