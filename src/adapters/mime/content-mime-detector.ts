import { fileTypeFromBuffer } from 'file-type';
import type { MimeDetector } from '../../application/ports/mime-detector.ts';
import { UnsupportedFileType } from '../../domain/errors.ts';
import type { AllowedExtension } from '../../domain/file-types.ts';
import { ExtensionMimeDetector } from './extension-mime-detector.ts';
import { compoundFileMismatch, mayBeCompoundFile } from './office-compound-file.ts';

/**
 * What file-type may report (its `ext`) for content that honestly carries each extension.
 * - HEIC and HEIF: file-type reports `heic` for every HEIF brand (heic, heix, hevc, hevx,
 *   mif1, msf1). It reports `avif` for AV1-coded HEIF (brand avif or avis), which `.heif`
 *   accepts when the file also declares the HEIF structural brand, mif1 or msf1, as AVIF files
 *   must: it is a HEIF file per ISO/IEC 23008-12 (libheif writes it as `heif-enc -A -o x.heif`,
 *   sharp and libheif decode it). `.heic` names HEVC coding, so AVIF stays refused there.
 * - DOC and XLS are both OLE2 compound files (`cfb`): the container cannot tell them apart;
 *   its directory, when the head holds it, can (see compoundFileMismatch).
 * - DOCX and XLSX are zips. file-type names the document when it finds the package's parts in
 *   the head and says plain `zip` otherwise. Either OOXML document is accepted under either
 *   name (both are harmless and open in the same office suites); macro-enabled documents
 *   (docm, xlsm), other zip formats (jar, apk, epub, odt, ...) and anything else are refused. A
 *   plain zip passes only when its first entry is an OOXML package part (see
 *   isOoxmlPackageStart). A password-protected DOCX or XLSX is a compound file (`cfb`) holding
 *   the encrypted zip, accepted when its directory says so (see compoundFileMismatch).
 */
const CONTENT_TYPES_FOR: Readonly<Record<AllowedExtension, readonly string[]>> = {
  jpg: ['jpg'],
  jpeg: ['jpg'],
  png: ['png', 'apng'],
  gif: ['gif'],
  heic: ['heic'],
  heif: ['heic', 'avif'],
  pdf: ['pdf'],
  doc: ['cfb'],
  xls: ['cfb'],
  docx: ['docx', 'xlsx', 'zip', 'cfb'],
  xlsx: ['xlsx', 'docx', 'zip', 'cfb'],
};

/** file-type's `reasonableDetectionSizeInBytes`: enough for every signature it knows. */
const SIGNATURE_BYTES = 4100;
/**
 * Office documents get more: an OOXML zip is told by its first entries (`[Content_Types].xml`
 * is typically well under 2 KB compressed, but several writers put other parts first), and a
 * compound file by its directory, which this reaches in Office's files, in LibreOffice's under
 * 64 KiB, and in those of the SheetJS `cfb` package up to about 8 MB (see compoundFileMismatch
 * for what happens when it lies beyond).
 */
const OFFICE_HEAD_BYTES = 64 * 1024;

/**
 * Checks that a file's leading bytes are what its extension says (an HTML page or an
 * executable named `.jpg` is refused), using file-type's signatures rather than our own
 * tables; then returns the extension's MIME type, as ExtensionMimeDetector does, so the spec's
 * "auto-detected from file extension" still holds for every file that passes.
 */
export class ContentMimeDetector implements MimeDetector {
  /** Held, and joined, once per upload: no more than the check needs. */
  headBytesFor(extension: AllowedExtension): number {
    return mayBeCompoundFile(extension) ? OFFICE_HEAD_BYTES : SIGNATURE_BYTES;
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
    const mismatch = containerMismatch(detected, extension, head);
    if (mismatch !== undefined) throw new UnsupportedFileType(mismatch);
    return this.#byExtension.detect(fileName, extension);
  }
}

/** For containers that hold more than one kind of thing: why this one is not a `.extension`, if it is not. */
function containerMismatch(detected: string, extension: AllowedExtension, head: Uint8Array): string | undefined {
  if (detected === 'cfb' && mayBeCompoundFile(extension)) return compoundFileMismatch(extension, head);
  if (detected === 'avif' && !declaresHeifBrand(head)) return `the content is AVIF without the HEIF brand mif1 or msf1, not .${extension}`;
  return undefined;
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

/** HEIF's structural brands (ISO/IEC 23008-12 10.2): an image file (mif1) or image sequence (msf1). */
const HEIF_STRUCTURAL_BRANDS = ['mif1', 'msf1'];

/** Whether the ISO-BMFF `ftyp` box at the start of `head` lists a HEIF brand, as major or compatible brand. */
function declaresHeifBrand(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const boxEnd = Math.min(view.getUint32(0), head.length);
  const brandAt = (at: number) => new TextDecoder('latin1').decode(head.subarray(at, at + 4));
  // major brand at 8, minor version at 12, compatible brands from 16 to the box's end
  const brands = [brandAt(8)];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(brandAt(at));
  return brands.some((brand) => HEIF_STRUCTURAL_BRANDS.includes(brand));
}
