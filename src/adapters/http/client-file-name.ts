/** Some letter outside ASCII: Cyrillic, CJK, accented Latin... */
const NON_ASCII_LETTER = /(?![\x00-\x7f])[\p{L}\p{M}]/u;
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The file name a client meant, from the `filename` it put in its multipart part header.
 *
 * Most clients send UTF-8 as is (RFC 7578, browsers, curl, requests, httpx, Go's
 * mime/multipart) or RFC 2231's `filename*=utf-8''…` (which busboy decodes); the browsers'
 * HTML5 escapes of `"`, CR and LF are undone by multer. aiohttp (and a few others) instead
 * percent-encode a non-ASCII name: `filename="%D0%A4%D0%BE%D1%82%D0%BE.jpg"` for `Фото.jpg`.
 * Such a name is decoded, but only when that is surely what happened: the name as sent is
 * printable ASCII, its escapes are all valid and decode to valid UTF-8, and the result has a
 * letter outside ASCII. Anything else stays as sent: `a%20b.pdf` or `100%25.pdf` may be real
 * names, and a decoded `..%2F` still meets the domain's name rules, as any other name does.
 */
export function clientFileName(sent: string): string {
  if (!PRINTABLE_ASCII.test(sent) || !PERCENT_ESCAPE.test(sent)) return sent;
  let decoded: string;
  try {
    // Throws URIError on a stray `%` or escapes that are not valid UTF-8.
    decoded = decodeURIComponent(sent);
  } catch {
    return sent;
  }
  return NON_ASCII_LETTER.test(decoded) ? decoded : sent;
}
