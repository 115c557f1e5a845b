import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { forwardRequest } from '../forward-request.ts';

/** What the proxy saw of one request. */
export interface SeenRequest {
  readonly path: string;
  /** Method, then ` copy`, the multipart query (` ?uploads`, ` ?partNumber`, ` ?uploadId`) or ` ?delete` (DeleteObjects). */
  readonly what: string;
  /** The SigV4 payload hash it was signed with: a SHA-256 in hex, or UNSIGNED-PAYLOAD. */
  readonly payloadHash: string | undefined;
}

/** The test certificate and its key (see trustTestCertificate), for whatever serves TLS in tests and the bench. */
export const TEST_TLS = { cert: join(import.meta.dirname, 'tls', 'cert.pem'), key: join(import.meta.dirname, 'tls', 'key.pem') };

/**
 * The proxy's self-signed certificate (for 127.0.0.1 and localhost, valid to 2126; made with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem
 * -days 36500 -subj "/CN=attache test S3 proxy" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost"`),
 * trusted by this process's TLS clients from now on, as a CA-issued one would be.
 */
export function trustTestCertificate(): void {
  const cert = readFileSync(TEST_TLS.cert, 'utf8');
  const trusted = getCACertificates('default');
  if (!trusted.includes(cert)) setDefaultCACertificates([...trusted, cert]);
}

/**
 * Forwards requests to `target` (the client's Host header kept, so SigV4 signatures still verify) and
 * records them; answers those `refuse` picks with 403 AccessDenied instead, as S3 does (never retried),
 * or with `refusal`'s status and code (501 NotImplemented: a server without the operation).
 * With `tls`, clients reach it over HTTPS (call trustTestCertificate first), as they would AWS.
 */
export async function startS3Proxy(
  target: string,
  options: { refuse?: (request: IncomingMessage) => boolean; refusal?: { status: number; code: string }; tls?: boolean } = {},
) {
  const refuse = options.refuse ?? (() => false);
  const { status, code } = options.refusal ?? { status: 403, code: 'AccessDenied' };
  const seen: SeenRequest[] = [];
  const heldBack: { pick: (request: IncomingMessage) => boolean; until: Promise<void> }[] = [];
  const forward: RequestListener = (incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://x');
    const query = ['uploads', 'partNumber', 'uploadId', 'delete'].find((name) => url.searchParams.has(name));
    const copy = incoming.headers['x-amz-copy-source'] !== undefined;
    const payloadHash = incoming.headers['x-amz-content-sha256'] as string | undefined;
    seen.push({ path: decodeURIComponent(url.pathname), what: `${incoming.method}${copy ? ' copy' : query ? ` ?${query}` : ''}`, payloadHash });
    if (refuse(incoming)) {
      incoming.resume();
      outgoing.writeHead(status, { 'content-type': 'application/xml' });
      outgoing.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>refused by the test proxy</Message></Error>`);
      return;
    }
    const held = heldBack.find(({ pick }) => pick(incoming));
    if (held) void held.until.then(() => forwardRequest(target, incoming, outgoing));
    else forwardRequest(target, incoming, outgoing);
  };
  const server = options.tls
    ? createHttpsServer({ key: readFileSync(TEST_TLS.key), cert: readFileSync(TEST_TLS.cert) }, forward)
    : createHttpServer(forward);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as { port: number }).port}`,
    /** What was asked about `key`, in order: method, then a copy or the multipart query. */
    requestsFor: (key: string) => seen.filter((r) => r.path.endsWith(`/${key}`)).map((r) => r.what),
    /** Forwards the requests `pick` picks from now on only once `until` has resolved: a backend slow to answer them. */
    holdBack: (pick: (request: IncomingMessage) => boolean, until: Promise<void>) => void heldBack.push({ pick, until }),
    /** Every request, in order: method, then a copy or the query (see SeenRequest). */
    requests: () => seen.map((r) => r.what),
    /** Every request, in order, with the path it asked about. */
    requestsWithPaths: () => seen.map((r) => `${r.what} ${r.path}`),
    /** Every request about `key`, with the payload hash it was signed with. */
    seenFor: (key: string) => seen.filter((r) => r.path.endsWith(`/${key}`)),
    /** TCP connections clients have opened to the proxy so far (each one a TLS handshake with `tls`). */
    connectionsOpened: () => connections,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
