/**
 * The body of a fetch Response as text, refused once it passes `maxBytes`: a token backend that
 * answers hundreds of megabytes (broken, or hostile) must not be held in memory. `Content-Length`
 * is checked first, so an honest oversize answer is refused without reading it.
 */
export async function readBoundedText(response: Response, maxBytes: number): Promise<string | TooLarge> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    return TOO_LARGE;
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      await reader.cancel();
      return TOO_LARGE;
    }
    parts.push(value);
  }
  return Buffer.concat(parts, length).toString('utf8');
}

export const TOO_LARGE = Symbol('answer too large');
export type TooLarge = typeof TOO_LARGE;
