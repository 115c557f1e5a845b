import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TEST_TLS } from '../s3/recording-s3-proxy.ts';

/** What a client sent to the token endpoint: its form, parsed. */
export type TokenRequest = Readonly<Record<string, string>>;

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
export const FAKE_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

/**
 * An identity provider for @azure/identity's EnvironmentCredential (AZURE_AUTHORITY_HOST), over HTTPS with
 * the tests' certificate: the OpenID configuration and a token endpoint handing out made-up Azure Storage
 * access tokens (issuer, audience and lifetime as Entra ID's; unsigned: Azurite's OAuth checks the claims,
 * not the signature). Served as an AD FS authority (AZURE_TENANT_ID=adfs): for a tenant id, MSAL first asks
 * login.microsoftonline.com for instance discovery, which no test on loopback can answer.
 */
export async function startFakeTokenEndpoint(): Promise<{ url: string; requests: TokenRequest[]; stop(): Promise<void> }> {
  const requests: TokenRequest[] = [];
  const server = createServer({ cert: readFileSync(TEST_TLS.cert), key: readFileSync(TEST_TLS.key) }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const base = `https://localhost:${(server.address() as AddressInfo).port}`;
      response.setHeader('content-type', 'application/json');
      if (request.url?.startsWith('/adfs/.well-known/openid-configuration')) {
        response.end(JSON.stringify({ token_endpoint: `${base}/adfs/oauth2/token`, issuer: `${base}/adfs`, authorization_endpoint: `${base}/adfs/oauth2/authorize`, jwks_uri: `${base}/adfs/keys` }));
        return;
      }
      if (request.method === 'POST' && request.url?.startsWith('/adfs/oauth2/token')) {
        requests.push(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())));
        const now = Math.floor(Date.now() / 1000);
        const claims = { aud: 'https://storage.azure.com', iss: `https://sts.windows.net/${FAKE_TENANT}/`, iat: now - 60, nbf: now - 60, exp: now + 3600, oid: randomUUID(), tid: FAKE_TENANT };
        response.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.` }));
        return;
      }
      response.statusCode = 404;
      response.end('{"error":"not_found"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  return {
    url: `https://localhost:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
