import { Readable } from 'node:stream';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeHevc } from '../../src/adapters/image/hevc-decoder.ts';
import { SharpImagePreviewer } from '../../src/adapters/image/sharp-image-previewer.ts';
import { fixture, imagePreviewerContract, streamOf } from '../contracts/image-previewer-contract.ts';

imagePreviewerContract('SharpImagePreviewer', async (limits) => new SharpImagePreviewer({ ...limits, concurrency: 2 }));

/** Samples the process's resident memory (worker threads included) until stopped; returns the peak. */
function rssPeak(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

/** CPU time of this process (all its threads, workers included) since `from`, in ms: steadier than wall time on a shared machine. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return Math.round((used.user + used.system) / 1000);
};

/** `heic` with every ispe (the size its container declares) rewritten to `width` x `height`: its stream still decodes to its real size. */
function heicDeclaring(heic: Buffer, width: number, height: number): Buffer {
  const lying = Buffer.from(heic);
  for (let at = lying.indexOf('ispe'); at !== -1; at = lying.indexOf('ispe', at + 4)) {
    lying.writeUInt32BE(width, at + 8);
    lying.writeUInt32BE(height, at + 12);
  }
  return lying;
}

const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round(bytes / MB);

/** A 12-megapixel (4032 x 3024) photo-like JPEG: a fixture scaled up, with grain so it does not compress to nothing. */
async function twelveMegapixelJpeg(): Promise<Buffer> {
  const grain = await sharp({ create: { width: 4032, height: 3024, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 12 } } })
    .png()
    .toBuffer();
  return sharp(fixture('progressive.jpg')).resize(4032, 3024).composite([{ input: grain, blend: 'overlay' }]).jpeg({ quality: 88 }).toBuffer();
}

describe('SharpImagePreviewer', () => {
  it('decodes an HEVC HEIC (sharp’s prebuilt libvips cannot) to a 1280 px preview of a 12-megapixel photo', async () => {
    const heic = fixture('twelve-megapixel.heic');
    await expect(sharp(heic).toBuffer()).rejects.toThrow(); // why libheif-js is here at all
    const previewer = new SharpImagePreviewer();
    const memory = rssPeak();
    const before = process.memoryUsage().rss;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const outcome = await previewer.preview(streamOf(heic), 'heic');
    const ms = performance.now() - started;
    const peak = memory.stop();
    expect(outcome).toMatchObject({ made: true, width: 4032, height: 3024, preview: { width: 1280, height: 960 } });
    console.log(`one 12 MP HEIC (${(heic.length / MB).toFixed(1)} MB): ${Math.round(ms)} ms wall, ${cpuMs(cpu)} ms CPU, RSS ${mb(before)} -> peak ${mb(peak)} MB`);
  });

  it('queues a burst of 8 HEIC previews behind its concurrency limit, in bounded memory', async () => {
    const heic = fixture('twelve-megapixel.heic');
    const previewer = new SharpImagePreviewer({ concurrency: 1 });
    const memory = rssPeak();
    const before = process.memoryUsage().rss;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => previewer.preview(streamOf(heic), 'heic')));
    const seconds = (performance.now() - started) / 1000;
    const peak = memory.stop();
    expect(outcomes.every((o) => o.made)).toBe(true);
    console.log(
      `8 concurrent 12 MP HEIC, concurrency 1: ${seconds.toFixed(1)} s wall (${(8 / seconds).toFixed(2)} previews/s), ` +
        `${Math.round(cpuMs(cpu) / 8)} ms CPU each, RSS ${mb(before)} -> peak ${mb(peak)} MB`,
    );
    // One decode at a time: a worker's ~150 MB of WebAssembly memory and one 48 MB RGBA frame, not eight.
    expect(peak - before).toBeLessThan(400 * MB);
  });

  it('measures previews per second of a 12-megapixel JPEG', async () => {
    const jpeg = await twelveMegapixelJpeg();
    const previewer = new SharpImagePreviewer({ concurrency: 1 });
    await previewer.preview(streamOf(jpeg), 'jpg'); // warm up
    const memory = rssPeak();
    const before = process.memoryUsage().rss;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => previewer.preview(streamOf(jpeg), 'jpg')));
    const seconds = (performance.now() - started) / 1000;
    const peak = memory.stop();
    expect(outcomes.every((o) => o.made && o.preview.width === 1280)).toBe(true);
    console.log(
      `8 x 12 MP JPEG (${(jpeg.length / MB).toFixed(1)} MB), concurrency 1: ${seconds.toFixed(2)} s wall (${(8 / seconds).toFixed(1)} previews/s), ` +
        `${Math.round(cpuMs(cpu) / 8)} ms CPU each, RSS ${mb(before)} -> peak ${mb(peak)} MB`,
    );
  });

  it('answers busy, reading the content to its end, once as many whole images wait as it may hold', async () => {
    const previewer = new SharpImagePreviewer({ concurrency: 1, maxWaiting: 0 });
    const decoding = previewer.preview(streamOf(fixture('twelve-megapixel.heic')), 'heic');
    const second = streamOf(fixture('progressive.jpg'));
    expect(await previewer.preview(second, 'jpg')).toEqual({ made: false, reason: 'busy' });
    expect(second.readableEnded).toBe(true);
    expect(await decoding).toMatchObject({ made: true });
    // Its place is free again.
    expect(await previewer.preview(streamOf(fixture('progressive.jpg')), 'jpg')).toMatchObject({ made: true });
  });

  it('gives no decode place to images still arriving: 17 uploads stalled part-way leave later photos their previews', async () => {
    const previewer = new SharpImagePreviewer({ concurrency: 1, maxWaiting: 0 });
    const controller = new AbortController();
    const stalled = Array.from({ length: 17 }, () => {
      const stream = new Readable({ read() {} });
      stream.push(Buffer.alloc(300 * 1024, 0xab));
      return previewer.preview(stream, 'jpg', controller.signal);
    });
    for (let i = 0; i < 3; i++) expect(await previewer.preview(streamOf(fixture('progressive.jpg')), 'jpg')).toMatchObject({ made: true });
    controller.abort(new Error('stalled uploads cut off'));
    for (const outcome of stalled) await expect(outcome).rejects.toThrow('stalled uploads cut off');
  });

  it('holds images within its byte budget, however they arrive: one that would go over is busy, and its bytes are given back', async () => {
    const photo = fixture('progressive.jpg');
    const previewer = new SharpImagePreviewer({ maxHeldBytes: photo.length * 2 });
    const controller = new AbortController();
    const arriving = new Readable({ read() {} });
    // A byte per chunk, as a client sending one byte per TCP segment makes Node deliver them.
    for (const byte of photo.subarray(0, photo.length - 1)) arriving.push(Uint8Array.of(byte));
    const first = previewer.preview(arriving, 'jpg', controller.signal);
    const big = streamOf(Buffer.concat([photo, photo]));
    expect(await previewer.preview(big, 'jpg')).toEqual({ made: false, reason: 'busy' });
    expect(big.readableEnded).toBe(true);
    expect(await previewer.preview(streamOf(photo), 'jpg')).toMatchObject({ made: true });
    arriving.push(photo.subarray(photo.length - 1));
    arriving.push(null);
    expect(await first).toMatchObject({ made: true });
    // Everything given back: the largest image the budget allows gets its preview.
    const asLargeAsTheBudget = Buffer.concat([photo, Buffer.alloc(photo.length)]); // what follows EOI is not read
    expect(await previewer.preview(streamOf(asLargeAsTheBudget), 'jpg')).toMatchObject({ made: true });
  });

  it('refuses an HEIC whose stream decodes to more than it declares, and caps the decoder’s memory for what it declares', async () => {
    const heic = fixture('twelve-megapixel.heic');
    const lying = heicDeclaring(heic, 640, 480);
    expect(await new SharpImagePreviewer().preview(streamOf(lying), 'heic')).toMatchObject({ made: false, reason: 'undecodable', width: 640, height: 480 });
    const tight = await decodeHevc(heic, { maxPixels: 50_000_000, timeoutMs: 20_000, memory: { bytesPerPixel: 2, baseBytes: 16 * 1024 * 1024 } });
    expect(tight).toMatchObject({ decoded: false, reason: 'undecodable', detail: expect.stringMatching(/more memory than its declared size allows/) });
    expect(await decodeHevc(heic, { maxPixels: 50_000_000, timeoutMs: 20_000 })).toMatchObject({ decoded: true, width: 4032, height: 3024 });
  });

  it('answers timed-out when decoding takes longer than allowed, and frees its slot', async () => {
    const previewer = new SharpImagePreviewer({ timeoutMs: 100, concurrency: 1 });
    const started = performance.now();
    expect(await previewer.preview(streamOf(fixture('twelve-megapixel.heic')), 'heic')).toMatchObject({
      made: false,
      reason: 'timed-out',
      width: 4032,
      height: 3024,
    });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(await previewer.preview(streamOf(fixture('progressive.jpg')), 'jpg')).toMatchObject({ made: true });
  });

  it('takes an HEIC’s orientation from its container, never from its EXIF (iPhones write both; applying both would turn it twice)', async () => {
    // heif-enc copied the EXIF (Orientation 6) of orientation-6-gps.jpg but wrote no irot: shown as stored, landscape.
    const outcome = await new SharpImagePreviewer().preview(streamOf(fixture('exif-orientation-6.heic')), 'heic');
    expect(outcome).toMatchObject({ made: true, width: 96, height: 64, preview: { width: 96, height: 64 } });
  });

  it('refuses an HEIC over the pixel limit without starting a decoder', async () => {
    const previewer = new SharpImagePreviewer({ maxPixels: 12_000_000 });
    const started = performance.now();
    expect(await previewer.preview(streamOf(fixture('twelve-megapixel.heic')), 'heic')).toMatchObject({
      made: false,
      reason: 'too-many-pixels',
      width: 4032,
      height: 3024,
    });
    expect(performance.now() - started).toBeLessThan(500);
  });
});
