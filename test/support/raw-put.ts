import { request } from 'node:http';

/**
 * A PUT with exactly the headers given (undefined ones left out) and the body, through
 * node:http, which sends a Content-Length as told even when it does not match the body,
 * as a hostile client would. Resolves with the status and the answer's text.
 */
export function rawPut(url: string, headers: Readonly<Record<string, string | undefined>>, body: Buffer): Promise<{ status: number; text: string }> {
  const given = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: given, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
