import { request } from 'node:http';

/**
 * Sends `body` to `url` in `pieces` spread over `overMs`, as a slow client does. Resolves with
 * the answer's status, or with the error the connection ended in.
 */
export function slowUpload(url: string, token: string, body: { body: Buffer; contentType: string }, overMs: number, pieces = 10): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = request(`${url}/v1/chat/upload/`, {
      method: 'POST',
      headers: { Authorization: `Token ${token}`, 'Content-Type': body.contentType, 'Content-Length': body.body.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', resolve);
    const size = Math.ceil(body.body.length / pieces);
    let sent = 0;
    const sendNext = () => {
      if (req.destroyed) return;
      const piece = body.body.subarray(sent, sent + size);
      sent += piece.length;
      if (sent >= body.body.length) req.end(piece);
      else req.write(piece, () => setTimeout(sendNext, overMs / pieces));
    };
    sendNext();
  });
}

