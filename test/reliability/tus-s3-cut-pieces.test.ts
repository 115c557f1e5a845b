/**
 * Attack on the pooled part buffers a tus PATCH fills on S3 (piece-parts.ts): uploads whose PATCHes
 * are cut by the client at random bytes (socket reset, sometimes exactly at a part's end, when the
 * part is on its way to RGW) then resumed from HEAD's offset, in pieces of 5 MB + 1, 3 bytes,
 * exactly 8 MiB and 8 MiB + 1, concurrently with multipart form uploads on the same service
 * process (they share the store's PartBufferPool). A buffer given back while a cut request still
 * sent it would corrupt another upload: every stored file's SHA-256 is compared with its source.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { fileNamed } from '../support/file-heads.ts';
import { processMemory } from '../support/process-memory.ts';
import { serviceOnRgw } from '../support/s3/service-on-rgw.ts';
import { seededRandom, testSeed } from '../support/seeded-random.ts';
import { sha256 } from '../support/streams.ts';

const TOKEN = 'tus-cut-attack-token-00000061';
const MIB = 1024 * 1024;
const PIECES = [5 * 1000 * 1000 + 1, 3, 8 * MIB, 8 * MIB + 1];
const seed = testSeed();

describe(`tus PATCHes on S3 cut at random bytes and resumed, beside form uploads (seed ${seed})`, () => {
  const service = serviceOnRgw({ bucketPrefix: 'attache-tus-cut', tokens: [{ token: TOKEN, id: '61' }], env: { MAX_FILE_SIZE: String(200 * MIB) } });
  const { bucket } = service;
  const auth = { 'Tus-Resumable': '1.0.0', Authorization: `Token ${TOKEN}` };
  const bytesAt = async (key: string) => Buffer.from(await (await service.raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());

  /** A PATCH of `body` from `offset` whose socket is reset once `sent` of its bytes are written. */
  async function cutPatch(url: string, offset: number, body: Buffer, sent: number): Promise<void> {
    const { hostname, port, pathname } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `PATCH ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nTus-Resumable: 1.0.0\r\nAuthorization: Token ${TOKEN}\r\n` +
        `Upload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    await new Promise<void>((resolve) => socket.write(body.subarray(0, sent), () => resolve()));
    await sleep(sent % 3 === 0 ? 0 : 30);
    socket.resetAndDestroy();
  }

  /** The upload's offset once the server has seen the cut (a PATCH still running answers 409 or 423 meanwhile). */
  async function offsetOf(url: string): Promise<number> {
    const head = await fetch(url, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    return Number(head.headers.get('upload-offset'));
  }

  /** One tus upload of `bytes`, its pieces cut at random half of the time; the attachment's key. */
  async function cutUpload(name: string, bytes: Buffer, random: () => number, statuses: number[]): Promise<string> {
    const created = await fetch(`${service.url}/v1/chat/upload/resumable/`, {
      method: 'POST',
      headers: { ...auth, 'Upload-Length': String(bytes.length), 'Upload-Metadata': `filename ${Buffer.from(name).toString('base64')}` },
    });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location')!, service.url).href;
    let offset = 0;
    for (let piece = 0; ; piece += 1) {
      const size = PIECES[piece % PIECES.length]!;
      const body = bytes.subarray(offset, Math.min(offset + size, bytes.length));
      if (random() < 0.5 && body.length > 3) {
        // Sometimes exactly at a part's end (that part then on its way to RGW), else anywhere.
        const at = random() < 0.3 && body.length > 8 * MIB ? 8 * MIB : Math.floor(random() * body.length);
        await cutPatch(url, offset, body, at);
      }
      for (let attempt = 0; ; attempt += 1) {
        offset = await offsetOf(url);
        const rest = bytes.subarray(offset, Math.min(offset + size, bytes.length));
        const answer = await fetch(url, { method: 'PATCH', headers: { ...auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body: rest });
        statuses.push(answer.status);
        if (answer.status === 204) {
          offset = Number(answer.headers.get('upload-offset'));
          if (offset === bytes.length) return /\/(chat\/[^?]+)$/.exec(answer.headers.get('attache-url')!)![1]!;
          break;
        }
        const text = await answer.text();
        expect([409, 423], `${answer.status} ${text}`).toContain(answer.status);
        expect(JSON.parse(text)).toMatchObject({ error: expect.any(String) });
        expect(attempt).toBeLessThan(100);
        await sleep(100);
      }
    }
  }

  async function formUpload(bytes: Buffer): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)]), 'form.pdf');
    const response = await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${TOKEN}` }, body: form });
    const json = (await response.json()) as { url: string };
    expect(response.status, JSON.stringify(json)).toBe(200);
    return /\/(chat\/[^?]+)$/.exec(json.url)![1]!;
  }

  it('every file stored is its source, byte for byte; every refusal meanwhile a JSON 409/423', async () => {
    const random = seededRandom(seed);
    const source = (name: string, size: number) => Buffer.concat([fileNamed(name, 1000), randomBytes(size - 1000)]);
    const tusFiles = Array.from({ length: 4 }, (_, i) => source(`cut-${i}.pdf`, 18 * MIB + 7 * i + 1));
    const formFiles = Array.from({ length: 3 }, (_, i) => source(`form-${i}.pdf`, 17 * MIB + i));
    const statuses: number[] = [];
    const keys = await Promise.all([
      ...tusFiles.map((bytes, i) => cutUpload(`cut-${i}.pdf`, bytes, seededRandom(seed + i + 1), statuses)),
      ...formFiles.map(async (bytes, i) => {
        await sleep(200 * i);
        return formUpload(bytes);
      }),
    ]);
    const sources = [...tusFiles, ...formFiles];
    for (const [index, key] of keys.entries()) expect(sha256(await bytesAt(decodeURIComponent(key))), key).toBe(sha256(sources[index]!));
    console.log(`[tus cut] seed ${seed}: PATCH answers ${JSON.stringify(Object.groupBy(statuses, (s) => s), (_, v) => (Array.isArray(v) ? v.length : v))}; peak RSS ${processMemory(service.process.child.pid!).peakRssMb} MB; random ${random()}`);
    expect((await service.raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
  }, 300_000);

  it('4 PATCHes of the same piece at once (a client retrying too soon): one is taken, the others refused in JSON; the file is whole', async () => {
    const bytes = Buffer.concat([fileNamed('twice.pdf', 1000), randomBytes(12 * MIB)]);
    const created = await fetch(`${service.url}/v1/chat/upload/resumable/`, {
      method: 'POST',
      headers: { ...auth, 'Upload-Length': String(bytes.length), 'Upload-Metadata': `filename ${Buffer.from('twice.pdf').toString('base64')}` },
    });
    const url = new URL(created.headers.get('location')!, service.url).href;
    const patch = (offset: number, body: Buffer) =>
      fetch(url, { method: 'PATCH', headers: { ...auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body });
    const first = bytes.subarray(0, 8 * MIB + 1);
    const answers = await Promise.all(Array.from({ length: 4 }, () => patch(0, first)));
    const statuses = answers.map((a) => a.status).sort();
    for (const answer of answers.filter((a) => a.status !== 204)) expect(await answer.json()).toMatchObject({ error: expect.any(String) });
    console.log(`[tus cut] the same piece 4 times at once: ${statuses.join(', ')}`);
    expect(statuses.filter((s) => s === 204).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 204 || s === 409 || s === 423)).toBe(true);
    const offset = await offsetOf(url);
    expect(offset).toBe(first.length);
    const done = await patch(offset, bytes.subarray(offset));
    expect(done.status).toBe(204);
    const key = /\/(chat\/[^?]+)$/.exec(done.headers.get('attache-url')!)![1]!;
    expect(sha256(await bytesAt(decodeURIComponent(key)))).toBe(sha256(bytes));
  }, 120_000);
});
