/** Some letter outside ASCII: Cyrillic, CJK, accented Latin... */
const NON_ASCII_LETTER = /(?![\x00-\x7f])[\p{L}\p{M}]/u;
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** aiohttp's default User-Agent is `Python/3.11 aiohttp/3.8.4` (its `http.SERVER_SOFTWARE`). */
const AIOHTTP_USER_AGENT = /\baiohttp\//i;

/**
 * The file name a client meant, from the `filename` it put in its multipart part header and the
 * request's `User-Agent`.
 *
 * Most clients send UTF-8 as is (RFC 7578, browsers, curl, requests, httpx, Go's
 * mime/multipart) or RFC 2231's `filename*=utf-8''…` (which busboy decodes); the browsers'
 * HTML5 escapes of `"`, CR and LF are undone by the form reader (upload-form.ts). aiohttp instead percent-encodes every
 * byte of a name outside unreserved ASCII, `%`, spaces and `'` included (`it%27s%20Bob%27s.xlsx`,
 * `a%2520b.pdf` for `a%20b.pdf`: test/fixtures/multipart/README.md), so from a client that says it
 * is aiohttp a name is decoded whenever its escapes decode to valid UTF-8.
 * A few other clients percent-encode a non-ASCII name too. Theirs is decoded only when that is
 * surely what happened: the name as sent is printable ASCII, its escapes are all valid and decode
 * to valid UTF-8, and the result has a letter outside ASCII. Anything else stays as sent:
 * `a%20b.pdf` or `100%25.pdf` may be real names. Either way, a decoded `..%2F` still meets the
 * domain's name rules, as any other name does.
 */
export function clientFileName(sent: string, userAgent = ''): string {
  if (!PERCENT_ESCAPE.test(sent)) return sent;
  const fromAiohttp = AIOHTTP_USER_AGENT.test(userAgent);
  if (!fromAiohttp && !PRINTABLE_ASCII.test(sent)) return sent;
  let decoded: string;
  try {
    // Throws URIError on a stray `%` or escapes that are not valid UTF-8.
    decoded = decodeURIComponent(sent);
  } catch {
    return sent;
  }
  return fromAiohttp || NON_ASCII_LETTER.test(decoded) ? decoded : sent;
}
