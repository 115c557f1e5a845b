import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { ImageExtension, ImagePreviewer, PreviewOutcome } from '../../application/ports/image-previewer.ts';
import type { SharpImagePreviewerOptions } from './sharp-image-previewer.ts';

/**
 * The sharp previewer, whose module (sharp and libvips, ~7 MB resident once loaded) is loaded at the
 * first image to preview rather than at start: a process that takes no image (a tus or PDF
 * workload) never pays for it. Whether sharp loads at all is checked at start all the same
 * (checkSharpLoads), so a missing or broken sharp still stops the start, never turns into previews
 * that silently never come.
 */
export class LazySharpImagePreviewer implements ImagePreviewer {
  readonly #options: SharpImagePreviewerOptions;
  #loaded: Promise<ImagePreviewer> | undefined;

  constructor(options: SharpImagePreviewerOptions = {}) {
    this.#options = options;
  }

  async preview(content: Readable, extension: ImageExtension, signal?: AbortSignal): Promise<PreviewOutcome> {
    this.#loaded ??= import('./sharp-image-previewer.ts').then(({ SharpImagePreviewer }) => new SharpImagePreviewer(this.#options));
    let previewer: ImagePreviewer;
    try {
      previewer = await this.#loaded;
    } catch (error) {
      // sharp loaded at start (checkSharpLoads) and fails now: its files changed under the process.
      // Loud, as at start: the upload fails with it, and the next image tries again.
      this.#loaded = undefined;
      content.destroy();
      throw new Error(`sharp (PREVIEWS=on) no longer loads: ${(error as Error).message}`, { cause: error });
    }
    return previewer.preview(content, extension, signal);
  }
}

let checked: Promise<void> | undefined;

/**
 * Loads sharp (its native addon and libvips) in a short-lived child process, once per process, and
 * rejects with why when it cannot: the check start-up made by loading it, without this process
 * keeping libvips resident until an image needs it. The child loads the very files this process
 * would (resolved here), with this Node.
 */
export function checkSharpLoads(): Promise<void> {
  checked ??= new Promise<void>((resolve, reject) => {
    let entry: string;
    try {
      entry = createRequire(import.meta.url).resolve('sharp');
    } catch (error) {
      reject(new Error(`sharp (PREVIEWS=on) cannot be found: ${(error as Error).message}`, { cause: error }));
      return;
    }
    const script = `require(${JSON.stringify(entry)})`;
    execFile(process.execPath, ['-e', script], { timeout: 60_000, env: process.env }, (error, _stdout, stderr) => {
      if (error === null) return resolve();
      // The child's error message (sharp's own says what is missing and how to install it), not its stack.
      const lines = stderr.split('\n');
      const first = lines.findIndex((line) => /^\w*Error\b/.test(line));
      const why = (first >= 0 ? lines.slice(first).filter((line) => !/^\s+at /.test(line)).slice(0, 16).join('\n').trim() : '') || error.message;
      reject(new Error(`sharp (PREVIEWS=on) cannot be loaded (set PREVIEWS=off to run without previews):\n${why}`, { cause: error }));
    });
  });
  // A failed check is not remembered: a start after the fix checks again.
  checked.catch(() => (checked = undefined));
  return checked;
}
