import type { AllowedExtension } from '../../domain/file-types.ts';
import { readCompoundFileDirectory, type CompoundFileEntry } from './compound-file.ts';

/** The office extensions whose files can honestly be compound files (CFB). */
export type CompoundFileExtension = Extract<AllowedExtension, 'doc' | 'xls' | 'docx' | 'xlsx'>;

export function mayBeCompoundFile(extension: AllowedExtension): extension is CompoundFileExtension {
  return extension === 'doc' || extension === 'xls' || extension === 'docx' || extension === 'xlsx';
}

/**
 * Why a compound file is not a `.extension` document, or undefined when it may well be one.
 *
 * - `.docx` / `.xlsx`: Word and Excel (and LibreOffice, xlsx-populate, officecrypto-tool) save a
 *   password-protected document as a CFB holding an `EncryptedPackage` stream (the encrypted
 *   zip) and an `EncryptionInfo` stream ([MS-OFFCRYPTO] 2.3.4.4), under the same extension.
 *   Such a file is accepted; its content is opaque until the recipient's office suite decrypts
 *   it. Any other CFB (a .doc or .xls, a macro-bearing one included, or an .msi) is refused.
 *   When the directory lies past the head (LibreOffice writes it last, so any but the smallest
 *   of its files), the head is searched for the start of the EncryptionInfo stream instead,
 *   which LibreOffice and Office write before the package: it is accepted only when found.
 *   A writer that puts both after the head is refused: the SheetJS `cfb` package puts its
 *   directory after the FAT, which passes 64 KiB (the detector's head) only for files over
 *   about 8 MB, and its EncryptionInfo last.
 * - `.doc` / `.xls`: the CFB is what these are, so it is refused only when the head holds the
 *   whole directory and the directory lacks the format's main stream (`WordDocument`; `Workbook`,
 *   or `Book` in Excel 5/95 files). Word, Excel and LibreOffice write the directory at the end,
 *   so larger files pass on their container alone, as they did before; a malformed header, which
 *   no reader would open either, is not refused here (the check stays on file-type's verdict).
 */
export function compoundFileMismatch(extension: CompoundFileExtension, head: Uint8Array): string | undefined {
  const directory = readCompoundFileDirectory(head);
  if (extension === 'doc' || extension === 'xls') {
    if (directory.outcome !== 'read') return undefined;
    const mainStreams = extension === 'doc' ? ['WordDocument'] : ['Workbook', 'Book'];
    return mainStreams.some((name) => hasStream(directory.entries, name))
      ? undefined
      : `the content is CFB without a ${mainStreams[0]} stream, not .${extension}`;
  }
  switch (directory.outcome) {
    case 'malformed':
      return `the content is a malformed CFB (${directory.reason}), not .${extension}`;
    case 'read':
      return hasStream(directory.entries, 'EncryptedPackage') && hasStream(directory.entries, 'EncryptionInfo')
        ? undefined
        : `the content is CFB without an encrypted package, not .${extension}`;
    case 'beyond head':
      return holdsEncryptionInfoStart(head)
        ? undefined
        : `the content is CFB whose directory lies past the first ${head.length} bytes, with no encryption header before it; not .${extension}`;
  }
}

function hasStream(entries: readonly CompoundFileEntry[], name: string): boolean {
  return entries.some((entry) => entry.type === 'stream' && entry.name === name);
}

/** Mini sectors are 64 bytes, and sectors start at multiples of 512: every stream starts on a multiple of 64. */
const STREAM_ALIGNMENT = 64;
/** AES-128, -192, -256: the only ciphers of ECMA-376 standard encryption ([MS-OFFCRYPTO] 2.3.4.5). */
const AES_ALGORITHM_IDS = new Set([0x660e, 0x660f, 0x6610]);
const FLAG_CRYPTOAPI = 0x04;
const FLAG_AES = 0x20;
const AGILE_XML_STARTS = ['<?xml', '<encryption'];

/**
 * Whether a stream in `head` starts with an EncryptionInfo of ECMA-376 encryption: agile
 * ([MS-OFFCRYPTO] 2.3.4.10: version 4.4, reserved 0x40, then the XML descriptor) or standard
 * (2.3.4.6: version 2, 3 or 4 .2, flags fCryptoAPI and fAES, repeated in the header that
 * follows, no extra data, an AES algorithm). Nine to twenty-four fixed bytes at a stream start:
 * nothing that is not an EncryptionInfo carries them there by chance.
 */
function holdsEncryptionInfoStart(head: Uint8Array): boolean {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  for (let at = 512; at + 36 <= head.length; at += STREAM_ALIGNMENT) {
    const major = view.getUint16(at, true);
    const minor = view.getUint16(at + 2, true);
    const flags = view.getUint32(at + 4, true);
    if (major === 4 && minor === 4 && flags === 0x40) {
      const text = new TextDecoder('latin1').decode(head.subarray(at + 8, at + 20));
      if (AGILE_XML_STARTS.some((start) => text.startsWith(start))) return true;
    }
    const isStandard =
      (major === 2 || major === 3 || major === 4) &&
      minor === 2 &&
      (flags & (FLAG_CRYPTOAPI | FLAG_AES)) === (FLAG_CRYPTOAPI | FLAG_AES) &&
      view.getUint32(at + 12, true) === flags &&
      view.getUint32(at + 16, true) === 0 &&
      AES_ALGORITHM_IDS.has(view.getUint32(at + 20, true));
    if (isStandard) return true;
  }
  return false;
}
