import type { Readable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import type { ImageExtension, ImagePreviewer, PreviewOutcome } from '../../application/ports/image-previewer.ts';
import { ConcurrencyLimit } from './concurrency-limit.ts';
import { ByteBudget, holdWithin } from './held-bytes.ts';
import { decodeHevc } from './hevc-decoder.ts';
import { PNG_SIGNATURE, pngChunk } from './png-chunk.ts';

export interface SharpImagePreviewerOptions {
  /** Longest side of a preview, in pixels; smaller images are not enlarged. Default 1280. */
  readonly maxPx?: number;
  /** Images declaring more pixels (width × height) are not decoded. Default 50 million. */
  readonly maxPixels?: number;
  /** Images decoded at once; the others wait, their bytes in memory. Default 1. */
  readonly concurrency?: number;
  /** Whole images waiting for a decode beyond those being decoded; more get made:false 'busy'. Default 16. */
  readonly maxWaiting?: number;
  /**
   * Bytes of images held across all previews, from their first byte until their decode is done
   * (arriving, waiting, decoding); an image that would go over gets made:false 'busy'. Default 64 MiB.
   */
  readonly maxHeldBytes?: number;
  /** Longest a decode may take, in milliseconds (whole seconds for sharp's own pipelines). Default 20,000. */
  readonly timeoutMs?: number;
}

/**
 * WebP, not JPEG: a third to half the bytes at the same look (chat lists load many), and it keeps
 * transparency (stickers, screenshots with alpha), where JPEG would flatten it onto a colour.
 * Every browser in use shows it (Chrome 32+, Firefox 65+, Edge 18+, Safari 14+ / iOS 14+).
 * Effort 2 of 6: ~50 ms for a 1280 px preview on one core, against ~190 ms at the default 4, for
 * files ~20% larger; JPEG would take ~15 ms, small beside decoding.
 */
const PREVIEW = { contentType: 'image/webp', extension: 'webp', quality: 80, effort: 2 } as const;

/**
 * 'error' fails truncated and corrupt data (no half-grey previews) but lets through the
 * warnings many real JPEGs raise (extraneous bytes before a marker, a bad thumbnail).
 */
const INPUT: SharpOptions = { failOn: 'error', sequentialRead: true };

type Shown = { readonly width?: number; readonly height?: number };

/** An image's size as shown: EXIF orientations 5-8 turn it a quarter, swapping width and height. */
function shownSize(header: Metadata): Shown {
  return header.autoOrient ?? { width: header.width, height: header.height };
}

/**
 * Makes previews with sharp (libvips) for JPEG, PNG, GIF and AV1-coded HEIF, and with libheif-js
 * (WebAssembly, in a worker thread) for HEVC-coded HEIC, which sharp's prebuilt libvips cannot
 * decode (its libheif has no HEVC decoder, for patent reasons). Which one is decided by the
 * content, not the extension.
 *
 * Each image is collected in memory as it streams, since both decoders need the whole file and the
 * stream must not wait for a decoding slot: the tee feeding it would hold back the upload too.
 * What all images hold is bounded in bytes (maxHeldBytes), however slowly they arrive, and an
 * image takes its place in the queue for a decode only once it is whole: uploads that stall
 * half-way hold their bytes, never a decode slot. The header is read first; an image declaring
 * more than maxPixels is never decoded, which is what stops a decompression bomb.
 *
 * Constructing one sets sharp's process-wide settings: no libvips operation cache (every image is
 * new, a cache only holds memory) and one libvips thread per image (concurrency bounds the images,
 * and a second thread each would take the core that streams uploads).
 */
export class SharpImagePreviewer implements ImagePreviewer {
  readonly #maxPx: number;
  readonly #maxPixels: number;
  readonly #maxQueued: number;
  readonly #timeoutMs: number;
  readonly #slots: ConcurrencyLimit;
  readonly #budget: ByteBudget;
  /** Whole images decoding or waiting for a slot. */
  #queued = 0;

  constructor(options: SharpImagePreviewerOptions = {}) {
    this.#maxPx = options.maxPx ?? 1280;
    this.#maxPixels = options.maxPixels ?? 50_000_000;
    this.#timeoutMs = options.timeoutMs ?? 20_000;
    const concurrency = options.concurrency ?? 1;
    this.#slots = new ConcurrencyLimit(concurrency);
    this.#maxQueued = concurrency + (options.maxWaiting ?? 16);
    this.#budget = new ByteBudget(options.maxHeldBytes ?? 64 * 1024 * 1024);
    sharp.cache(false);
    sharp.concurrency(1);
  }

  async preview(content: Readable, _extension: ImageExtension, signal?: AbortSignal): Promise<PreviewOutcome> {
    const held = await holdWithin(this.#budget, content, signal);
    if (!held) return { made: false, reason: 'busy' };
    if (this.#queued >= this.#maxQueued) {
      held.release();
      return { made: false, reason: 'busy' };
    }
    this.#queued++;
    let work: Promise<PreviewOutcome> | undefined;
    try {
      const release = await this.#slots.acquire(signal);
      work = this.#previewOf(held.bytes, signal);
      // The slot and the bytes' budget are given back when the work is done, even if an abort stops waiting for it.
      work.finally(() => {
        release();
        held.release();
      }).catch(() => {}); // the work's rejection (an abort) is the caller's, through untilAborted
      return await untilAborted(work, signal);
    } finally {
      this.#queued--;
      if (work === undefined) held.release();
    }
  }

  /** Resolves the outcome for any image; rejects only with the signal's reason. */
  async #previewOf(bytes: Buffer, signal: AbortSignal | undefined): Promise<PreviewOutcome> {
    let header: Metadata;
    try {
      // Only the header is read here, so sharp's own pixel limit is lifted to learn a bomb's size.
      header = await sharp(bytes, { ...INPUT, limitInputPixels: false }).metadata();
    } catch (error) {
      return { made: false, reason: 'undecodable', detail: messageOf(error) };
    }
    const shown = shownSize(header);
    if (header.width * header.height > this.#maxPixels) {
      return { made: false, reason: 'too-many-pixels', ...shown, detail: `${header.width}x${header.height} pixels` };
    }
    try {
      if (header.format === 'heif' && header.compression === 'hevc') return await this.#fromHevc(bytes, header, signal);
      return await this.#made(sharp(bytes, { ...INPUT, limitInputPixels: this.#maxPixels, autoOrient: true }), shown);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return { made: false, reason: /^timeout/.test(messageOf(error)) ? 'timed-out' : 'undecodable', ...shown, detail: messageOf(error) };
    }
  }

  async #fromHevc(bytes: Buffer, header: Metadata, signal: AbortSignal | undefined): Promise<PreviewOutcome> {
    const decoded = await decodeHevc(bytes, { maxPixels: this.#maxPixels, timeoutMs: this.#timeoutMs, signal });
    if (!decoded.decoded) {
      const { width = header.width, height = header.height } = decoded;
      return { made: false, reason: decoded.reason, width, height, detail: decoded.detail };
    }
    try {
      return await this.#fromRgba(decoded.rgba, { width: decoded.width, height: decoded.height }, decoded.hasAlpha, header.icc);
    } finally {
      // Frees the 48 MB of a 12-megapixel frame now rather than at some later garbage collection,
      // which under a burst let several of them pile up.
      (decoded.rgba.buffer as ArrayBuffer).transfer(0);
    }
  }

  async #fromRgba(rgba: Uint8ClampedArray, shown: { width: number; height: number }, hasAlpha: boolean, icc: Buffer | undefined) {
    const pixels = sharp(rgba, { raw: { ...shown, channels: 4 } });
    const resized = this.#resized(hasAlpha ? pixels : pixels.removeAlpha());
    // libheif hands over the pixels in the image's own colour space (an iPhone's is Display P3),
    // and sharp cannot be told a raw image's profile: the resized pixels go through a PNG that
    // carries it, so the preview is converted to sRGB like every other.
    if (!icc) return this.#made(resized, shown);
    const { data, info } = await resized.png({ compressionLevel: 0 }).toBuffer({ resolveWithObject: true });
    return this.#made(sharp(withIccProfile(data, icc), INPUT), shown, { width: info.width, height: info.height });
  }

  #resized(image: Sharp): Sharp {
    return image.resize({ width: this.#maxPx, height: this.#maxPx, fit: 'inside', withoutEnlargement: true });
  }

  /** Encodes the preview: metadata is dropped and pixels converted to sRGB, sharp's defaults without withMetadata. */
  async #made(image: Sharp, shown: Shown, size?: { width: number; height: number }): Promise<PreviewOutcome> {
    const pipeline = size ? image : this.#resized(image);
    const { data, info } = await pipeline
      .webp({ quality: PREVIEW.quality, effort: PREVIEW.effort })
      .timeout({ seconds: Math.max(1, Math.ceil(this.#timeoutMs / 1000)) })
      .toBuffer({ resolveWithObject: true });
    const preview = { bytes: data, contentType: PREVIEW.contentType, extension: PREVIEW.extension, width: info.width, height: info.height };
    return { made: true, width: shown.width ?? info.width, height: shown.height ?? info.height, preview };
  }
}

/** A PNG (as sharp writes it: IHDR first) with an iCCP chunk holding `icc` right after its IHDR. */
function withIccProfile(png: Buffer, icc: Buffer): Buffer {
  const afterIhdr = PNG_SIGNATURE.length + 12 + 13;
  const iccp = pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]));
  return Buffer.concat([png.subarray(0, afterIhdr), iccp, png.subarray(afterIhdr)]);
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
