import type { Transform } from 'node:stream';
import type { MetadataStripper } from '../../application/ports/metadata-stripper.ts';
import type { AllowedExtension } from '../../domain/file-types.ts';
import { JpegMetadataStripper } from './jpeg-metadata-stripper.ts';
import { PngMetadataStripper } from './png-metadata-stripper.ts';

/**
 * Strips JPEGs and PNGs by walking their segments and chunks, never re-encoding them. GIFs
 * (which have no EXIF, only comment extensions), HEIC/HEIF (whose EXIF and XMP are items in the
 * container, pointed at by offsets: removing one means rewriting the box tree) and documents are
 * stored as sent.
 */
export class JpegPngMetadataStripper implements MetadataStripper {
  transformFor(extension: AllowedExtension): Transform | undefined {
    switch (extension) {
      case 'jpg':
      case 'jpeg':
        return new JpegMetadataStripper();
      case 'png':
        return new PngMetadataStripper();
      default:
        return undefined;
    }
  }
}
