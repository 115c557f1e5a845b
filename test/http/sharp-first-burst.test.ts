/**
 * Attack on sharp's lazy load (lazy-sharp-previewer.ts): a fresh service process whose very first
 * requests are a burst of JPEG, PNG and HEIC uploads with previews on, beside one whose client
 * goes away while the first preview waits for sharp to load. Every answer is the attachment with
 * its preview, every preview is an image, and the requests after them are served as well.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipartBody } from '../support/multipart.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'sharp-burst-token-000000000071';
const fixture = (name: string) => readFile(new URL(`../fixtures/${name}`, import.meta.url));

describe('the first requests of a process are a burst of images (sharp loads under them)', () => {
  let dir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-sharp-burst-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '71' }] }));
    service = await startServiceProcess({ AUTH_TOKENS_FILE: join(dir, 'tokens.json'), LOCAL_STORAGE_DIR: join(dir, 'uploads') }, 60_000);
  }, 90_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  const send = async (filename: string, content: Buffer) => {
    const { body, contentType } = multipartBody([{ name: 'session_id', value: '1' }, { name: 'file', filename, content }]);
    const response = await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${TOKEN}`, 'Content-Type': contentType }, body });
    return { status: response.status, json: (await response.json()) as { preview_url?: string; error?: string } };
  };
  const leaveDuringPreview = async (filename: string, content: Buffer) => {
    const { body, contentType } = multipartBody([{ name: 'session_id', value: '1' }, { name: 'file', filename, content }]);
    const { hostname, port } = new URL(service.url);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const head = `POST /v1/chat/upload/ HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Token ${TOKEN}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`;
    await new Promise<void>((resolve) => socket.write(Buffer.concat([Buffer.from(head), body]), () => resolve()));
    socket.resetAndDestroy();
  };
  const expectPreviewed = async (answer: Awaited<ReturnType<typeof send>>, name: string) => {
    expect(answer.status, `${name}: ${JSON.stringify(answer.json)}`).toBe(200);
    expect(answer.json.preview_url, name).toEqual(expect.any(String));
    const preview = await fetch(answer.json.preview_url!);
    expect(preview.status, name).toBe(200);
    expect(preview.headers.get('content-type'), name).toMatch(/^image\//);
    expect((await preview.arrayBuffer()).byteLength, name).toBeGreaterThan(100);
  };

  it('8 images at once, and one whose client leaves: each answered with its preview; the next ones too', async () => {
    const images = [
      ['a.jpg', await fixture('jpeg-imagemagick-progressive.jpg')],
      ['b.png', await fixture('png-imagemagick-16bit.png')],
      ['c.heic', await fixture('heic-libheif-x265.heic')],
      ['d.jpeg', await fixture('jpeg-pillow-420.jpeg')],
      ['e.png', await fixture('png-pillow-palette-transparent.png')],
      ['f.jpg', await fixture('jpeg-exiftool-orientation6-gps.jpg')],
      ['g.heic', await fixture('heic-libheif-x265.heic')],
      ['h.png', await fixture('png-imagemagick-interlaced.png')],
    ] as const;
    // The very first request: its whole body sent, then its socket reset while sharp is loading for it.
    await leaveDuringPreview('leaves.jpg', await fixture('jpeg-imagemagick-baseline.jpg'));
    const answers = await Promise.all(images.map(([name, bytes]) => send(name, bytes)));
    for (const [index, answer] of answers.entries()) await expectPreviewed(answer, images[index]![0]);
    for (const [name, bytes] of images.slice(0, 3)) await expectPreviewed(await send(`again-${name}`, bytes), `again-${name}`);
  }, 120_000);
});
