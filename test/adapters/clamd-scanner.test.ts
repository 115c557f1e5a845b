import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClamdScanner, type ClamdScannerOptions } from '../../src/adapters/scanner/clamd-scanner.ts';
import { FileTooLargeToScan, ScannerUnavailable } from '../../src/domain/errors.ts';
import { fileWithEicar, malwareScannerContract } from '../contracts/malware-scanner-contract.ts';
import { startClamd, type RunningClamd } from '../support/clamd/clamd-server.ts';
import { EICAR } from '../support/fake-malware-scanner.ts';
import { freePort } from '../support/free-port.ts';
import { stallingStream } from '../support/streams.ts';

const clamd = inject('clamdTestServer');
const MIB = 1024 * 1024;
const EICAR_SIGNATURE = 'Test.EICAR.Anywhere.UNOFFICIAL';
const fixture = (name: string) => readFileSync(new URL(`../fixtures/macros/${name}`, import.meta.url));

malwareScannerContract('ClamdScanner (clamd over TCP)', async () => ({
  scanner: new ClamdScanner({ host: clamd.host, port: clamd.port, timeoutMs: 10_000 }),
}));

malwareScannerContract('ClamdScanner (clamd over its Unix socket)', async () => ({
  scanner: new ClamdScanner({ socket: clamd.socket, timeoutMs: 10_000 }),
}));

/** A one-page PDF with `attachment` as an embedded file, deflated as PDF writers store streams. */
function pdfWithAttachment(attachment: Buffer): Buffer {
  const packed = deflateSync(attachment);
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(notes.txt) 5 0 R] >> >> >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>',
    '<< /Length 35 >>\nstream\nBT /F1 12 Tf 20 100 Td (Q3) Tj ET\nendstream',
    '<< /Type /Filespec /F (notes.txt) /EF << /F 6 0 R >> >>',
    Buffer.concat([Buffer.from(`<< /Type /EmbeddedFile /Filter /FlateDecode /Length ${packed.length} >>\nstream\n`), packed, Buffer.from('\nendstream')]),
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  let length = parts[0]!.length;
  objects.forEach((body, i) => {
    const object = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), Buffer.from(body), Buffer.from('\nendobj\n')]);
    offsets.push(length);
    parts.push(object);
    length += object.length;
  });
  const xref = ['xref', `0 ${objects.length + 1}`, '0000000000 65535 f ', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `)];
  parts.push(Buffer.from(`${xref.join('\n')}\ntrailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`));
  return Buffer.concat(parts);
}

/** An 8×8 JPEG written by ImageMagick 6.9 (`convert -size 8x8 xc:'#3366cc' -strip -quality 75 jpg:-`). */
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/' +
    '2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAAIAAgDASIAAhEBAxEB/8QAFQAB' +
    'AQAAAAAAAAAAAAAAAAAAAAX/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABQb/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIR' +
    'AxEAPwCCAtQL/9k=',
  'base64',
);

describe('ClamdScanner against a real clamd', () => {
  const scanner = new ClamdScanner({ host: clamd.host, port: clamd.port, timeoutMs: 10_000 });

  it('names the signature that matched', async () => {
    await expect(scanner.scan(Readable.from([Buffer.from(EICAR)]))).resolves.toEqual({ infected: true, signature: EICAR_SIGNATURE });
  });

  it('finds EICAR attached to a PDF, compressed so that only a PDF reader sees it', async () => {
    const pdf = pdfWithAttachment(Buffer.from(`meeting notes\n${EICAR}\n`));
    expect(pdf.includes(EICAR)).toBe(false);
    await expect(scanner.scan(Readable.from([pdf]))).resolves.toEqual({ infected: true, signature: EICAR_SIGNATURE });
    await expect(scanner.scan(Readable.from([pdfWithAttachment(Buffer.from('meeting notes\n'))]))).resolves.toEqual({ infected: false });
  });

  it('finds EICAR appended after the end of a JPEG’s image data', async () => {
    await expect(scanner.scan(Readable.from([JPEG]))).resolves.toEqual({ infected: false });
    await expect(scanner.scan(Readable.from([JPEG, Buffer.from(EICAR)]))).resolves.toEqual({ infected: true, signature: EICAR_SIGNATURE });
  });

  it('flags a workbook whose VBA macro runs a program when it opens, by its macro signature', async () => {
    await expect(scanner.scan(Readable.from([fixture('vba-auto-open-shell.xls')]))).resolves.toEqual({
      infected: true,
      signature: 'Test.Macro.AutoOpenShell.UNOFFICIAL',
    });
  });

  it('flags any workbook carrying a VBA project (AlertOLE2Macros)', async () => {
    await expect(scanner.scan(Readable.from([fixture('vba-harmless-function.xls')]))).resolves.toEqual({
      infected: true,
      signature: 'Heuristics.OLE2.ContainsMacros.VBA',
    });
  });

  it.each(['no-macros.xls', 'no-macros.doc'])('finds %s, without macros, clean', async (name) => {
    await expect(scanner.scan(Readable.from([fixture(name)]))).resolves.toEqual({ infected: false });
  });

  it('fails at once with ScannerUnavailable when nothing listens, and destroys the content', async () => {
    for (const options of [{ port: await freePort() }, { socket: `${clamd.socket}.missing` }] satisfies ClamdScannerOptions[]) {
      const nobody = new ClamdScanner({ ...options, timeoutMs: 10_000 });
      const content = fileWithEicar(MIB, []);
      const started = performance.now();
      await expect(nobody.scan(content)).rejects.toBeInstanceOf(ScannerUnavailable);
      await expect(nobody.checkReady()).rejects.toBeInstanceOf(ScannerUnavailable);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(content.destroyed).toBe(true);
    }
  });
});

/** A TCP server that plays a broken clamd: `onConnection` decides what it does with each client. */
async function fakeClamd(onConnection: (socket: Socket) => void): Promise<{ scanner: ClamdScanner; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    scanner: new ClamdScanner({ host: '127.0.0.1', port, timeoutMs: 1000 }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('ClamdScanner against servers that are not a working clamd', () => {
  it.each([
    ['answers nonsense', (socket: Socket) => socket.once('data', () => socket.end('HELLO THERE\0'))],
    ['answers OK before it has read the file', (socket: Socket) => socket.write('stream: OK\0')],
    ['closes the connection after the file, without a verdict', (socket: Socket) => socket.on('data', (d: Buffer) => d.includes(Buffer.alloc(4)) && socket.end())],
    ['reads the file but never answers', (socket: Socket) => socket.resume()],
    ['sends an endless reply', (socket: Socket) => socket.once('data', () => socket.write(Buffer.alloc(8192, 'x')))],
    ['answers an error', (socket: Socket) => socket.once('data', () => socket.end("stream: Can't allocate memory ERROR\0"))],
    ['gives up waiting for the file (ReadTimeout)', (socket: Socket) => socket.once('data', () => socket.end('COMMAND READ TIMED OUT\n'))],
  ])('fails with ScannerUnavailable, never a verdict, when it %s', async (_what, behave) => {
    const fake = await fakeClamd(behave);
    try {
      // Larger than the socket buffers hold, so the file is still being sent when an early answer comes.
      const content = fileWithEicar(32 * MIB, []);
      const started = performance.now();
      await expect(fake.scanner.scan(content)).rejects.toBeInstanceOf(ScannerUnavailable);
      expect(performance.now() - started).toBeLessThan(3000);
      expect(content.readableEnded || content.destroyed).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it('fails checkReady with ScannerUnavailable when PING gets anything but PONG', async () => {
    const fake = await fakeClamd((socket) => socket.once('data', () => socket.end('PANG\0')));
    try {
      await expect(fake.scanner.checkReady()).rejects.toBeInstanceOf(ScannerUnavailable);
    } finally {
      await fake.close();
    }
  });
});

describe('ClamdScanner with a clamd that reads at most 1 MiB (StreamMaxLength 1M)', () => {
  let limited: RunningClamd;
  let scanner: ClamdScanner;
  beforeAll(async () => {
    limited = await startClamd({ streamMaxLength: '1M' });
    scanner = new ClamdScanner({ host: limited.host, port: limited.port, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('scans a file of exactly the limit, and fails one byte more as too large', async () => {
    await expect(scanner.scan(fileWithEicar(MIB, []))).resolves.toEqual({ infected: false });
    await expect(scanner.scan(fileWithEicar(MIB, [MIB - EICAR.length]))).resolves.toEqual({ infected: true, signature: EICAR_SIGNATURE });
    await expect(scanner.scan(fileWithEicar(MIB + 1, []))).rejects.toBeInstanceOf(FileTooLargeToScan);
  });

  // clamd closes the connection while the file is still coming; its reply is sometimes lost to the
  // reset (see ClamdScanner): many sizes and chunkings, so both ways of learning of the limit run.
  it('fails every file over the limit with FileTooLargeToScan, never a verdict, and destroys it', async () => {
    const cases = [16 * 1024, 64 * 1024, MIB].flatMap((chunkSize) => [1.5 * MIB, 3 * MIB, 8 * MIB].map((size) => ({ chunkSize, size })));
    for (let round = 0; round < 3; round++) {
      for (const { chunkSize, size } of cases) {
        const content = fileWithEicar(size, [], chunkSize);
        const outcome = await scanner.scan(content).then((verdict) => verdict, (error: unknown) => error);
        expect({ chunkSize, size, outcome }).toEqual({ chunkSize, size, outcome: expect.any(FileTooLargeToScan) });
        expect(content.destroyed).toBe(true);
      }
    }
  });
});

/** `total` bytes in 64 KiB chunks, counting how many were read. */
function countingStream(total: number): { stream: Readable; bytesRead: () => number } {
  let read = 0;
  const stream = new Readable({
    read() {
      if (read >= total) return void this.push(null);
      read += 64 * 1024;
      this.push(Buffer.alloc(64 * 1024, read & 0xff));
    },
  });
  return { stream, bytesRead: () => read };
}

describe('ClamdScanner when its clamd hangs or dies', () => {
  const timeoutMs = 1500;
  let victim: RunningClamd;
  let scanner: ClamdScanner;
  beforeAll(async () => {
    victim = await startClamd();
    scanner = new ClamdScanner({ host: victim.host, port: victim.port, timeoutMs });
  });
  afterAll(async () => {
    await victim?.stop();
  });

  async function expectUnavailableWithin(promise: Promise<unknown>, atMostMs: number) {
    const started = performance.now();
    await expect(promise).rejects.toBeInstanceOf(ScannerUnavailable);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(atMostMs);
    return elapsed;
  }

  it('fails within timeoutMs when clamd is frozen (SIGSTOP), whether the file is small or fills the socket', async () => {
    victim.signal('SIGSTOP');
    try {
      const small = fileWithEicar(100 * 1024, []);
      expect(await expectUnavailableWithin(scanner.scan(small), timeoutMs + 1000)).toBeGreaterThanOrEqual(timeoutMs - 50);
      expect(small.destroyed || small.readableEnded).toBe(true);
      const large = countingStream(64 * MIB);
      await expectUnavailableWithin(scanner.scan(large.stream), timeoutMs + 2000);
      expect(large.stream.destroyed).toBe(true);
      // Backpressure: no more was read from the file than the socket buffers took.
      expect(large.bytesRead()).toBeLessThan(24 * MIB);
      await expectUnavailableWithin(scanner.checkReady(), timeoutMs + 1000);
    } finally {
      victim.signal('SIGCONT');
    }
    // The frozen clamd, once it runs again, serves new scans.
    await expect(scanner.checkReady()).resolves.toBeUndefined();
    await expect(scanner.scan(fileWithEicar(MIB, [10]))).resolves.toEqual({ infected: true, signature: EICAR_SIGNATURE });
  });

  it('fails promptly with ScannerUnavailable when clamd is killed in the middle of a file', async () => {
    const content = stallingStream(4 * MIB, () => victim.signal('SIGKILL'));
    // Far below timeoutMs: the dead connection is noticed, not waited out.
    await expectUnavailableWithin(new ClamdScanner({ host: victim.host, port: victim.port, timeoutMs: 30_000 }).scan(content), 1000);
    expect(content.destroyed).toBe(true);
    await expectUnavailableWithin(scanner.checkReady(), 1000);
  });
});
