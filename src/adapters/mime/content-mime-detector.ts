import { fileTypeFromBuffer } from 'file-type';
import type { MimeDetector } from '../../application/ports/mime-detector.ts';
import { UnsupportedFileType } from '../../domain/errors.ts';
import type { AllowedExtension } from '../../domain/file-types.ts';
import { ExtensionMimeDetector } from './extension-mime-detector.ts';

/**
 * What file-type may report (its `ext`) for content that honestly carries each extension.
 * - HEIC and HEIF: file-type reports `heic` for every HEIF brand (heic, heix, hevc, hevx,
 *   mif1, msf1); AVIF (brand avif), though HEIF-based, is another format and is refused.
 * - DOC and XLS are both OLE2 compound files (`cfb`): the container cannot tell them apart.
 * - DOCX and XLSX are zips. file-type names the document when `[Content_Types].xml` lies in
 *   the head (Word and Excel write it first) and says plain `zip` when the writer put it
 *   later. Either OOXML document is accepted under either name (both are harmless and open
 *   in the same office suites); macro-enabled documents (docm, xlsm), other zip formats
 *   (jar, apk, epub, odt, ...) and anything else are refused. A plain zip passes only when
 *   its first entry is an OOXML package part (see isOoxmlPackageStart).
 */
const CONTENT_TYPES_FOR: Readonly<Record<AllowedExtension, readonly string[]>> = {
  jpg: ['jpg'],
  jpeg: ['jpg'],
  png: ['png', 'apng'],
  gif: ['gif'],
  heic: ['heic'],
  heif: ['heic'],
  pdf: ['pdf'],
  doc: ['cfb'],
  xls: ['cfb'],
  docx: ['docx', 'xlsx', 'zip'],
  xlsx: ['xlsx', 'docx', 'zip'],
};

/**
 * Checks that a file's leading bytes are what its extension says (an HTML page or an
 * executable named `.jpg` is refused), using file-type's signatures rather than our own
 * tables; then returns the extension's MIME type, as ExtensionMimeDetector does, so the spec's
 * "auto-detected from file extension" still holds for every file that passes.
 */
/** file-type's `reasonableDetectionSizeInBytes`: enough for every signature it knows. */
const SIGNATURE_BYTES = 4100;

export class ContentMimeDetector implements MimeDetector {
  /**
   * file-type's signatures all lie within its 4,100-byte "reasonable detection size"; an OOXML
   * zip is told by its first entries (`[Content_Types].xml` is typically well under 2 KB
   * compressed), so docx and xlsx get more. Held, and joined, once per upload.
   */
  headBytesFor(extension: AllowedExtension): number {
    return extension === 'docx' || extension === 'xlsx' ? 64 * 1024 : SIGNATURE_BYTES;
  }
  readonly #byExtension = new ExtensionMimeDetector();

  async detect(fileName: string, extension: AllowedExtension, head: Uint8Array): Promise<string> {
    let detected: string | undefined;
    try {
      detected = (await fileTypeFromBuffer(head))?.ext;
    } catch {
      // file-type throws on some malformed containers; malformed content is not the claimed type.
      detected = undefined;
    }
    if (detected === 'zip' && !isOoxmlPackageStart(head)) detected = 'non-office zip';
    if (detected === undefined || !CONTENT_TYPES_FOR[extension].includes(detected)) {
      throw new UnsupportedFileType(
        detected === undefined
          ? `the content is not a .${extension} file`
          : `the content is ${detected.toUpperCase()}, not .${extension}`,
      );
    }
    return this.#byExtension.detect(fileName, extension);
  }
}

/**
 * Where the entries of an OOXML package live (ECMA-376 part 2, Open Packaging Conventions):
 * content types, relationships, properties, and the document's own folder.
 */
const OOXML_PART_PREFIXES = ['[Content_Types].xml', '_rels/', 'docProps/', 'customXml/', 'word/', 'xl/'];

/**
 * file-type reports a plain zip when the head does not reach `[Content_Types].xml`; the
 * first local file header's name (APPNOTE 4.3.7: name length at offset 26, name at 30) still
 * tells an office package from a zip of anything else, e.g. an executable renamed .docx.
 */
function isOoxmlPackageStart(head: Uint8Array): boolean {
  if (head.length < 30) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const nameLength = view.getUint16(26, true);
  const extraLength = view.getUint16(28, true);
  if (30 + nameLength + extraLength > head.length) return false;
  const name = new TextDecoder().decode(head.subarray(30, 30 + nameLength));
  return OOXML_PART_PREFIXES.some((prefix) => name.startsWith(prefix));
}
