import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Which peers' X-Forwarded-For is believed (TRUSTED_PROXIES): addresses and CIDR ranges. */
export function trustedProxies(list: readonly string[]): BlockList {
  const trusted = new BlockList();
  for (const entry of list) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) trusted.addAddress(address, type);
    else trusted.addSubnet(address, Number(prefix), type);
  }
  return trusted;
}

/**
 * The client's address: the peer's, unless the peer is a trusted proxy; then X-Forwarded-For is
 * read from its right end (what the nearest proxy saw) past every trusted hop, so a client
 * cannot pass itself off as someone else by sending an X-Forwarded-For of its own.
 */
export function clientAddressOf(req: IncomingMessage, trusted: BlockList): string | undefined {
  let address = plain(req.socket.remoteAddress);
  if (address === undefined || !isTrusted(trusted, address)) return address;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => plain(h.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop === undefined || isIP(hop) === 0) return address;
    address = hop;
    if (!isTrusted(trusted, hop)) return hop;
  }
  return address;
}

function isTrusted(trusted: BlockList, address: string): boolean {
  return trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`. */
function plain(address: string | undefined): string | undefined {
  if (!address) return undefined;
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
