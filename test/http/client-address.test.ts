import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressOf, trustedProxies } from '../../src/adapters/http/client-address.ts';

const request = (peer: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('clientAddressOf', () => {
  const trusted = trustedProxies(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);

  it.each([
    ['an untrusted peer is the client, whatever it forwards', request('203.0.113.9', '198.51.100.1'), '203.0.113.9'],
    ['a trusted proxy: the address it saw', request('10.1.2.3', '198.51.100.1'), '198.51.100.1'],
    ['a client cannot pass itself off as another: its own X-Forwarded-For is left of what the proxy saw', request('10.1.2.3', '192.0.2.66, 198.51.100.1'), '198.51.100.1'],
    ['trusted hops are skipped from the right', request('127.0.0.1', '198.51.100.1, 10.9.9.9'), '198.51.100.1'],
    ['only proxies: the leftmost', request('10.1.2.3', '10.0.0.5, 10.0.0.6'), '10.0.0.5'],
    ['a trusted proxy without the header is the client', request('10.1.2.3'), '10.1.2.3'],
    ['garbage in the header stops the walk at the last address believed', request('10.1.2.3', 'not-an-ip, 10.0.0.7'), '10.0.0.7'],
    ['an IPv4 peer on a dual-stack socket', request('::ffff:10.1.2.3', '198.51.100.1'), '198.51.100.1'],
    ['IPv6 proxies', request('fd00::1', '2001:db8::7'), '2001:db8::7'],
  ])('%s', (_, req, client) => {
    expect(clientAddressOf(req, trusted)).toBe(client);
  });

  it('believes no header without TRUSTED_PROXIES', () => {
    expect(clientAddressOf(request('10.1.2.3', '198.51.100.1'), trustedProxies([]))).toBe('10.1.2.3');
  });
});
