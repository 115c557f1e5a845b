import { randomBytes } from 'node:crypto';

export type Part =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly filename: string; readonly content: Buffer | string; readonly contentType?: string };

/** A multipart/form-data body built byte by byte, for requests a FormData cannot express. */
export function multipartBody(parts: readonly Part[], boundary = `----attache${randomBytes(8).toString('hex')}`) {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('filename' in part) {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\n` +
            `Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        ),
        Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content),
        Buffer.from('\r\n'),
      );
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** One part exactly as given: raw header lines (no trailing CRLF) and content, for malformed forms. */
export function rawPart(boundary: string, headerLines: ReadonlyArray<string | Buffer>, content: Buffer | string = ''): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\n`),
    ...headerLines.map((line) => Buffer.concat([Buffer.isBuffer(line) ? line : Buffer.from(line), Buffer.from('\r\n')])),
    Buffer.from('\r\n'),
    Buffer.isBuffer(content) ? content : Buffer.from(content),
    Buffer.from('\r\n'),
  ]);
}

/** The closing delimiter of a form. */
export const closing = (boundary: string) => Buffer.from(`--${boundary}--\r\n`);
