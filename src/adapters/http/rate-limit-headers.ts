import type { LimitState } from '../../domain/errors.ts';

/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10): `RateLimit-Policy`
 * says what each limit allows (`q` per `w` seconds; the byte quota in `qu="content-bytes"`),
 * `RateLimit` what is left of it (`r`) and for how long (`t` seconds). Structured-field lists,
 * one item per limit that applies to the request.
 */
export function rateLimitHeaders(limits: readonly LimitState[]): Record<string, string> {
  if (limits.length === 0) return {};
  const unit = (l: LimitState) => (l.policy === 'quota' ? ';qu="content-bytes"' : '');
  return {
    'RateLimit-Policy': limits.map((l) => `"${l.policy}";q=${l.limit};w=${l.windowSeconds}${unit(l)}`).join(', '),
    RateLimit: limits.map((l) => `"${l.policy}";r=${l.remaining};t=${l.resetSeconds}`).join(', '),
  };
}

/** A refusal's headers: the limit's, and when to try again (RFC 9110 §10.2.3). */
export function refusalHeaders(limit: LimitState): Record<string, string> {
  return { 'Retry-After': String(limit.resetSeconds), ...rateLimitHeaders([limit]) };
}
