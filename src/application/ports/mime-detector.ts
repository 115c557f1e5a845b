import type { AllowedExtension } from '../../domain/file-types.ts';

/** Decides the MIME type stored with, and returned for, a file. */
export interface MimeDetector {
  /**
   * How many leading bytes of a file with `extension` `detect` wants to see; 0 when the name
   * alone decides. Each upload holds (and copies) that many bytes, so no more than needed.
   */
  headBytesFor(extension: AllowedExtension): number;
  /**
   * The MIME type of `fileName` (whose extension is already known to be allowed), given the
   * first `headBytesFor(extension)` bytes of its content (fewer when the file is shorter).
   * Throws UnsupportedFileType, with a detail, when the type cannot be told or the content
   * contradicts the extension.
   */
  detect(fileName: string, extension: AllowedExtension, head: Uint8Array): Promise<string>;
}
