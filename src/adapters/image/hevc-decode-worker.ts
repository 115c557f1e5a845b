/**
 * Runs in a worker thread started by decodeHevc, for one image: decodes an HEVC-coded HEIC with
 * libheif and libde265 compiled to WebAssembly (libheif-js), and posts back its RGBA pixels.
 * A worker of its own per image: the decode (seconds of synchronous WebAssembly) never blocks
 * the service's event loop, a stuck one can be terminated, and the WebAssembly memory it grew
 * to (which never shrinks) is given back when the worker ends.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { HevcDecodeReply, HevcDecodeRequest } from './hevc-decoder.ts';

/** The part of libheif-js's JavaScript API used here (its typings describe the C API). */
interface HeifImage {
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  has_alpha_channel(): boolean;
  display(target: RgbaTarget, done: (filled: RgbaTarget | null) => void): void;
}
interface RgbaTarget {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}
interface LibHeif {
  HeifDecoder: new () => { decode(bytes: Uint8Array): HeifImage[] };
}

const { bytes, maxPixels, memoryBytesPerPixel, memoryBaseBytes } = workerData as HevcDecodeRequest;
const reply = (message: HevcDecodeReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

/**
 * libheif-js may grow its WebAssembly memory to 2 GiB, whatever the image declares. Its heap grows
 * only through Memory.prototype.grow, called from JavaScript (emscripten's resize_heap), so the
 * growth is capped here, once the image's declared size is known: a stream that decodes to more
 * than it declares then fails to allocate (libheif reports an error, or the module aborts, which
 * ends this worker with an error), and is answered undecodable.
 */
let memoryLimit = Number.POSITIVE_INFINITY;
let refusedGrowth: string | undefined;
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}
const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: { prototype: WasmMemory } } }).WebAssembly;
const grow = Memory.prototype.grow;
Memory.prototype.grow = function (this: WasmMemory, delta: number) {
  const after = this.buffer.byteLength + delta * 65536;
  if (after > memoryLimit) {
    refusedGrowth = `its stream needs more memory than its declared size allows (over ${Math.round(memoryLimit / 1048576)} MiB)`;
    throw new RangeError(refusedGrowth);
  }
  return grow.call(this, delta);
};

const libheif = createRequire(import.meta.url)('libheif-js/wasm-bundle') as LibHeif;
// The primary image is the photo; other top-level images (bursts, edits) come after it or not.
const images = new libheif.HeifDecoder().decode(bytes);
const image = images.find((i) => i.is_primary()) ?? images[0];
if (!image) {
  reply({ decoded: false, reason: 'undecodable', detail: 'libheif found no image in the file' });
} else {
  // Sizes after the container's rotation and mirroring (irot, imir), which decoding applies.
  const width = image.get_width();
  const height = image.get_height();
  if (width * height > maxPixels) {
    reply({ decoded: false, reason: 'too-many-pixels', width, height, detail: `${width}x${height} pixels` });
  } else {
    memoryLimit = memoryBaseBytes + width * height * memoryBytesPerPixel;
    image.display({ data: new Uint8ClampedArray(width * height * 4), width, height }, (filled) => {
      if (!filled) reply({ decoded: false, reason: 'undecodable', width, height, detail: refusedGrowth ?? 'libheif could not decode the image' });
      else reply({ decoded: true, width, height, hasAlpha: image.has_alpha_channel(), rgba: filled.data }, [filled.data.buffer as ArrayBuffer]);
    });
  }
}
