import mime from 'mime-types';
import type { MimeDetector } from '../../application/ports/mime-detector.ts';
import type { AllowedExtension } from '../../domain/file-types.ts';
import { UnsupportedFileType } from '../../domain/errors.ts';

/** The spec's rule, "MIME type is auto-detected from file extension", via the mime-db tables. */
export class ExtensionMimeDetector implements MimeDetector {
  headBytesFor(): number {
    return 0;
  }

  async detect(_fileName: string, extension: AllowedExtension): Promise<string> {
    const type = mime.lookup(extension);
    if (type === false) throw new UnsupportedFileType(`no MIME type is known for .${extension}`);
    return type;
  }
}
