import type { Readable } from 'node:stream';
import type { AllowedExtension } from '../../domain/file-types.ts';

/** The extensions of the images attache previews: every allowed image type. */
export type ImageExtension = Extract<AllowedExtension, 'jpg' | 'jpeg' | 'png' | 'gif' | 'heic' | 'heif'>;

/** A small image to show in place of the original, ready to store beside it. */
export interface ImagePreview {
  readonly bytes: Buffer;
  /** The preview's MIME type, to store it with (the same for every preview a previewer makes). */
  readonly contentType: string;
  /** The file extension matching contentType, without the dot, for the preview's key. */
  readonly extension: string;
  readonly width: number;
  readonly height: number;
}

/**
 * Why no preview was made; the original is still stored as sent.
 * - too-many-pixels: the image declares more pixels than the previewer decodes (a decompression
 *   bomb, or a genuinely huge image);
 * - undecodable: the image is truncated, corrupt, or coded in a way the previewer cannot decode;
 * - timed-out: decoding took longer than the previewer allows;
 * - busy: so many previews were already waiting that this one was not queued (memory would grow
 *   with every image held).
 */
export type PreviewRefusal = 'too-many-pixels' | 'undecodable' | 'timed-out' | 'busy';

/**
 * The original's dimensions, as shown (after its orientation), are given whenever they are known.
 * A refusal's detail is for logs (a decoder's message), not for callers.
 */
export type PreviewOutcome =
  | { readonly made: true; readonly width: number; readonly height: number; readonly preview: ImagePreview }
  | {
      readonly made: false;
      readonly reason: PreviewRefusal;
      readonly width?: number | undefined;
      readonly height?: number | undefined;
      readonly detail?: string;
    };

/** Makes the small, clean, upright image a chat shows in place of the original. */
export interface ImagePreviewer {
  /**
   * Reads `content` (the whole image, as it streams to storage) and makes its preview: no longer
   * than the previewer's maximum on its longest side (never enlarged), upright (the original's
   * orientation applied), in sRGB, without EXIF, GPS or XMP, and the first frame of an animation.
   *
   * Never throws for an image it cannot preview: resolves made:false with why, and the
   * dimensions when the image's header told them. Throws only the signal's reason (when it
   * aborts) or `content`'s own error. Reads `content` to its end whatever the outcome, so a tee
   * feeding it never stalls; destroys it only when the signal aborts.
   */
  preview(content: Readable, extension: ImageExtension, signal?: AbortSignal): Promise<PreviewOutcome>;
}
