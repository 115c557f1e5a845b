import { createHash } from 'node:crypto';
import type { AuthPort } from '../../application/ports/auth-port.ts';
import { AuthenticationUnavailable } from '../../domain/errors.ts';
import type { Identity } from '../../domain/principal.ts';
import { readBoundedText, TOO_LARGE } from './bounded-answer.ts';
import { TokenCache } from './token-cache.ts';

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
  /** Most tokens cached at once, known and unknown each; the least recently stored go first. */
  readonly cacheMaxEntries: number;
  /** Longest wait for the backend, per request. */
  readonly timeoutMs: number;
  /** Injected by tests; Date.now by default. */
  readonly now?: () => number;
}

/**
 * Largest introspection answer read: a user description is a few hundred bytes; 16 KiB leaves
 * room for verbose platforms while a backend answering megabytes costs nothing.
 */
export const INTROSPECTION_ANSWER_MAX_BYTES = 16 * 1024;

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
 * `cacheTtlSeconds`. Failures to get an answer are never cached. Unknown tokens have a cache of
 * their own, so a flood of made-up tokens cannot evict the valid ones; and one question per token
 * is in flight at a time, whoever asks meanwhile waits for its answer.
 */

/** What can follow `Token ` in an Authorization header: visible ASCII. */
const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;

export class HttpIntrospectionAuth implements AuthPort {
  readonly #options: HttpIntrospectionAuthOptions;
  readonly #known: TokenCache<Identity>;
  readonly #unknown: TokenCache<undefined>;
  readonly #inFlight = new Map<string, Promise<Identity | undefined>>();

  constructor(options: HttpIntrospectionAuthOptions) {
    this.#options = options;
    const now = options.now ?? Date.now;
    this.#known = new TokenCache(options.cacheMaxEntries, now);
    this.#unknown = new TokenCache(options.cacheMaxEntries, now);
  }

  /** Throws AuthenticationUnavailable when the backend is unreachable, too slow, or answers 5xx or non-JSON. */
  async identify(token: string): Promise<Identity | undefined> {
    // A token that cannot go in an HTTP header (controls, spaces, letters outside ASCII: possible
    // from the library or the command line, never from a request) is no token the platform gave.
    if (!SENDABLE_TOKEN.test(token)) return undefined;
    const digest = createHash('sha256').update(token, 'utf8').digest('hex');
    const cached = this.#known.get(digest) ?? this.#unknown.get(digest);
    if (cached !== undefined) return cached.value;
    const pending = this.#inFlight.get(digest);
    if (pending !== undefined) return pending;
    const asking = this.#ask(token)
      .then((identity) => {
        if (identity === undefined) this.#unknown.set(digest, undefined, this.#options.negativeCacheTtlSeconds);
        else this.#known.set(digest, identity, this.#options.cacheTtlSeconds);
        return identity;
      })
      .finally(() => this.#inFlight.delete(digest));
    this.#inFlight.set(digest, asking);
    return asking;
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
    const answer = await this.#answerOf(response);
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

  async #answerOf(response: Response): Promise<unknown> {
    const { url, timeoutMs } = this.#options;
    let text: Awaited<ReturnType<typeof readBoundedText>>;
    try {
      text = await readBoundedText(response, INTROSPECTION_ANSWER_MAX_BYTES);
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new AuthenticationUnavailable(timedOut ? `${url} did not finish its answer within ${timeoutMs} ms` : `${url} broke off its answer`, { cause: error });
    }
    if (text === TOO_LARGE) {
      throw new AuthenticationUnavailable(`${url} answered more than ${INTROSPECTION_ANSWER_MAX_BYTES} bytes`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new AuthenticationUnavailable(`${url} answered ${response.status} without valid JSON`, { cause: error });
    }
  }
}
