/**
 * One service process (`npm start`'s command, local driver) under a long mixed load on
 * loopback, a new connection per request: valid uploads of varied sizes in both field orders,
 * clients cut off mid-body, bodies over MAX_FILE_SIZE, refused types. Afterwards every valid
 * upload is stored exactly once and downloads with the size and SHA-256 its answer gave, nothing
 * else is left (no incoming/, no temp file), no answer was a 5xx, and the process's open file
 * descriptors are back where they were. Its RSS is printed along the way (docs/performance.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { seededRandom, testSeed } from '../support/seeded-random.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { filesUnder } from '../support/stores-under-test.ts';
import { processMemory, watchPeakRss } from '../support/process-memory.ts';

const TOKEN = 'mixed-load-token-000000000001';
const KB = 1024;
const MAX_FILE_SIZE = 2 * 1024 * KB;
const boundary = 'mixed-load-boundary';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

type Kind = 'valid' | 'cut' | 'oversize' | 'refused';
interface Sent {
  readonly kind: Kind;
  readonly name: string;
  readonly file: Buffer;
  readonly sessionFirst: boolean;
}

function form({ name, file, sessionFirst }: Sent): Buffer {
  const session = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="session_id"\r\n\r\nload\r\n`);
  const part = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/pdf\r\n\r\n`),
    file,
    Buffer.from('\r\n'),
  ]);
  return Buffer.concat([...(sessionFirst ? [session, part] : [part, session]), Buffer.from(`--${boundary}--\r\n`)]);
}

/** POSTs `sent` on a connection of its own; a cut-off client sends half its body and goes away. */
function post(base: string, sent: Sent): Promise<{ status: number; json: { url?: string; size?: number; sha256?: string } } | 'cut'> {
  const body = form(sent);
  return new Promise((resolve) => {
    const req = request(`${base}/v1/chat/upload/`, {
      method: 'POST',
      agent: false,
      headers: { Authorization: `Token ${TOKEN}`, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length },
    });
    req.on('error', () => resolve('cut'));
    if (sent.kind === 'cut') {
      req.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => req.destroy(), 5));
      return;
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
    });
    req.end(body);
  });
}

function plan(count: number, seed: number): Sent[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const roll = random();
    const kind: Kind = roll < 0.85 ? 'valid' : roll < 0.9 ? 'cut' : roll < 0.95 ? 'oversize' : 'refused';
    const size = kind === 'oversize' ? 3 * 1024 * KB : Math.round(KB + random() * 300 * KB);
    const file = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(size)]);
    return { kind, name: kind === 'refused' ? `virus-${i}.exe` : `load-${i}.pdf`, file, sessionFirst: random() < 0.5 };
  });
}

describe('one service process under a long mixed load', () => {
  let dir: string;
  let service: ServiceProcess;
  const seed = testSeed();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-mixed-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '1' }] }));
    service = await startServiceProcess({
      AUTH_TOKENS_FILE: join(dir, 'tokens.json'),
      LOCAL_STORAGE_DIR: join(dir, 'uploads'),
      MAX_FILE_SIZE: String(MAX_FILE_SIZE),
    });
  });
  afterAll(async () => {
    service?.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it(`stores each of 3,000 mixed requests' valid uploads once, leaves nothing else, never answers 5xx, and gives back its file descriptors (seed ${seed})`, async () => {
    const pid = service.child.pid!;
    const fdsBefore = (await readdir(`/proc/${pid}/fd`)).length;
    const requests = plan(3000, seed);
    const answers: Array<Awaited<ReturnType<typeof post>>> = new Array(requests.length);
    let next = 0;
    const rssAt: Record<number, number> = {};
    async function worker() {
      while (next < requests.length) {
        const i = next++;
        answers[i] = await post(service.url, requests[i]!);
        if ((i + 1) % 1000 === 0) rssAt[i + 1] = processMemory(pid).rssMb;
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker));
    console.log(`[mixed load] RSS after 1k/2k/3k requests: ${Object.values(rssAt).join(' / ')} MB; peak ${processMemory(pid).peakRssMb} MB`);

    const expected: Record<Kind, number | 'cut'> = { valid: 200, cut: 'cut', oversize: 413, refused: 400 };
    const wrong = requests.flatMap((sent, i) => {
      const answer = answers[i]!;
      const status = answer === 'cut' ? 'cut' : answer.status;
      return status === expected[sent.kind] ? [] : [`${sent.name} (${sent.kind}): ${status}`];
    });
    expect(wrong).toEqual([]);

    const valid = requests.flatMap((sent, i) => (sent.kind === 'valid' ? [{ sent, answer: answers[i] as Exclude<Awaited<ReturnType<typeof post>>, 'cut'> }] : []));
    for (const { sent, answer } of valid) {
      expect(answer.json).toMatchObject({ size: sent.file.length, sha256: sha256(sent.file) });
      const downloaded = Buffer.from(await (await fetch(answer.json.url!)).arrayBuffer());
      expect({ name: sent.name, size: downloaded.length, sha256: sha256(downloaded) }).toEqual({ name: sent.name, size: answer.json.size, sha256: answer.json.sha256 });
    }
    const stored = (await filesUnder(join(dir, 'uploads'))).filter((path) => !path.split('/').at(-1)!.startsWith('.'));
    expect(stored.sort()).toEqual(valid.map(({ answer }) => decodeURIComponent(new URL(answer.json.url!).pathname.replace(/^\/files\//, ''))).sort());
    expect((await filesUnder(join(dir, 'uploads'))).filter((path) => path.startsWith('incoming/') || path.includes('.partial'))).toEqual([]);
    await eventually(async () => expect((await readdir(`/proc/${pid}/fd`)).length).toBeLessThanOrEqual(fdsBefore));
  });

  it('does not grow with bodies over MAX_FILE_SIZE: a burst of them peaks no higher than as many valid uploads', async () => {
    const pid = service.child.pid!;
    const burst = async (kind: 'valid' | 'oversize') => {
      const peak = watchPeakRss(pid);
      const sizes = kind === 'oversize' ? 3 * 1024 * KB : 200 * KB;
      const sent: Sent = { kind, name: 'burst.pdf', file: Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(sizes)]), sessionFirst: true };
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next++ < 600) await post(service.url, sent);
        }),
      );
      return peak.stop();
    };
    const validPeak = await burst('valid');
    const oversizePeak = await burst('oversize');
    console.log(`[mixed load] peak RSS: 600 valid 200 KB uploads ${validPeak} MB, then 600 bodies of 3 MB over a 2 MiB limit ${oversizePeak} MB`);
    // Before the fix, such a burst took the same process from ~170 to ~600 MB.
    expect(oversizePeak).toBeLessThanOrEqual(validPeak + 40);
  });
});
