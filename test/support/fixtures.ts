import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AllowedExtension } from '../../src/domain/file-types.ts';

/** Where the files made by real programs are (test/fixtures/README.md says how each was made). */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The MIME type attache answers for each extension: mime-db's, as the spec's "from file extension" wants. */
export const MIME_TYPE_OF: Readonly<Record<AllowedExtension, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** A file in test/fixtures/, written by a real program. */
export interface RealFile {
  /** Its name in test/fixtures/, which is also the name it is uploaded under. */
  readonly name: string;
  readonly path: string;
  readonly extension: AllowedExtension;
  /** What attache must answer for it: its extension's MIME type. */
  readonly mimeType: string;
  /** The program (and library) that wrote it. */
  readonly producer: string;
  /** What makes it a case of its own. */
  readonly notes: string;
}

function realFile(name: string, producer: string, notes: string): RealFile {
  const extension = name.slice(name.lastIndexOf('.') + 1) as AllowedExtension;
  return { name, path: `${FIXTURES_DIR}${name}`, extension, mimeType: MIME_TYPE_OF[extension], producer, notes };
}

export const REAL_FILES: readonly RealFile[] = [
  realFile('jpeg-imagemagick-baseline.jpg', 'ImageMagick 6.9.11', 'baseline JFIF, 4:2:0'),
  realFile('jpeg-imagemagick-progressive.jpg', 'ImageMagick 6.9.11', 'progressive JFIF'),
  realFile('jpeg-imagemagick-cmyk.jpg', 'ImageMagick 6.9.11', 'CMYK, Adobe APP14, no JFIF'),
  realFile('jpeg-exiftool-orientation6-gps.jpg', 'ImageMagick 6.9.11 + ExifTool 12.57', 'EXIF Orientation=6 (rotate 90° CW), GPS 48.8584 N 2.2945 E, Make/Model/DateTimeOriginal'),
  realFile('jpeg-pillow-420.jpeg', 'Pillow 9.4.0', 'baseline JFIF, 4:2:0 (subsampling=2); the .jpeg extension'),
  realFile('jpeg-go.jpg', 'Go 1.19 image/jpeg', 'no APP0/JFIF segment: SOI is followed by DQT'),
  realFile('png-imagemagick-8bit.png', 'ImageMagick 6.9.11', '8-bit RGB'),
  realFile('png-imagemagick-16bit.png', 'ImageMagick 6.9.11', '16-bit RGB (PNG48)'),
  realFile('png-imagemagick-interlaced.png', 'ImageMagick 6.9.11', 'Adam7 interlaced, 8-bit RGB'),
  realFile('png-pillow-palette-transparent.png', 'Pillow 9.4.0', '4-bit palette with a tRNS transparent colour'),
  realFile('png-go.png', 'Go 1.19 image/png', '8-bit RGB, no ancillary chunks'),
  realFile('gif-imagemagick-static.gif', 'ImageMagick 6.9.11', 'one frame, GIF89a'),
  realFile('gif-imagemagick-animated.gif', 'ImageMagick 6.9.11', 'four frames, looping (NETSCAPE2.0)'),
  realFile('gif-go-animated.gif', 'Go 1.19 image/gif', 'six frames, Plan 9 palette, looping'),
  realFile('heic-libheif-x265.heic', 'libheif 1.15.1 heif-enc, x265 3.5', 'HEVC, brands heic/mif1/miaf, with a thumbnail: what iPhones write'),
  realFile('heif-libheif-x265.heif', 'libheif 1.15.1 heif-enc, x265 3.5', 'HEVC in a file named .heif (brand heic)'),
  realFile('heif-libheif-aom-avif.heif', 'libheif 1.15.1 heif-enc -A, aom 3.6.0', 'AV1 (brands avif/mif1/miaf) named .heif: file-type says avif'),
  realFile('pdf-libreoffice.pdf', 'LibreOffice 7.4.7 writer_pdf_Export', 'PDF 1.6, embedded fonts'),
  realFile('pdf-ghostscript.pdf', 'Ghostscript 10.00.0 pdfwrite', 'PDF 1.7 from PostScript'),
  realFile('pdf-qpdf-linearized.pdf', 'qpdf 11.3.0 --linearize', 'linearized ("fast web view") LibreOffice PDF'),
  realFile('pdf-pillow.pdf', 'Pillow 9.4.0', 'PDF 1.4, one JPEG-coded image page'),
  realFile('doc-libreoffice.doc', 'LibreOffice 7.4.7 (MS Word 97)', 'CFB; directory at the end of the file'),
  realFile('xls-libreoffice.xls', 'LibreOffice 7.4.7 (MS Excel 97)', 'CFB; directory at the end of the file'),
  realFile('docx-libreoffice.docx', 'LibreOffice 7.4.7 (MS Word 2007 XML)', '[Content_Types].xml not first (_rels/.rels is)'),
  realFile('docx-docx-npm.docx', 'docx 9.15.2 (npm)', '[Content_Types].xml not first (word/_rels/... is)'),
  realFile('xlsx-libreoffice.xlsx', 'LibreOffice 7.4.7 (Calc Office Open XML)', '[Content_Types].xml not first (_rels/.rels is)'),
  realFile('xlsx-sheetjs.xlsx', 'SheetJS xlsx 0.18.5 (npm)', '[Content_Types].xml not first (xl/_rels/... is)'),
  realFile('xlsx-exceljs.xlsx', 'ExcelJS 4.4.0 (npm)', '[Content_Types].xml first, as Excel writes it'),
  realFile('xlsx-xlsx-populate.xlsx', 'xlsx-populate 1.21.0 (npm)', '[Content_Types].xml not first (_rels/.rels is)'),
  realFile('docx-libreoffice-password.docx', 'LibreOffice 7.4.7 over UNO (EncryptionData)', 'password "secret": CFB, standard encryption (AES-128), directory at the end'),
  realFile('xlsx-libreoffice-password.xlsx', 'LibreOffice 7.4.7 over UNO (EncryptionData)', 'password "secret": CFB, standard encryption (AES-128), directory at the end'),
  realFile('xlsx-xlsx-populate-password.xlsx', 'xlsx-populate 1.21.0 (npm) outputAsync({ password })', 'password "secret": CFB, agile encryption, directory after the FAT, EncryptionInfo last'),
  realFile('docx-officecrypto-tool-password.docx', 'officecrypto-tool 0.0.19 (npm) encrypt()', 'password "secret" on LibreOffice\'s DOCX: CFB, agile encryption'),
];

export function readRealFile(file: RealFile): Promise<Buffer> {
  return readFile(file.path);
}

/** The name a Windows camera or scanner would give: the whole name upper-cased (`PHOTO.JPG`, `REPORT.PDF`). */
export function upperCaseNameOf(file: RealFile): string {
  return file.name.toUpperCase();
}

/** The first fixture of each allowed extension: real content for a contract that needs one of each. */
export function oneRealFilePerExtension(): ReadonlyMap<AllowedExtension, RealFile> {
  const byExtension = new Map<AllowedExtension, RealFile>();
  for (const file of REAL_FILES) if (!byExtension.has(file.extension)) byExtension.set(file.extension, file);
  return byExtension;
}
