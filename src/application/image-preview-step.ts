import type { Readable } from 'node:stream';
import { baseNameOf, type AllowedExtension } from '../domain/file-types.ts';
import { ObjectAlreadyExists } from '../domain/errors.ts';
import { previewKeyFor, type ObjectKey } from '../domain/object-key.ts';
import { streamOf } from '../shared/stream-head.ts';
import type { ImageExtension, ImagePreview, ImagePreviewer, PreviewRefusal } from './ports/image-previewer.ts';
import type { ObjectStore } from './ports/object-store.ts';

const IMAGE_EXTENSIONS: ReadonlySet<AllowedExtension> = new Set<ImageExtension>(['jpg', 'jpeg', 'png', 'gif', 'heic', 'heif']);

/** What the preview step learnt of an image as it streamed. */
export interface ImageFinding {
  /** The original's size as shown (after its orientation), when its header told it. */
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly preview: ImagePreview | undefined;
  /** Why there is no preview, for logs and metrics. */
  readonly noPreview?: { readonly reason: PreviewRefusal; readonly detail?: string | undefined };
}

/** An image's preview, stored beside it. */
export interface StoredPreview {
  readonly key: ObjectKey;
  readonly url: string;
  readonly width: number;
  readonly height: number;
}

/**
 * Makes a preview of every image as it streams to storage (an image every browser shows, small,
 * upright and without metadata) and stores it beside the original once that has its final key.
 * An image it cannot preview is still uploaded, without one.
 */
export class ImagePreviewStep {
  readonly #previewer: ImagePreviewer;
  readonly #store: ObjectStore;

  constructor(previewer: ImagePreviewer, store: ObjectStore) {
    this.#previewer = previewer;
    this.#store = store;
  }

  wants(extension: AllowedExtension): extension is ImageExtension {
    return IMAGE_EXTENSIONS.has(extension);
  }

  async read(bytes: Readable, extension: ImageExtension, signal: AbortSignal): Promise<ImageFinding> {
    const outcome = await this.#previewer.preview(bytes, extension, signal);
    if (outcome.made) return { width: outcome.width, height: outcome.height, preview: outcome.preview };
    return { width: outcome.width, height: outcome.height, preview: undefined, noPreview: { reason: outcome.reason, detail: outcome.detail } };
  }

  /**
   * Stores the preview beside the original at `key` (never overwriting: one there already is taken
   * as this one), with a name derived from the original's and its uploader; throws
   * StorageUnavailable, having stored nothing.
   */
  async publish(
    preview: ImagePreview,
    key: ObjectKey,
    original: { readonly name: string; readonly uploader: string },
    signal: AbortSignal,
  ): Promise<StoredPreview> {
    const previewKey = previewKeyFor(key, preview.extension);
    const stem = baseNameOf(original.name).replace(/\.[^.]*$/, '');
    const fileName = `${stem}.preview.${preview.extension}`;
    const meta = { contentType: preview.contentType, fileName, disposition: 'inline', uploader: original.uploader } as const;
    try {
      await this.#store.put(previewKey, streamOf([preview.bytes]), meta, signal);
    } catch (error) {
      // The key is this upload's alone: taken, it holds the preview of these very bytes, stored by a
      // completion of the same upload whose process died before its answer (StagedCompletion).
      if (!(error instanceof ObjectAlreadyExists)) throw error;
    }
    try {
      return { key: previewKey, url: await this.#store.urlFor(previewKey), width: preview.width, height: preview.height };
    } catch (error) {
      await this.#store.delete(previewKey).catch(() => {});
      throw error;
    }
  }
}
