import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto';

/** What the SDK hashes, and signs with. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

/** Signing keys seen lately (a SigV4 signing key changes daily, per region and service): a handful. */
const MAX_KEPT_KEYS = 16;
const keyObjects = new Map<string, KeyObject>();

/**
 * The SDK's SHA-256 (the S3 client's `sha256` option), with the HMAC secrets it is given kept as
 * KeyObjects. The SDK's own class hands each HMAC its secret as bytes, and Node then makes a
 * KeyObject of them every time: four fifths of the cost of the one HMAC that signs each request
 * (SigV4's signature under the day's signing key), 10 to 12 µs of CPU per S3 request. A secret
 * given as text (the access key's secret, which derives the day's signing key once a day) is not kept.
 * Otherwise the same: a plain hash may be digested more than once, an HMAC once.
 */
export class KeyedSha256 {
  readonly digestLength = 32;
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;
  #finished = false;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#fresh();
  }

  update(data: SourceData): void {
    if (this.#finished) throw new Error('Attempted to update an already finished hash.');
    this.#hash.update(bytesOf(data));
  }

  async digest(): Promise<Uint8Array> {
    let digest: Buffer;
    if (this.#secret) {
      this.#finished = true;
      digest = this.#hash.digest();
    } else {
      digest = (this.#hash as Hash).copy().digest();
    }
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  }

  reset(): void {
    this.#hash = this.#fresh();
    this.#finished = false;
  }

  #fresh(): Hash | Hmac {
    const secret = this.#secret;
    if (!secret) return createHash('sha256');
    return createHmac('sha256', typeof secret === 'string' ? secret : keyObjectFor(bytesOf(secret) as Buffer));
  }
}

function bytesOf(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** The key's KeyObject, made once while the key is in use. */
function keyObjectFor(bytes: Buffer): KeyObject {
  const id = bytes.toString('base64');
  let key = keyObjects.get(id);
  if (key === undefined) {
    if (keyObjects.size >= MAX_KEPT_KEYS) keyObjects.clear();
    key = createSecretKey(Buffer.from(bytes));
    keyObjects.set(id, key);
  }
  return key;
}
