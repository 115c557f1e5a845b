import { Readable } from 'node:stream';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
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

  it('answers busy, reading the content to its end, once it holds as many images as it may', async () => {
    const previewer = new SharpImagePreviewer({ concurrency: 1, maxWaiting: 0 });
    const controller = new AbortController();
    const stalled = new Readable({ read() {} });
    stalled.push(fixture('progressive.jpg').subarray(0, 100));
    const first = previewer.preview(stalled, 'jpg', controller.signal);
    const second = streamOf(fixture('progressive.jpg'));
    expect(await previewer.preview(second, 'jpg')).toEqual({ made: false, reason: 'busy' });
    expect(second.readableEnded).toBe(true);
    controller.abort(new Error('done'));
    await expect(first).rejects.toThrow('done');
    // Its place is free again.
    expect(await previewer.preview(streamOf(fixture('progressive.jpg')), 'jpg')).toMatchObject({ made: true });
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
