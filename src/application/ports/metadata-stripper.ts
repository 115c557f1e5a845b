import type { Transform } from 'node:stream';
import type { AllowedExtension } from '../../domain/file-types.ts';

/** Removes what a file says about its author and place (EXIF, GPS, XMP, comments) as it streams, without re-encoding it. */
export interface MetadataStripper {
  /**
   * A new Transform that strips a file of `extension` as it streams through, in bounded memory,
   * or undefined when files of that type are stored as sent. The pixels are passed on untouched.
   * The Transform fails with UnsupportedFileType (saying why) when the content is not a
   * well-formed file of its type, truncated included, so no half-understood file is stored.
   */
  transformFor(extension: AllowedExtension): Transform | undefined;
}
