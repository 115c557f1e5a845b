import { randomBytes } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
import type { AllowedExtension } from '../../src/domain/file-types.ts';

/**
 * The smallest leading bytes that make each supported format recognisable by its content:
 * real signatures (JPEG SOI/JFIF, PNG signature + IHDR + IDAT, GIF89a, an ISO-BMFF `ftyp` box
 * with a HEIF brand, `%PDF-`, the OLE2 compound-file header, an OOXML zip whose
 * `[Content_Types].xml` names the main part). Files built from them are not viewable images or
 * documents, but every byte a type check looks at is what a real file would carry.
 */

const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export const jpegHead = () => Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]);

export const pngHead = () =>
  Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    // IHDR: 1×1, 8-bit RGBA
    u32be(13), Buffer.from('IHDR'), u32be(1), u32be(1), Buffer.from([8, 6, 0, 0, 0]), u32be(0),
    u32be(0), Buffer.from('IDAT'), u32be(0),
  ]);

export const gifHead = () => Buffer.concat([Buffer.from('GIF89a'), Buffer.from([1, 0, 1, 0, 0, 0, 0])]);

/** An ISO-BMFF `ftyp` box: HEIC brands are heic/heix (HEVC stills), mif1/msf1 (generic HEIF). */
export const heifHead = (majorBrand = 'heic', compatible = ['mif1', 'heic']) =>
  Buffer.concat([u32be(16 + 4 * compatible.length), Buffer.from('ftyp'), Buffer.from(majorBrand), u32be(0), ...compatible.map((b) => Buffer.from(b))]);

export const pdfHead = () => Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');

/** The OLE2 / compound file binary header that old .doc and .xls share. */
export const ole2Head = () => Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);

/** One zip local file entry, deflated as Office writes it. */
function zipEntry(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const compressed = deflateRawSync(data);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4); // version needed
  header.writeUInt16LE(0, 6); // flags
  header.writeUInt16LE(8, 8); // deflate
  header.writeUInt32LE(0, 10); // time, date
  header.writeUInt32LE(crc32(data), 14);
  header.writeUInt32LE(compressed.length, 18);
  header.writeUInt32LE(data.length, 22);
  header.writeUInt16LE(Buffer.byteLength(name), 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, Buffer.from(name), compressed]);
}

const MAIN_PART = {
  docx: ['word/document.xml', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml'],
  xlsx: ['xl/workbook.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml'],
  docm: ['word/document.xml', 'application/vnd.ms-word.document.macroEnabled.main+xml'],
} as const;

/**
 * The first entries of an OOXML package. Word and Excel write `[Content_Types].xml` first;
 * other writers put it last (`contentTypesFirst: false`), which leaves the head a plain zip.
 */
export function ooxmlHead(kind: keyof typeof MAIN_PART, options: { contentTypesFirst?: boolean } = {}): Buffer {
  const [partName, contentType] = MAIN_PART[kind];
  const contentTypes = zipEntry(
    '[Content_Types].xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      `<Default Extension="xml" ContentType="application/xml"/><Override PartName="/${partName}" ContentType="${contentType}"/></Types>`,
  );
  const main = zipEntry(partName, '<?xml version="1.0"?><document/>');
  return options.contentTypesFirst === false ? main : Buffer.concat([contentTypes, main]);
}

/** A plain zip whose first entry is a Windows executable: what a .docx must not be. */
export const zipOfExecutableHead = () => zipEntry('setup.exe', `MZ${'\0'.repeat(100)}`);

export const FILE_HEADS: Readonly<Record<AllowedExtension, () => Buffer>> = {
  jpg: jpegHead,
  jpeg: jpegHead,
  png: pngHead,
  gif: gifHead,
  heic: () => heifHead('heic'),
  heif: () => heifHead('mif1', ['mif1', 'heic']),
  pdf: pdfHead,
  doc: ole2Head,
  xls: ole2Head,
  docx: () => ooxmlHead('docx'),
  xlsx: () => ooxmlHead('xlsx'),
};

/** The head bytes of a file named `fileName`, for content-checked uploads. */
export function headFor(fileName: string): Buffer {
  const extension = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase() as AllowedExtension;
  const head = FILE_HEADS[extension];
  if (!head) throw new Error(`no file head for ${fileName}`);
  return head();
}

/** A file of `size` bytes (at least its head) that passes the content check for its name's extension. */
export function fileNamed(fileName: string, size = 1000): Buffer {
  const head = headFor(fileName);
  return Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]);
}

/** A file with a valid head for `fileName` followed by `tail` (text, for readable assertions). */
export function fileWithText(fileName: string, tail: string): Buffer {
  return Buffer.concat([headFor(fileName), Buffer.from(tail)]);
}

/** The start of a Linux executable. */
export const elfHead = () => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56)]);
